import CATestSupport
import Foundation
import Testing

/// `ca task apply`: a task's changes (new, modified, deleted and binary files, a symbolic link)
/// into a checkout on this machine, and every refusal leaving the checkout as it was.
@Suite(.serialized) struct TaskApplyCLITests {
    static let apiKey = "sk-ant-apply-SECRET-\(UUID().uuidString.prefix(8))"

    /// `git status --porcelain` and the content of every file, to see that nothing changed.
    static func snapshot(_ checkout: URL) throws -> String {
        let status = try GitFixture.git(["-C", checkout.path, "status", "--porcelain", "--untracked-files=all"])
        let files = try GitFixture.git(["-C", checkout.path, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
            .split(separator: "\0").sorted().map { path in
                "\(path)=\((try? Data(contentsOf: checkout.appendingPathComponent(String(path))))?.base64EncodedString() ?? "-")"
            }
        return status + files.joined(separator: "\n")
    }

    @Test func aTasksChangesApplyToACheckoutAndRefusalsChangeNothing() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-apply-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let fixture = try GitFixture.make(in: root.appendingPathComponent("git"))
        let fake = FakeAnthropicServer(script: [
            .toolUse("Bash", ["command": "printf 'version 2\\n' > src/app.txt && rm README.md && printf '\\000\\001\\002binary' > data.bin && mkdir -p docs && printf 'new\\n' > docs/new.md && ln -s /etc/passwd passwd-link",
                              "description": "change things"]),
            .text("Changed."),
        ])
        try await fake.start()
        defer { Task { try? await fake.stop() } }
        let cli = try CLI.local(root: root, fake: fake, apiKey: Self.apiKey)
        let created = try await cli.run(["task", "create", "change things", "--repo", fixture.bare.path, "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let id = try #require(created.json?["id"] as? String)

        // A clean checkout: every kind of change lands; the link is reported, not created.
        let clean = root.appendingPathComponent("clean")
        _ = try GitFixture.git(["clone", "-q", fixture.bare.path, clean.path])
        let checked = try await cli.run(["task", "apply", id, "--check", "--directory", clean.path, "--json"])
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")
        #expect(checked.json?["applied"] as? Bool == false)
        #expect(Set(checked.json?["files"] as? [String] ?? []) == ["src/app.txt", "README.md", "data.bin", "docs/new.md"])
        #expect(try GitFixture.git(["-C", clean.path, "status", "--porcelain"]).isEmpty, "--check changed the checkout")
        let applied = try await cli.run(["task", "apply", id, "--directory", clean.path])
        #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
        #expect(applied.stdout.contains("applied the changes of task \(id)"))
        #expect(applied.stdout.contains("not created (a symbolic link): passwd-link"))
        #expect(try String(contentsOf: clean.appendingPathComponent("src/app.txt"), encoding: .utf8) == "version 2\n")
        #expect(!FileManager.default.fileExists(atPath: clean.appendingPathComponent("README.md").path))
        #expect(try Data(contentsOf: clean.appendingPathComponent("data.bin")) == Data([0, 1, 2]) + Data("binary".utf8))
        #expect(try String(contentsOf: clean.appendingPathComponent("docs/new.md"), encoding: .utf8) == "new\n")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: clean.appendingPathComponent("passwd-link").path)) == nil)

        // Unrelated local changes stay and the task's changes apply beside them.
        let busy = root.appendingPathComponent("busy")
        _ = try GitFixture.git(["clone", "-q", fixture.bare.path, busy.path])
        try Data("my notes\n".utf8).write(to: busy.appendingPathComponent("NOTES.txt"))
        let beside = try await cli.run(["task", "apply", id, "--directory", busy.path])
        #expect(beside.status == 0, "\(beside.stdout) \(beside.stderr)")
        #expect(try String(contentsOf: busy.appendingPathComponent("NOTES.txt"), encoding: .utf8) == "my notes\n")
        #expect(try String(contentsOf: busy.appendingPathComponent("src/app.txt"), encoding: .utf8) == "version 2\n")

        // A conflicting local change: refused, nothing changed.
        let conflict = root.appendingPathComponent("conflict")
        _ = try GitFixture.git(["clone", "-q", fixture.bare.path, conflict.path])
        try Data("my version\n".utf8).write(to: conflict.appendingPathComponent("src/app.txt"))
        let before = try Self.snapshot(conflict)
        let refused = try await cli.run(["task", "apply", id, "--directory", conflict.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("do not apply") && refused.stderr.contains("nothing was changed"), "\(refused.stderr)")
        #expect(try Self.snapshot(conflict) == before)

        // --3way: the same conflict, committed here, is merged as git does: conflict markers left, exit 1, the file named.
        let diverged = root.appendingPathComponent("diverged")
        _ = try GitFixture.git(["clone", "-q", fixture.bare.path, diverged.path])
        try Data("my version\n".utf8).write(to: diverged.appendingPathComponent("src/app.txt"))
        _ = try GitFixture.git(["-C", diverged.path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "mine"])
        let plainApply = try await cli.run(["task", "apply", id, "--directory", diverged.path])
        #expect(plainApply.status == 1 && plainApply.stderr.contains("(try --3way)"), "\(plainApply.stderr)")
        let merged = try await cli.run(["task", "apply", id, "--3way", "--directory", diverged.path, "--json"])
        #expect(merged.status == 1, "\(merged.stdout) \(merged.stderr)")
        #expect(merged.json?["conflicts"] as? [String] == ["src/app.txt"], "\(merged.stdout)")
        let marked = try String(contentsOf: diverged.appendingPathComponent("src/app.txt"), encoding: .utf8)
        #expect(marked.contains("<<<<<<<") && marked.contains("version 2") && marked.contains("my version"))
        #expect(try String(contentsOf: diverged.appendingPathComponent("docs/new.md"), encoding: .utf8) == "new\n")

        // Another repository: refused, nothing changed.
        let other = root.appendingPathComponent("other")
        _ = try GitFixture.git(["init", "-q", "-b", "main", other.path])
        try Data("other\n".utf8).write(to: other.appendingPathComponent("src.txt"))
        _ = try GitFixture.git(["-C", other.path, "add", "-A"])
        _ = try GitFixture.git(["-C", other.path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "other"])
        let otherBefore = try Self.snapshot(other)
        let wrong = try await cli.run(["task", "apply", id, "--directory", other.path, "--json"])
        #expect(wrong.status == 1)
        #expect((wrong.json?["error"] as? String)?.contains("does not hold the task's base commit") == true, "\(wrong.stdout)")
        #expect(try Self.snapshot(other) == otherBefore)

        // Not a checkout at all, and an unknown task.
        let plain = root.appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: plain, withIntermediateDirectories: true)
        #expect(try await cli.run(["task", "apply", id, "--directory", plain.path]).status == 1)
        #expect(try await cli.run(["task", "apply", "zzzzzzzz", "--directory", clean.path]).status == 10)
    }
}
