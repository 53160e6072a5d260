import Foundation

/// Credentials carried inside URLs: userinfo (`https://user:password@host/`, or
/// `user:password@host:path` in scp-like ssh syntax) and token-like query parameters
/// (`?access_token=…`, `X-Amz-Signature=…`).
///
/// `user@host:path` without a password is ordinary ssh and is left alone.
enum URLCredentials {
    /// Query parameter names (lower case) whose values are credentials.
    static let sensitiveNames: Set<String> = [
        "key", "apikey", "api_key", "api-key", "access_key", "accesskey", "sig", "sign", "signature",
        "auth", "password", "passwd", "pwd", "pass", "secret", "code",
    ]
    /// Parts of query parameter names (lower case) that mark credentials.
    static let sensitiveNameParts = ["token", "secret", "password", "signature", "credential", "auth"]

    /// Whether a query parameter name (any case, percent-encoded or not) names a credential.
    static func isSensitive(parameter name: String) -> Bool {
        let lower = (name.removingPercentEncoding ?? name).lowercased()
        return sensitiveNames.contains(lower) || sensitiveNameParts.contains { lower.contains($0) }
    }

    /// The URL without userinfo-with-credentials and without token-like query parameters (other
    /// parameters and the fragment are kept). Anything that is not a URL comes back unchanged.
    static func strip(_ url: String) -> String {
        guard let parts = Parts(url) else { return url }
        var result = parts.prefix
        if let userinfo = parts.userinfo, !parts.dropsUserinfo(userinfo) { result += userinfo + "@" }
        result += parts.hostAndPath
        if let query = parts.query {
            let kept = query.split(separator: "&", omittingEmptySubsequences: false)
                .filter { !isSensitive(parameter: String($0.prefix { $0 != "=" })) }
            if !kept.isEmpty { result += "?" + kept.joined(separator: "&") }
        }
        if let fragment = parts.fragment { result += "#" + fragment }
        return result
    }

    /// The secret values a URL carries: the user and password of its userinfo (for a URL with
    /// `://`; in scp-like syntax only with a password) and the values of token-like query
    /// parameters, each as written and percent-decoded.
    static func secrets(in url: String) -> [String] {
        guard let parts = Parts(url) else { return [] }
        var values: [String] = []
        if let userinfo = parts.userinfo, parts.dropsUserinfo(userinfo) {
            values += userinfo.split(separator: ":", maxSplits: 1).map(String.init)
        }
        for pair in (parts.query ?? "").split(separator: "&") {
            let name = pair.prefix { $0 != "=" }
            guard name.count < pair.count, isSensitive(parameter: String(name)) else { continue }
            values.append(String(pair[pair.index(after: name.endIndex)...]))
        }
        return values.flatMap { value in [value, value.removingPercentEncoding ?? value] }.filter { !$0.isEmpty }
    }

    /// `text` with every URL in it (`scheme://…`, up to whitespace or a quote) passed through
    /// ``strip(_:)`` — for messages that quote URLs, such as git's errors.
    static func redact(inText text: String) -> String {
        guard text.contains("://") else { return text }
        var result = ""
        var rest = Substring(text)
        while let marker = rest.range(of: "://") {
            var start = marker.lowerBound
            while start > rest.startIndex, Self.isSchemeCharacter(rest[rest.index(before: start)]) { start = rest.index(before: start) }
            let end = rest[marker.upperBound...].firstIndex { $0.isWhitespace || "\"'<>`".contains($0) } ?? rest.endIndex
            result += rest[..<start]
            result += strip(String(rest[start..<end]))
            rest = rest[end...]
        }
        return result + rest
    }

    private static func isSchemeCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "+" || c == "-" || c == ".")
    }

    /// A URL cut into the pieces that matter here.
    private struct Parts {
        /// `scheme://`, or empty for scp-like syntax.
        var prefix: String
        var userinfo: String?
        /// Host (with port) and path.
        var hostAndPath: String
        var query: String?
        var fragment: String?
        var isSCPLike: Bool

        init?(_ url: String) {
            var rest = Substring(url)
            if let fragmentStart = rest.firstIndex(of: "#") {
                fragment = String(rest[rest.index(after: fragmentStart)...])
                rest = rest[..<fragmentStart]
            }
            if let queryStart = rest.firstIndex(of: "?") {
                query = String(rest[rest.index(after: queryStart)...])
                rest = rest[..<queryStart]
            }
            if let scheme = rest.range(of: "://") {
                prefix = String(rest[..<scheme.upperBound])
                rest = rest[scheme.upperBound...]
                isSCPLike = false
                let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
                if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                    userinfo = String(rest[..<at])
                    rest = rest[rest.index(after: at)...]
                }
            } else {
                // scp-like: [userinfo@]host:path, with no "/" before the host's ":".
                prefix = ""
                isSCPLike = true
                let head = rest.prefix { $0 != "/" }
                guard !rest.hasPrefix("/"), let at = head.lastIndex(of: "@"),
                      head[head.index(after: at)...].contains(":") else { return nil }
                userinfo = String(rest[..<at])
                rest = rest[rest.index(after: at)...]
            }
            hostAndPath = String(rest)
        }

        /// Whether the userinfo is dropped: always for `scheme://` URLs, and in scp-like syntax only
        /// when it holds a password (`git@host:path` is plain ssh).
        func dropsUserinfo(_ userinfo: String) -> Bool {
            !isSCPLike || userinfo.contains(":")
        }
    }
}
