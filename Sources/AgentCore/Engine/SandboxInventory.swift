import Foundation
import SandboxClient

/// ca's live sandboxes across backends, and garbage collection of those no task needs.
public struct SandboxInventory: Sendable {
    /// One live sandbox that ca created.
    public struct Entry: Sendable, Hashable {
        public var backend: String
        public var sandbox: SandboxInfo
        /// `ca.task_id` from the sandbox's metadata.
        public var taskID: String?
        /// Status of that task in this machine's history, `nil` when unknown here.
        public var taskStatus: TaskStatus?

        /// Whether no task needs the sandbox any more: its task ended or is unknown.
        public var isGarbage: Bool { taskStatus.map(\.isTerminal) ?? true }
    }

    let store: TaskStore
    let backends: SandboxBackends

    public init(store: TaskStore, backends: SandboxBackends) {
        self.store = store
        self.backends = backends
    }

    /// Lists ca's sandboxes on the given backends (default: every configured one).
    /// Backends that fail are reported in `errors` instead of stopping the listing.
    public func list(backends names: [String]? = nil) async -> (entries: [Entry], errors: [String: String]) {
        var entries: [Entry] = []
        var errors: [String: String] = [:]
        for name in names ?? backends.configured {
            do {
                entries += try await self.entries(on: name, provider: try backends.provider(named: name))
            } catch {
                errors[name] = String(describing: error)
            }
        }
        entries.sort { $0.sandbox.startedAt < $1.sandbox.startedAt }
        return (entries, errors)
    }

    /// Kills the sandboxes whose task is finished, failed or unknown. Returns those killed.
    public func collectGarbage(backends names: [String]? = nil) async -> (killed: [Entry], errors: [String: String]) {
        var killed: [Entry] = []
        var errors: [String: String] = [:]
        for name in names ?? backends.configured {
            do {
                // One provider per backend serves both the listing and the kills.
                let provider = try backends.provider(named: name)
                for entry in try await entries(on: name, provider: provider) where entry.isGarbage {
                    do {
                        try await provider.kill(id: entry.sandbox.id)
                        killed.append(entry)
                    } catch {
                        errors["\(name)/\(entry.sandbox.id)"] = String(describing: TaskError.sandbox(error))
                    }
                }
            } catch {
                errors[name] = String(describing: error)
            }
        }
        killed.sort { $0.sandbox.startedAt < $1.sandbox.startedAt }
        return (killed, errors)
    }

    /// The sandboxes of one backend that carry a `ca.task_id`, with their task's status.
    private func entries(on backend: String, provider: any SandboxProvider) async throws(TaskError) -> [Entry] {
        let sandboxes: [SandboxInfo]
        do { sandboxes = try await provider.list(metadata: [:]) } catch { throw TaskError.sandbox(error) }
        return sandboxes.compactMap { info in
            guard let taskID = info.metadata["ca.task_id"] else { return nil }
            let status = (try? store.task(id: taskID))??.status
            return Entry(backend: backend, sandbox: info, taskID: taskID, taskStatus: status)
        }
    }
}
