import Foundation

/// A link to an issue or pull request on the configured server, found in free text.
public struct GitHubReference: Sendable, Hashable {
    /// The repository the issue or pull request belongs to.
    public let repository: GitHubRepository
    /// The issue or pull request number (they share one sequence per repository).
    public let number: Int
    /// Whether the link was a `/pull/N` link (else `/issues/N`).
    public let isPullRequest: Bool
    /// The canonical URL: `<server>/owner/name/pull/N` or `<server>/owner/name/issues/N`.
    public let url: String

    /// Creates a reference; ``url`` is built from `configuration`.
    public init(repository: GitHubRepository, number: Int, isPullRequest: Bool, configuration: GitHubConfiguration) {
        self.repository = repository
        self.number = number
        self.isPullRequest = isPullRequest
        self.url = "\(configuration.serverBase)/\(repository.owner)/\(repository.name)/\(isPullRequest ? "pull" : "issues")/\(number)"
    }

    /// The issue and pull request links to `configuration`'s server in `text`, in order of appearance, without
    /// repeats (one per repository and number), at most `limit`.
    ///
    /// A link is `<server>/owner/name/issues/N` or `<server>/owner/name/pull/N` with `N` in `1...Int32.max`, no
    /// leading zero, optionally followed by `/…`, `#fragment` or `?query`. The server part is matched
    /// case-insensitively; a link glued to a preceding letter or digit, or whose number runs on into letters, is
    /// ignored.
    public static func find(in text: String, configuration: GitHubConfiguration, limit: Int = 5) -> [GitHubReference] {
        guard limit > 0 else { return [] }
        let prefix = Array((configuration.serverBase + "/").lowercased().utf8)
        let bytes = Array(text.utf8)
        var found: [GitHubReference] = []
        var seen: Set<Key> = []
        var index = 0
        while index + prefix.count <= bytes.count, found.count < limit {
            guard matches(prefix, in: bytes, at: index) else {
                index += 1
                continue
            }
            let start = index
            index += prefix.count
            if start > 0, isWordByte(bytes[start - 1]) { continue }
            guard let (reference, end) = parseTail(bytes, from: index, configuration: configuration) else { continue }
            index = end
            let key = Key(repository: reference.repository, number: reference.number)
            if seen.insert(key).inserted {
                found.append(reference)
            }
        }
        return found
    }

    private struct Key: Hashable {
        var repository: GitHubRepository
        var number: Int
    }

    private static func matches(_ prefix: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        for offset in 0..<prefix.count {
            var byte = bytes[index + offset]
            if byte >= 65 && byte <= 90 { byte += 32 }
            if byte != prefix[offset] { return false }
        }
        return true
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 95
    }

    /// Parses `owner/name/(issues|pull)/N` at `start`; returns the reference and the index after `N`.
    private static func parseTail(_ bytes: [UInt8], from start: Int, configuration: GitHubConfiguration) -> (GitHubReference, Int)? {
        var index = start
        func segment(maximum: Int) -> String? {
            let begin = index
            while index < bytes.count, bytes[index] != 47, index - begin <= maximum {
                let byte = bytes[index]
                guard isWordByte(byte) || byte == 45 || byte == 46 else { return nil }
                index += 1
            }
            guard index < bytes.count, bytes[index] == 47, index > begin else { return nil }
            let text = String(decoding: bytes[begin..<index], as: UTF8.self)
            index += 1
            return text
        }
        guard let owner = segment(maximum: 39), let name = segment(maximum: 100), let kind = segment(maximum: 6),
              kind == "issues" || kind == "pull",
              let repository = GitHubRepository(owner: owner, name: name), repository.name == name else { return nil }
        let digitsStart = index
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57, index - digitsStart <= 10 {
            index += 1
        }
        let digits = bytes[digitsStart..<index]
        guard !digits.isEmpty, digits.first != 48, digits.count <= 10 else { return nil }
        if index < bytes.count, isWordByte(bytes[index]) { return nil }
        guard let number = Int(String(decoding: digits, as: UTF8.self)), (1...Int(Int32.max)).contains(number) else { return nil }
        let reference = GitHubReference(repository: repository, number: number, isPullRequest: kind == "pull", configuration: configuration)
        return (reference, index)
    }
}
