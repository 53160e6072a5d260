import Crypto
import Foundation

/// Git bundles uploaded to a server for repositories it cannot reach (on a client's disk).
///
/// A bundle is stored as bytes under `bundles/<owner>/<sha256>.bundle` and only ever read by git
/// inside a sandbox; the host checks its header and size, nothing more. Its id is the SHA-256
/// of its bytes, so uploading the same bundle twice stores it once, and a task refers to it as
/// `bundle:<id>` (``RepositorySource/Location/bundle(_:)``), usable by the same owner only.
public struct RepositoryBundles: Sendable {
    /// Default upper limit of one bundle.
    public static let defaultMaximumSize = 100 << 20

    public let paths: CAPaths

    public init(paths: CAPaths) {
        self.paths = paths
    }

    /// 64 lowercase hex digits.
    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 64 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Whether `data` starts like a git bundle (`# v2 git bundle` or `# v3 git bundle`).
    public static func looksLikeBundle(_ data: Data) -> Bool {
        let head = data.prefix(16)
        return head.elementsEqual("# v2 git bundle\n".utf8) || head.elementsEqual("# v3 git bundle\n".utf8)
    }

    /// Stores a bundle for `owner` and returns its id.
    public func store(_ data: Data, owner: String?) async throws(TaskError) -> String {
        guard Self.looksLikeBundle(data) else {
            throw TaskError.invalidArgument("the upload is not a git bundle (make one with: git bundle create FILE --all)")
        }
        let id = Hex.encode(SHA256.hash(data: data))
        let folder = folder(owner: owner)
        let file = folder.appendingPathComponent(id + ".bundle")
        try await BlockingIO.run { () throws(TaskError) in
            if FileManager.default.fileExists(atPath: file.path) { return }
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let temporary = folder.appendingPathComponent(".\(id).\(UUID().uuidString).part")
                guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
                    throw CocoaError(.fileWriteUnknown)
                }
                if rename(temporary.path, file.path) != 0 {
                    try? FileManager.default.removeItem(at: temporary)
                    throw CocoaError(.fileWriteUnknown)
                }
            } catch {
                throw TaskError.step("cannot store the bundle: \(error.localizedDescription)")
            }
        }
        return id
    }

    /// Whether `owner` uploaded the bundle `id`.
    public func exists(id: String, owner: String?) -> Bool {
        Self.isValidID(id) && FileManager.default.fileExists(atPath: folder(owner: owner).appendingPathComponent(id + ".bundle").path)
    }

    /// The bytes of bundle `id` of `owner` (read off the cooperative pool: up to the bundle limit).
    func read(id: String, owner: String?, displayURL: String) async throws(TaskError) -> Data {
        let file = folder(owner: owner).appendingPathComponent(id + ".bundle")
        guard Self.isValidID(id), let data = try await BlockingIO.run({ () throws(TaskError) in try? Data(contentsOf: file) }) else {
            throw TaskError.repositoryUnreachable(displayURL, "the uploaded bundle is gone")
        }
        return data
    }

    /// One folder per owner, named by a hash (owner names never become paths).
    func folder(owner: String?) -> URL {
        let digest = Hex.encode(SHA256.hash(data: Data((owner ?? "").utf8)).prefix(16))
        return paths.bundles.appendingPathComponent(owner == nil ? "local" : digest, isDirectory: true)
    }
}
