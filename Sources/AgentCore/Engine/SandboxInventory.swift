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
                let provider = try backends.provider(named: name)
                let sandboxes: [SandboxInfo]
                do { sandboxes = try await provider.list(metadata: [:]) } catch { throw TaskError.sandbox(error) }
                for info in sandboxes {
                    guard let taskID = info.metadata["ca.task_id"] else { continue }
                    let status = (try? store.task(id: taskID))??.status
                    entries.append(Entry(backend: name, sandbox: info, taskID: taskID, taskStatus: status))
                }
            } catch {
                errors[name] = String(describing: error)
            }
        }
        entries.sort { $0.sandbox.startedAt < $1.sandbox.startedAt }
        return (entries, errors)
    }

    /// Kills the sandboxes whose task is finished, failed or unknown. Returns those killed.
    public func collectGarbage(backends names: [String]? = nil) async -> (killed: [Entry], errors: [String: String]) {
        var (entries, errors) = await list(backends: names)
        entries = entries.filter(\.isGarbage)
        var killed: [Entry] = []
        for entry in entries {
            do {
                let provider = try backends.provider(named: entry.backend)
                do { try await provider.kill(id: entry.sandbox.id) } catch { throw TaskError.sandbox(error) }
                killed.append(entry)
            } catch {
                errors["\(entry.backend)/\(entry.sandbox.id)"] = String(describing: error)
            }
        }
        return (killed, errors)
    }
}
