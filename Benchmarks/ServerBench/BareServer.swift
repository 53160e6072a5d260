import Foundation
import Hummingbird

/// `ca-server-bench --bare-server BODY_FILE`: the baseline of the GET benchmark. A minimal
/// Hummingbird 2 application with one GET route, `/v1/tasks/{id}`, returning the bytes of
/// BODY_FILE (the JSON that `ca serve` returned for the same request) as application/json, on
/// 127.0.0.1 with a free port, announced as "serving on http://127.0.0.1:PORT" as `ca serve`
/// does. It runs as a child process, like `ca serve`, so both are measured the same way: their own
/// process, the default event loop group, the same wrk command.
func runBareServer(bodyFile: String) async throws {
    let body = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: bodyFile)))
    let router = Router()
    router.get("/v1/tasks/{id}") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "bare"),
        onServerRunning: { channel in
            FileHandle.standardError.write(Data("serving on http://127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8))
        })
    try await app.runService()
}
