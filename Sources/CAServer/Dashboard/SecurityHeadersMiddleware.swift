import Foundation
import HTTPTypes
import Hummingbird

/// Headers on every answer of `ca serve` that keep a browser from treating anything as more
/// than it is: `nosniff`, no referrer, no framing, and a Content-Security-Policy: the
/// dashboard's strict one for its page (scripts and styles only from its own files, no inline
/// code, Trusted Types so that no script can assign HTML strings to the DOM), and for everything
/// else (API answers, saved files) one that allows nothing and sandboxes the document. A saved
/// file is also sent as an attachment, so opening its URL downloads it instead of showing it.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var pagePolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
            + "base-uri 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"
    }

    static var otherPolicy: String { "default-src 'none'; frame-ancestors 'none'; sandbox" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        let isPage = response.headers[.contentType]?.hasPrefix("text/html") == true
        response.headers[.contentSecurityPolicy] = isPage ? Self.pagePolicy : Self.otherPolicy
        if response.status == .ok, Self.isSavedFile(request.uri.path), response.headers[.contentDisposition] == nil {
            response.headers[.contentDisposition] = "attachment"
        }
        return response
    }

    /// `/v1/tasks/{id}/files/{path…}`.
    static func isSavedFile(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return segments.count >= 6 && segments[1] == "v1" && segments[2] == "tasks" && segments[4] == "files"
    }
}
