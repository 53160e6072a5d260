import Foundation

/// A `multipart/form-data` body with file parts, as envd's `POST /files` expects (reference §6.2).
struct NovitaMultipartForm: Sendable {
    /// The boundary between parts.
    let boundary: String
    private var body = Data()

    init(boundary: String = "ca-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()) {
        self.boundary = boundary
    }

    /// Value of the request's `Content-Type` header.
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Adds a part `Content-Disposition: form-data; name="<field>"; filename="<filename>"`.
    mutating func addFile(field: String, filename: String, contentType: String = "application/octet-stream", contents: Data) {
        body.append(Data("--\(boundary)\r\n".utf8))
        body.append(Data("Content-Disposition: form-data; name=\"\(Self.quote(field))\"; filename=\"\(Self.quote(filename))\"\r\n".utf8))
        body.append(Data("Content-Type: \(contentType)\r\n\r\n".utf8))
        body.append(contents)
        body.append(Data("\r\n".utf8))
    }

    /// The finished body, closing delimiter included.
    func encoded() -> Data {
        var result = body
        result.append(Data("--\(boundary)--\r\n".utf8))
        return result
    }

    /// Escapes a header parameter value the way browsers and httpx do.
    private static func quote(_ value: String) -> String {
        value
            .replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
            .replacingOccurrences(of: "\"", with: "%22")
    }
}
