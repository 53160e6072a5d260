import Foundation

/// What one ``LocalSandboxProvider`` (and its copies) shares: the sandboxes it created or
/// connected to in this process, and whether bubblewrap was found to work.
actor LocalSandboxRegistry {
    private var sandboxes: [String: LocalSandbox] = [:]
    private var checkedBubblewrap: String?

    init() {}

    func sandbox(id: String) -> LocalSandbox? {
        sandboxes[id]
    }

    func add(_ sandbox: LocalSandbox) {
        sandboxes[sandbox.id] = sandbox
    }

    func remove(id: String) {
        sandboxes[id] = nil
    }

    /// The `bwrap` program, after checking once that it can create a sandbox here.
    /// - Throws: ``SandboxError/missingDependency(program:package:)`` without `bwrap`;
    ///   ``SandboxError/configuration(_:)`` with bwrap's error when it cannot run.
    func bubblewrap(settings: LocalSandboxSettings) async throws(SandboxError) -> String {
        let path = try settings.findBubblewrap()
        if checkedBubblewrap == path {
            return path
        }
        let process = try await LocalProcess.start(settings.probeLaunch(bubblewrap: path), onStarted: { _ in }, onExited: { _ in })
        let result = try await CommandHandle(
            pid: Int(process.pid), events: process.events,
            sendInput: { _ in }, closeInput: {}, signal: { _ in }
        ).collect()
        guard result.exit.succeeded else {
            let message = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw .configuration(
                "bubblewrap (\(path)) cannot create a sandbox on this machine: \(message.isEmpty ? result.exit.status : message). "
                    + "The kernel may forbid unprivileged user namespaces (see sysctl kernel.unprivileged_userns_clone "
                    + "and kernel.apparmor_restrict_unprivileged_userns); allow them, or use the unsafe isolation mode `none`."
            )
        }
        checkedBubblewrap = path
        return path
    }
}
