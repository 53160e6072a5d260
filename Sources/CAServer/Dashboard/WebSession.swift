import AgentCore
import Foundation
import HTTPTypes
import Hummingbird

/// The web dashboard's sign-in: an API key exchanged for a random session token held in an
/// `HttpOnly`, `SameSite=Strict` cookie. The store keeps only the token's SHA-256 (and the key's,
/// so that revoking the key ends the session).
///
/// State-changing requests made with the cookie must also carry `X-CSRF-Token`, a value derived
/// from the token (so nothing more is stored) that the page reads from `GET /session`; a form
/// posted by another site can send neither header nor, being cross-site, the cookie.
enum WebSession {
    /// The cookie's name.
    static let cookieName = "ca_session"
    /// The header a cookie-authenticated `POST`/`PUT`/`PATCH`/`DELETE` must carry.
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    /// How long a session lasts after sign-in.
    static let lifetime: TimeInterval = 12 * 3600

    /// A new session token: 43 URL-safe characters from 256 random bits.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Whether a cookie value has the shape of a token (anything else is not looked up).
    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43 && token.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    /// The CSRF token of a session: a hash of its token under a fixed label, so that it proves
    /// the page read `GET /session` without revealing the cookie.
    static func csrfToken(for token: String) -> String {
        APIKeys.fingerprint(Data("ca-csrf:\(token)".utf8))
    }

    /// The session token sent in the request's `Cookie` headers, when well-formed.
    static func token(in fields: HTTPFields) -> String? {
        guard let value = Cookies(from: fields[values: .cookie])[cookieName]?.value, isWellFormed(value) else { return nil }
        return value
    }

    /// Whether `method` changes state (and so needs the CSRF header with a cookie).
    static func isStateChanging(_ method: HTTPRequest.Method) -> Bool {
        ![.get, .head, .options].contains(method)
    }

    /// Whether a cookie-authenticated request comes from a page of another origin: browsers send
    /// `Sec-Fetch-Site` on every request; `same-origin` (the dashboard) and `none` (the user
    /// opened the URL) are accepted, and so is its absence (not a browser).
    static func isCrossOrigin(_ fields: HTTPFields) -> Bool {
        guard let site = fields[HTTPField.Name("Sec-Fetch-Site")!] else { return false }
        return site != "same-origin" && site != "none"
    }

    /// Whether a request signed in with `token` may go on: it does not come from a page of
    /// another origin, and when it changes state it carries the session's CSRF token.
    static func mayProceed(_ method: HTTPRequest.Method, _ fields: HTTPFields, token: String) -> Bool {
        if isCrossOrigin(fields) { return false }
        guard isStateChanging(method) else { return true }
        guard let sent = fields[csrfHeader] else { return false }
        return APIKeys.constantTimeEqual(sent, csrfToken(for: token))
    }

    /// The `Set-Cookie` value that stores `token` (`Secure` when the request came over HTTPS,
    /// directly or through a proxy that says so).
    static func cookie(_ token: String, secure: Bool) -> String {
        Cookie(name: cookieName, value: token, maxAge: Int(lifetime), path: "/", secure: secure, httpOnly: true, sameSite: .strict).description
    }

    /// The `Set-Cookie` value that removes the cookie.
    static func expiredCookie(secure: Bool) -> String {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .strict).description
    }
}
