/// Reads the `Link` header GitHub sends on paginated lists (`<URL>; rel="next", <URL>; rel="last"`).
enum GitHubLinkHeader {
    /// One `<URL>; params` element.
    struct Link: Sendable, Hashable {
        var url: String
        var relations: [String]
    }

    /// The URL of the `rel="next"` link, exactly as sent, or `nil`.
    static func next(in header: String) -> String? {
        parse(header).first { $0.relations.contains("next") }?.url
    }

    /// All links of a header value, in order; malformed elements are skipped.
    static func parse(_ header: String) -> [Link] {
        var links: [Link] = []
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            let url = String(rest[rest.index(after: open)..<close]).trimmingWhitespace()
            rest = rest[rest.index(after: close)...]
            // Parameters run to the next "," outside quotes.
            var parameters = ""
            var inQuotes = false
            var end = rest.endIndex
            for index in rest.indices {
                let character = rest[index]
                if character == "\"" { inQuotes.toggle() }
                if character == ",", !inQuotes {
                    end = index
                    break
                }
                parameters.append(character)
            }
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
            var relations: [String] = []
            for parameter in parameters.split(separator: ";") {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingWhitespace().lowercased() == "rel" else { continue }
                var value = pair[1].trimmingWhitespace()
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                    value = String(value.dropFirst().dropLast())
                }
                relations += value.split(separator: " ").map { $0.lowercased() }
            }
            if !url.isEmpty {
                links.append(Link(url: url, relations: relations))
            }
        }
        return links
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
