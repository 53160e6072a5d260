import Foundation

/// Every byte of the regular files under a folder (symbolic links not followed), concatenated:
/// for tests that check a secret is nowhere in what ca wrote.
public enum WrittenBytes {
    public static func all(under folder: URL) throws -> Data {
        var all = Data()
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey])
        while let url = enumerator?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
            if values.isRegularFile == true, values.isSymbolicLink != true, let data = try? Data(contentsOf: url) { all.append(data) }
        }
        return all
    }
}
