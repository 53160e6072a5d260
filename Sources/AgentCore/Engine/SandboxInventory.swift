import Foundation
import SandboxClient

/// ca's live sandboxes across backends, and garbage collection of those no task needs.
public struct SandboxInventory: Sendable {
    /// One live sandbox that ca created.
    public struct Entry: Sendable, Hashable {
        public var backend: SandboxKind
        public var sandbox: SandboxInfo
        /// `ca.task_id` from the sandbox's metadata.
        public var taskID: String?
        /// Status of that task in this machine's history, `nil` when unknown here.
        public var taskStatus: TaskStatus?
        /// `ca.installation` from the sandbox's metadata: the store that created it.
        public var installation: String?

        /// Until when a task keeps this sandbox paused for a resume (`--keep-alive`), if one does.
        public var pausedUntil: Date?
        /// A task that runs in this sandbox now although the sandbox was made for another (a
        /// resume continuing in its parent's kept sandbox).
        public var usedBy: String?

        /// Whether no task needs the sandbox any more: its task ended or is unknown, no resume
        /// runs in it, and no keep-alive window holds it.
        public var isGarbage: Bool {
            if usedBy != nil { return false }
            if let pausedUntil { return pausedUntil <= Date() }
            return taskStatus.map(\.isTerminal) ?? true
        }
    }

    let store: TaskStore
    let backends: SandboxBackends

    public init(store: TaskStore, backends: SandboxBackends) {
        self.store = store
        self.backends = backends
    }

    /// Lists ca's sandboxes on the given backends (default: every configured one).
    /// Backends that fail are reported in `errors` (keyed by backend) instead of stopping the
    /// listing, and so are single sandboxes a backend could not list (keyed `backend/id`).
    ///
    /// On a cloud backend only the sandboxes of this installation (this `CA_HOME`'s store, see
    /// ``TaskStore/installationID``) are listed, unless `allInstallations`: one account may be
    /// shared by several machines and a team's server. Local sandboxes live in this `CA_HOME`.
    public func list(backends names: [SandboxKind]? = nil, allInstallations: Bool = false) async -> (entries: [Entry], errors: [String: String]) {
        var entries: [Entry] = []
        var errors: [String: String] = [:]
        for name in names ?? backends.configured {
            do {
                let found = try await self.entries(on: name, provider: try backends.provider(named: name), allInstallations: allInstallations)
                entries += found.entries
                errors.merge(found.problems) { first, _ in first }
            } catch {
                errors[name.rawValue] = String(describing: error)
            }
        }
        entries.sort { $0.sandbox.startedAt < $1.sandbox.startedAt }
        return (entries, errors)
    }

    /// Kills the sandboxes whose task is finished, failed or unknown. Returns those killed.
    /// A sandbox that cannot be listed or killed is reported in `errors` (keyed `backend/id`)
    /// and the others are still collected; a backend that cannot be listed at all is reported
    /// under its name.
    /// Only this installation's sandboxes are touched unless `allInstallations` (see ``list(backends:allInstallations:)``).
    public func collectGarbage(backends names: [SandboxKind]? = nil, allInstallations: Bool = false) async -> (killed: [Entry], errors: [String: String]) {
        var killed: [Entry] = []
        var errors: [String: String] = [:]
        for name in names ?? backends.configured {
            do {
                // One provider per backend serves both the listing and the kills.
                let provider = try backends.provider(named: name)
                let found = try await entries(on: name, provider: provider, allInstallations: allInstallations)
                errors.merge(found.problems) { first, _ in first }
                for entry in found.entries where entry.isGarbage {
                    do {
                        try await provider.kill(id: entry.sandbox.id)
                        killed.append(entry)
                    } catch {
                        errors["\(name)/\(entry.sandbox.id)"] = String(describing: TaskError.sandbox(error))
                    }
                }
            } catch {
                errors[name.rawValue] = String(describing: error)
            }
        }
        killed.sort { $0.sandbox.startedAt < $1.sandbox.startedAt }
        return (killed, errors)
    }

    /// The sandboxes of one backend that carry a `ca.task_id`, with their task's status, and the
    /// sandboxes it could not list (keyed `backend/id`).
    private func entries(on backend: SandboxKind, provider: any SandboxProvider, allInstallations: Bool) async throws(TaskError)
        -> (entries: [Entry], problems: [String: String]) {
        let listing: SandboxListing
        do { listing = try await provider.listing(metadata: [:]) } catch { throw TaskError.sandbox(error) }
        let ours = store.installationID
        var entries: [Entry] = []
        for info in listing.sandboxes {
            guard let taskID = info.metadata[SandboxMetadata.taskID] else { continue }
            let installation = info.metadata[SandboxMetadata.installation]
            guard backend == .local || allInstallations || installation == ours else { continue }
            let status = (try? await store.task(id: taskID))??.status
            var entry = Entry(backend: backend, sandbox: info, taskID: taskID, taskStatus: status, installation: installation)
            for user in (try? await store.tasks(usingSandbox: info.id)) ?? [] where user.sandboxBackend == backend {
                if user.pausedSandboxID == info.id { entry.pausedUntil = max(entry.pausedUntil ?? .distantPast, user.pausedUntil ?? .distantPast) }
                if !user.status.isTerminal, user.id != taskID { entry.usedBy = user.id }
            }
            entries.append(entry)
        }
        var problems: [String: String] = [:]
        for (id, problem) in listing.problems {
            problems["\(backend)/\(id)"] = problem
        }
        return (entries, problems)
    }
}
