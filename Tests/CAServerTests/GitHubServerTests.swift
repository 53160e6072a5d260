import CAServer
import CATestSupport
import Foundation
import SandboxClient
import Testing

/// `--open-pr` and `ca pr review` through `ca serve`: the remote CLI has no GitHub token, the
/// server uses its own against a fake GitHub (REST, and git over `git http-backend`).
@Suite(.serialized) struct GitHubServerTests {
    static let token = "ghs_" + UUID().uuidString.replacingOccurrences(of: "-", with: "") + "srv1"

    @Test func openPRAndReviewsWorkThroughTheServerWithItsToken() async throws {
        let github = try FakeGitHub()
        try await github.start()
        defer { Task { try? await github.stop() } }
        github.addToken(Self.token, user: "ci-bot")
        try await github.createRepository(owner: "acme", name: "api", isPrivate: true, files: ["main.go": "package main\n"],
                                          collaborators: ["ci-bot"])
        try await github.commit(owner: "acme", name: "api", branch: "feature", files: ["main.go": "package main\n\nfunc main() {}\n"])
        let number = try await github.openPullRequest(owner: "acme", name: "api", title: "Add main", head: "feature", author: "erin")
        let review = #"{"summary":"Small and fine.","comments":[{"path":"main.go","line":3,"side":"RIGHT","body":"Say hello?"}]}"#
        let s = try await ServerHarness.start(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/VERSION", "content": "1.0.0\n"]),
            .text("Added VERSION."),
            .toolUse("Bash", ["command": .string("cat > ../review.json <<'EOF'\n\(review)\nEOF"), "description": "write the review"]),
            .text("Reviewed."),
        ], configuration: ServerConfiguration(port: 0, allowLocalBackend: true, allowLocalRepositories: false), extraEnvironment: [
            "GH_TOKEN": Self.token,
            "GITHUB_SERVER_URL": github.serverURL.absoluteString,
            "GITHUB_API_URL": github.apiURL.absoluteString,
        ])
        defer { Task { await s.cleanup() } }
        let key = try await s.key("dana")
        let home = s.root.appendingPathComponent("client-home")
        let environment = [
            "CA_HOME": home.path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "CA_SERVER": "http://127.0.0.1:\(s.port)",
            "CA_TOKEN": key,
        ]
        let created = try await HostProcess.run(CABinary.path, ["task", "create", "add a VERSION file", "--repo", "acme/api", "--open-pr",
                                                                "--sandbox", "local", "--json"], environment: environment, timeout: .seconds(180))
        #expect(created.status == 0, "stdout: \(created.stdoutText)\nstderr: \(created.stderrText)")
        let task = (try? JSONSerialization.jsonObject(with: created.stdout)) as? [String: Any] ?? [:]
        let id = try #require(task["id"] as? String, "\(created.stdoutText)")
        let prNumber = try #require(task["pull_request_number"] as? Int, "\(created.stdoutText)")
        let pull = try #require(github.pullRequest(owner: "acme", name: "api", number: prNumber))
        #expect(pull.head == "ca/\(id)" && pull.author == "ci-bot")
        #expect(try await github.branchHead(owner: "acme", name: "api", branch: "ca/\(id)") != nil)

        let reviewed = try await HostProcess.run(CABinary.path, ["pr", "review", String(number), "--repo", "acme/api", "--post", "--sandbox", "local",
                                                                 "--json"], environment: environment, timeout: .seconds(180))
        #expect(reviewed.status == 0, "stdout: \(reviewed.stdoutText)\nstderr: \(reviewed.stderrText)")
        let reviewTask = (try? JSONSerialization.jsonObject(with: reviewed.stdout)) as? [String: Any] ?? [:]
        #expect((reviewTask["review_url"] as? String)?.contains("#pullrequestreview-") == true, "\(reviewed.stdoutText)")
        let posted = github.reviews(owner: "acme", name: "api", number: number)
        #expect(posted.count == 1)
        #expect(posted.first?.event == "COMMENT" && posted.first?.comments.count == 1)

        // The server's token is not in its store, its task folders, or anything the client got.
        let all = try Data(contentsOf: s.root.appendingPathComponent("home/ca.sqlite"))
        #expect(all.range(of: Data(Self.token.utf8)) == nil)
        for output in [created.stdoutText, created.stderrText, reviewed.stdoutText, reviewed.stderrText] { #expect(!output.contains(Self.token)) }
    }
}
