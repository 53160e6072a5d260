import CATestSupport
import Foundation

// ca-fakes: serves the fake Novita service for outside clients, such as the official Python SDK
// in scripts/crosscheck-novita-sdk.sh. A developer tool; never shipped.
//
//   ca-fakes novita INFO_FILE
//
// Starts the fake on 127.0.0.1, writes {"baseURL", "apiKey", "port", "bubblewrap"} to INFO_FILE,
// serves until INFO_FILE.stop appears (or NOVITA_FAKE_SERVE_SECONDS, default 600, pass), then
// writes the request log to INFO_FILE.log.

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2, arguments.first == "novita", let infoPath = arguments.last else {
    FileHandle.standardError.write(Data("usage: ca-fakes novita INFO_FILE\n".utf8))
    exit(64)
}
let infoURL = URL(fileURLWithPath: infoPath)
let stopURL = URL(fileURLWithPath: infoURL.path + ".stop")
let logURL = URL(fileURLWithPath: infoURL.path + ".log")
let seconds = Int(ProcessInfo.processInfo.environment["NOVITA_FAKE_SERVE_SECONDS"] ?? "") ?? 600
try? FileManager.default.removeItem(at: stopURL)

let fake = FakeNovitaService(options: .init(keepaliveInterval: .seconds(2)))
try await fake.start()
let info: [String: Any] = ["baseURL": fake.baseURL.absoluteString, "apiKey": fake.apiKey, "port": fake.baseURL.port ?? 0, "bubblewrap": fake.usesBubblewrap]
try JSONSerialization.data(withJSONObject: info, options: [.sortedKeys]).write(to: infoURL, options: .atomic)

let deadline = ContinuousClock.now + .seconds(seconds)
while !FileManager.default.fileExists(atPath: stopURL.path) && ContinuousClock.now < deadline {
    try await Task.sleep(for: .milliseconds(100))
}

var log = ""
for request in fake.requests {
    let entry: [String: Any] = [
        "method": request.method,
        "uri": request.uri,
        "headers": request.headers.map { [$0.name, $0.value] },
        "bodyBytes": request.body.count,
        "body": String(data: request.body.prefix(2000), encoding: .utf8) ?? "<binary>",
    ]
    let line = try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys])
    log += String(decoding: line, as: UTF8.self) + "\n"
}
try log.write(to: logURL, atomically: true, encoding: .utf8)
try await fake.stop()
