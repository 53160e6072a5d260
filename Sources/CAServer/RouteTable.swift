import CAAPI
import HTTPTypes

/// The paths and methods of the API, read from the OpenAPI document itself, so that a request
/// the generated router does not match gets the right problem: 405 with `Allow` for a known
/// path, 404 otherwise.
struct RouteTable: Sendable {
    struct Route: Sendable {
        /// Path segments; `nil` stands for a `{parameter}`.
        var segments: [String?]
        var methods: [HTTPRequest.Method]
    }

    let routes: [Route]

    /// The table of ``OpenAPIDocument/yaml``: every key under `paths:` and the operations under it.
    static let api = RouteTable(document: OpenAPIDocument.yaml)

    init(document: String) {
        var routes: [Route] = []
        var inPaths = false
        let operations = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty { inPaths = line == "paths:"; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                let path = line.dropFirst(2).dropLast()
                routes.append(Route(segments: path.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }, methods: []))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"),
                      operations.contains(String(line.dropFirst(4).dropLast())),
                      let method = HTTPRequest.Method(String(line.dropFirst(4).dropLast()).uppercased()), !routes.isEmpty {
                routes[routes.count - 1].methods.append(method)
            }
        }
        self.routes = routes
    }

    /// The methods the API has for `path` (without query), or `nil` when no path matches.
    func methods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.prefix { $0 != "?" }.split(separator: "/")
        let matching = routes.filter { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { expected, actual in expected.map { $0 == actual } ?? true }
        }
        // A literal segment beats a parameter (`/v1/tasks` is not `/{id}`), so take the most literal match.
        return matching.max { $0.segments.compactMap { $0 }.count < $1.segments.compactMap { $0 }.count }?.methods
    }
}
