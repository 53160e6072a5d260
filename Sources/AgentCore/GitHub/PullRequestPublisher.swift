import Foundation
import GitHubClient

/// `--open-pr`: ca itself (never the agent) turns a task's saved patch into a commit on the
/// branch `ca/<task id>`, pushes it, and opens a pull request, or, for a resumed task whose
/// parent opened one, pushes onto the same branch and updates that pull request.
///
/// Everything happens on this machine, in a scratch repository (``ScratchGit``) holding only what is fetched:
/// the task's base commit (and the branch's current head when updating). The patch is applied
/// to the index alone (`git apply --cached`), so no file of the patch is ever written to disk,
/// and the push carries a lease: a new branch must not exist yet, an updated one must still be
/// where ca left it.
struct PullRequestPublisher {
    let access: GitHubAccess
    let paths: CAPaths

    /// What publishing did.
    enum Outcome: Sendable, Equatable {
        /// The patch was empty (or changed nothing on the branch): no pull request.
        case noChanges
        case opened(url: String, number: Int, branch: String)
        case updated(url: String, number: Int, branch: String)
    }

    /// Longest one git command may take.
    static let commandTimeout: Duration = .seconds(300)

    /// Publishes the changes of `task`, whose patch is in its task folder.
    /// - Parameter earlier: the tasks of a resume chain before `task`, oldest first (for the body).
    func publish(_ task: TaskRecord, options: GitHubTaskOptions.OpenPullRequest, result: String?,
                 earlier: [(id: String, prompt: String)] = []) async throws(TaskError) -> Outcome {
        guard let repository = access.repository(inURL: task.repositoryURL) else {
            throw TaskError.invalidArgument("--open-pr needs a repository on \(access.configuration.serverURL.absoluteString), not \(task.repositoryURL)")
        }
        try access.requireToken(for: "opening a pull request")
        guard let base = task.baseCommit, Self.isObjectID(base) else { throw TaskError.step("opening a pull request: the task has no base commit") }
        let patchURL = paths.taskFolder(task.id).appendingPathComponent("patch.diff")
        let patch = try await BlockingIO.run { () throws(TaskError) in try? Data(contentsOf: patchURL) } ?? Data()
        guard !patch.isEmpty else { return .noChanges }

        let branch = task.pullRequestBranch ?? "ca/\(task.id)"
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ca-publish-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let git = try ScratchGit(folder: scratch, remote: task.repositoryURL, configuration: access.gitConfiguration(for: task.repositoryURL))
        try await git.run(["init", "--quiet", "."], what: "prepare a scratch repository", network: false)

        // The branch's head when updating (it must exist: ca pushed it), else nothing.
        var previousHead: String?
        if task.pullRequestNumber != nil {
            let heads = try await git.run(["ls-remote", "--heads", "--", task.repositoryURL, "refs/heads/\(branch)"], what: "look up branch \(branch)")
            previousHead = heads.split(separator: "\t").first.map(String.init).flatMap { Self.isObjectID($0) ? $0 : nil }
        }
        var wanted = [base]
        if let previousHead { wanted.append(previousHead) }
        try await git.run(["fetch", "--quiet", "--no-tags", "--depth=1", "--", task.repositoryURL] + wanted, what: "fetch the base commit")

        // ca builds on the branch only when its head is a commit ca made: the new tree is base + the
        // whole patch, so building on someone else's commit would silently undo their changes.
        if let previousHead {
            let message = try await git.run(["show", "-s", "--format=%B", previousHead], what: "read the head of \(branch)", network: false)
            guard message.contains("\n\(Self.trailer)") else {
                throw TaskError.github(.rejected, "branch \(branch) on \(repository) has a commit ca did not make (\(previousHead.prefix(12))): "
                                       + "ca does not push over it; resume without --open-pr, or merge that commit and try again")
            }
        }

        // base + patch, in the index only.
        try await git.run(["read-tree", base], what: "read the base tree", network: false)
        try await git.run(["apply", "--cached", "--binary", "--whitespace=nowarn", patchURL.path], what: "apply the task's changes", network: false)
        let tree = try await git.output(["write-tree"], what: "write the tree")
        let parent = previousHead ?? base
        let parentTree = try await git.output(["rev-parse", "\(parent)^{tree}"], what: "read the parent tree")
        guard tree != parentTree else { return .noChanges }

        let message = PullRequestText.commitMessage(task: task)
        let commit = try await git.output(["commit-tree", tree, "-p", parent, "-m", message], what: "commit the changes")
        // The lease: a new branch must not exist; an updated one must still be at previousHead.
        let lease = "--force-with-lease=refs/heads/\(branch):\(previousHead ?? "")"
        let push = try await git.runAllowingFailure(["push", "--quiet", "--porcelain", lease, "--", task.repositoryURL, "\(commit):refs/heads/\(branch)"])
        guard push.status == 0, !push.timedOut else {
            // --porcelain puts the ref's verdict on stdout ("!\t…\t[rejected] (stale info)"), git's summary on stderr.
            let verdict = String(decoding: push.stdout, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("!") }
                .map { String($0.split(separator: "\t").last ?? Substring($0)) }
            let reason = verdict ?? GitEnvironment.lastLine(of: push.stderrText) ?? "git push failed"
            if previousHead == nil, reason.contains("stale info") || reason.contains("already exists") || reason.contains("fetch first") {
                throw TaskError.github(.rejected, "push rejected: branch \(branch) already exists on \(repository); ca never reuses a branch it did not create")
            }
            if previousHead != nil, reason.contains("stale info") || reason.contains("fetch first") || reason.contains("non-fast-forward") {
                throw TaskError.github(.rejected, "push rejected: branch \(branch) on \(repository) moved since ca pushed it; ca does not overwrite commits it did not make")
            }
            throw TaskError.github(.rejected, "push of \(branch) to \(repository) was rejected: \(RepositorySource.redactCredentials(inText: access.redact(reason)))")
        }

        let title = PullRequestText.title(prompt: task.prompt)
        let body = PullRequestText.body(task: task, result: result, earlier: earlier)
        if let number = task.pullRequestNumber {
            let updated = try await access.api.call { () async throws(GitHubError) in
                try await access.api.updatePullRequest(repository, number: number, title: nil, body: body)
            }
            return .updated(url: updated.htmlURL, number: updated.number, branch: branch)
        }
        let baseBranch: String
        if let explicit = options.base ?? task.branch {
            baseBranch = explicit
        } else {
            baseBranch = try await access.api.call { () async throws(GitHubError) in try await access.api.repository(repository) }.defaultBranch
        }
        do {
            let created = try await access.api.createPullRequest(repository, title: title, body: body, head: branch, base: baseBranch, draft: options.draft)
            return .opened(url: created.htmlURL, number: created.number, branch: branch)
        } catch .pullRequestExists(let message) {
            // Ours from an earlier attempt (the branch is this task's): take it over.
            let open = try await access.api.call { () async throws(GitHubError) in
                try await access.api.openPullRequests(repository, head: "\(repository.owner):\(branch)", base: baseBranch)
            }
            guard let existing = open.first else { throw TaskError.github(.rejected, message) }
            let updated = try await access.api.call { () async throws(GitHubError) in
                try await access.api.updatePullRequest(repository, number: existing.number, title: nil, body: body)
            }
            return .updated(url: updated.htmlURL, number: updated.number, branch: branch)
        } catch {
            throw GitHubAccess.taskError(error)
        }
    }

    /// The trailer of every commit ca makes (`ca-task: <id>`).
    static let trailer = "ca-task: "

    static func isObjectID(_ s: String) -> Bool {
        (s.utf8.count == 40 || s.utf8.count == 64) && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

extension GitHubAccess {
    /// `text` without the token in any form (git output quoting a header, say).
    func redact(_ text: String) -> String {
        SecretRedactor(secrets: configuration.secrets).redact(text)
    }
}
