import CATestSupport
import Foundation

// ca-fakes: serves ca's fakes for outside clients. A developer tool; never shipped.
//
//   ca-fakes novita INFO_FILE       the fake Novita service (scripts/crosscheck-novita-sdk.sh
//                                   runs the official Python SDK against it)
//   ca-fakes anthropic INFO_FILE    the fake Anthropic API with a demo script (Write a file,
//                                   run it with Bash, answer), to try ca without a key:
//                                   ANTHROPIC_BASE_URL=<baseURL> ANTHROPIC_API_KEY=demo ca task create …
//
// Starts the fake on 127.0.0.1, writes {"baseURL", "apiKey", "port", "bubblewrap"} to INFO_FILE,
// serves until INFO_FILE.stop appears (or NOVITA_FAKE_SERVE_SECONDS, default 600, pass), then
// writes the request log to INFO_FILE.log.

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2, ["novita", "anthropic"].contains(arguments.first!), let infoPath = arguments.last else {
    FileHandle.standardError.write(Data("usage: ca-fakes novita|anthropic INFO_FILE\n".utf8))
    exit(64)
}

if arguments.first == "anthropic" {
    let demo: [ScriptedTurn] = [
        .toolUse("Write", ["file_path": "{{cwd}}/hello.sh", "content": "#!/bin/sh\necho 'Hello from the agent'\n"], text: "I'll add a small script."),
        .toolUse("Bash", ["command": "chmod +x hello.sh && ./hello.sh", "description": "Run it"]),
        .text("Added hello.sh, which prints a greeting."),
    ]
    let fake = FakeAnthropicServer(script: Array(repeating: demo, count: 50).flatMap { $0 })
    try await fake.start()
    try JSONSerialization.data(withJSONObject: ["baseURL": fake.baseURL.absoluteString], options: [.sortedKeys])
        .write(to: URL(fileURLWithPath: infoPath), options: .atomic)
    while !FileManager.default.fileExists(atPath: infoPath + ".stop") { try await Task.sleep(for: .milliseconds(200)) }
    try await fake.stop()
    exit(0)
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
