// Keeps the CATestSupport target non-empty.
