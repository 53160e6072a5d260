import Foundation

/// Runs the real `git http-backend` CGI for one smart-HTTP request of a ``FakeGitHub``.
///
/// The request body goes to a temporary file that becomes the CGI's standard input; the CGI's
/// output (a `Status:` line and headers, a blank line, the body) is read once it ended. The
/// process is waited for on a thread of its own (``HostProcess``), never on the cooperative pool.
/// `git` itself handles a gzip-encoded body (`HTTP_CONTENT_ENCODING`).
struct FakeGitHubGitBackend: Sendable {
    /// The `git-http-backend` executable.
    var executable: String
    /// The folder holding `owner/name.git` bare repositories (`GIT_PROJECT_ROOT`).
    var projectRoot: URL
    /// Where request bodies are spooled.
    var spool: URL

    /// Serves `request` for the repository at `repoPath` (e.g. `/octo/demo.git`); `rest` is the
    /// path after it (e.g. `/info/refs`).
    func serve(_ request: HTTPRequest, repoPath: String, rest: String, user: String) async throws -> FakeGitHubResponse {
        let bodyFile = try FakeGitHubGit.temporaryFile(request.body, in: spool)
        defer { try? FileManager.default.removeItem(atPath: bodyFile) }
        let query = request.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        var env = FakeGitHubGit.environment([
            "GIT_PROJECT_ROOT": projectRoot.path,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_HTTP_MAX_REQUEST_BUFFER": "100M",
            "PATH_INFO": repoPath + rest,
            "QUERY_STRING": query,
            "REQUEST_METHOD": request.method,
            "CONTENT_TYPE": request.header("content-type") ?? "",
            "CONTENT_LENGTH": String(request.body.count),
            "REMOTE_USER": user,
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
        ])
        if let encoding = request.header("content-encoding") { env["HTTP_CONTENT_ENCODING"] = encoding }
        if let protocolHeader = request.header("git-protocol") { env["GIT_PROTOCOL"] = protocolHeader }
        let output = try await FakeGitHubGit.runProgram(executable, [], environment: env, stdinFile: bodyFile, timeout: .seconds(300))
        guard output.status == 0 || !output.stdout.isEmpty else {
            return .text(500, "git http-backend failed: \(output.stderrText)\n")
        }
        return Self.parseCGI(output.stdout)
    }

    /// Splits CGI output into status, headers and body.
    static func parseCGI(_ data: Data) -> FakeGitHubResponse {
        let bytes = [UInt8](data)
        var headerEnd = bytes.count, bodyStart = bytes.count
        for index in bytes.indices where bytes[index] == 0x0A {
            if index + 1 < bytes.count, bytes[index + 1] == 0x0A {
                headerEnd = index; bodyStart = index + 2; break
            }
            if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A {
                headerEnd = index; bodyStart = index + 3; break
            }
        }
        let headerText = String(decoding: bytes[..<headerEnd], as: UTF8.self)
        var status = 200
        var headers: [(String, String)] = []
        for line in headerText.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "status" {
                status = Int(value.prefix(3)) ?? 500
            } else {
                headers.append((name, value))
            }
        }
        let body = bodyStart <= bytes.count ? Data(bytes[bodyStart...]) : Data()
        return FakeGitHubResponse(status: status, headers: headers, body: body)
    }
}

/// A complete response of the ``FakeGitHub``, built before it is sent (so it can be logged).
struct FakeGitHubResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: Data

    /// A `text/plain` response.
    static func text(_ status: Int, _ text: String, headers: [(String, String)] = []) -> FakeGitHubResponse {
        FakeGitHubResponse(status: status, headers: [("content-type", "text/plain; charset=utf-8")] + headers, body: Data(text.utf8))
    }

    /// A JSON response.
    static func json(_ status: Int, _ value: FakeJSON, headers: [(String, String)] = []) -> FakeGitHubResponse {
        FakeGitHubResponse(status: status, headers: [("content-type", "application/json; charset=utf-8")] + headers, body: value.jsonData)
    }
}
