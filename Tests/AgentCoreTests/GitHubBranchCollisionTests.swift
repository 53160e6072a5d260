import AgentCore
import CATestSupport
import Foundation
import Testing

/// `--open-pr` never takes over a branch it did not create: when `ca/<id>` already exists on the
/// remote, the push's lease refuses it, the task fails with the reason, and the branch is untouched.
@Suite(.serialized) struct GitHubBranchCollisionTests {
    @Test func anExistingBranchIsNeverOverwritten() async throws {
        let github = try FakeGitHub()
        try await github.start()
        defer { Task { try? await github.stop() } }
        let token = "ghp_collision" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        github.addToken(token, user: "alice")
        try await github.createRepository(owner: "alice", name: "app", files: ["README.md": "# App\n"])
        let h = try await EngineHarness.make(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/new.txt", "content": "from the agent\n"]),
            .text("Wrote new.txt."),
        ], extra: ["GH_TOKEN": token, "GITHUB_SERVER_URL": github.serverURL.absoluteString, "GITHUB_API_URL": github.apiURL.absoluteString])
        defer { Task { await h.cleanup() } }

        var request = TaskRequest(prompt: "write new.txt", repository: "alice/app", timeoutSeconds: 120)
        request.github = GitHubTaskOptions(openPullRequest: .init())
        let task = try await h.service.create(request)
        #expect(task.repositoryURL == github.serverURL.absoluteString + "/alice/app.git")
        // Someone (another run, a person) already has a branch of that name.
        let theirs = try await github.commit(owner: "alice", name: "app", branch: "ca/\(task.id)", files: ["theirs.txt": "keep me\n"])

        let done = try await h.run(task)
        #expect(done.status == .failed)
        #expect(done.error?.contains("branch ca/\(task.id) already exists") == true, "\(done.error ?? "-")")
        #expect(done.error?.contains("changes are saved") == true)
        #expect(done.pullRequestURL == nil)
        #expect(try await github.branchHead(owner: "alice", name: "app", branch: "ca/\(task.id)") == theirs)
        #expect(github.pullRequests(owner: "alice", name: "app").isEmpty)
        // The agent's work is kept all the same.
        #expect(h.file(done, "files/new.txt") == "from the agent\n")
    }

    @Test func resumeNeverPushesOverSomeoneElsesCommit() async throws {
        let github = try FakeGitHub()
        try await github.start()
        defer { Task { try? await github.stop() } }
        let token = "ghp_resume" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        github.addToken(token, user: "alice")
        try await github.createRepository(owner: "alice", name: "app", files: ["README.md": "# App\n"])
        let h = try await EngineHarness.make(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/a.txt", "content": "a\n"]),
            .text("Wrote a."),
            .toolUse("Write", ["file_path": "{{cwd}}/b.txt", "content": "b\n"]),
            .text("Wrote b."),
        ], extra: ["GH_TOKEN": token, "GITHUB_SERVER_URL": github.serverURL.absoluteString, "GITHUB_API_URL": github.apiURL.absoluteString])
        defer { Task { await h.cleanup() } }

        var request = TaskRequest(prompt: "write a.txt", repository: "alice/app", timeoutSeconds: 120)
        request.github = GitHubTaskOptions(openPullRequest: .init())
        let first = try await h.run(try await h.service.create(request))
        #expect(first.status == .succeeded, "\(first.error ?? "-")")
        let number = try #require(first.pullRequestNumber)
        // A person pushes onto ca's branch.
        let theirs = try await github.commit(owner: "alice", name: "app", branch: "ca/\(first.id)", files: ["human.txt": "mine\n"])

        let child = try await h.service.resume(first.id, TaskResumeRequest(prompt: "write b.txt", openPullRequest: .init()))
        #expect(child.pullRequestNumber == number)
        let done = try await h.run(child)
        #expect(done.status == .failed)
        #expect(done.error?.contains("has a commit ca did not make") == true, "\(done.error ?? "-")")
        #expect(try await github.branchHead(owner: "alice", name: "app", branch: "ca/\(first.id)") == theirs)
        #expect(h.file(done, "files/b.txt") == "b\n")
    }
}
