import CATestSupport
import Foundation

// ca-fakes: serves ca's fakes for outside clients. A developer tool; never shipped.
//
//   ca-fakes novita INFO_FILE       the fake Novita service (scripts/crosscheck-novita-sdk.sh
//                                   runs the official Python SDK against it)
//   ca-fakes github [--port N] [--seconds S]
//                                   the fake GitHub with a seeded private octo/demo (PR #1 by hubot
//                                   with 35 files, issue #2 with comments, branch `topic`); prints one
//                                   JSON line {serverURL, apiURL, token, reviewerToken, owner, repo, pull,
//                                   issue} and serves until killed or S seconds (default 600) pass
//                                   (scripts/crosscheck-github.sh runs PyGithub against it)
//   ca-fakes anthropic INFO_FILE    the fake Anthropic API with a demo script (Write a file,
//                                   run it with Bash, answer), to try ca without a key:
//                                   ANTHROPIC_BASE_URL=<baseURL> ANTHROPIC_API_KEY=demo ca task create …
//
// Starts the fake on 127.0.0.1, writes {"baseURL", "apiKey", "port", "bubblewrap"} to INFO_FILE,
// serves until INFO_FILE.stop appears (or NOVITA_FAKE_SERVE_SECONDS, default 600, pass), then
// writes the request log to INFO_FILE.log.

let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "github" {
    try await serveGitHub(Array(arguments.dropFirst()))
    exit(0)
}
guard arguments.count == 2, ["novita", "anthropic"].contains(arguments.first!), let infoPath = arguments.last else {
    FileHandle.standardError.write(Data("usage: ca-fakes novita|anthropic INFO_FILE | ca-fakes github [--port N] [--seconds S]\n".utf8))
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

/// `ca-fakes github`: seeds a demo repository, prints where it is, and serves.
func serveGitHub(_ options: [String]) async throws {
    var port = 0, seconds = 600
    var rest = options[...]
    while let option = rest.popFirst() {
        guard let value = rest.popFirst().flatMap({ Int($0) }) else {
            FileHandle.standardError.write(Data("ca-fakes github: \(option) needs a number\n".utf8)); exit(64)
        }
        switch option {
        case "--port": port = value
        case "--seconds": seconds = value
        default: FileHandle.standardError.write(Data("ca-fakes github: unknown option \(option)\n".utf8)); exit(64)
        }
    }
    let github = try FakeGitHub(port: port)
    try await github.start()
    let token = "ghp_demoOwnerToken" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16)
    let reviewerToken = "ghp_demoReviewerToken" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16)
    github.addToken(token, user: "octo")
    github.addToken(reviewerToken, user: "hubot")
    try await github.createRepository(owner: "octo", name: "demo", isPrivate: true,
                                      files: ["README.md": "# demo\n", "src/app.py": "def main():\n    return 1\n"], collaborators: ["hubot"])
    var files: [String: String?] = ["src/app.py": "def main():\n    return 2\n\n\nprint(main())\n"]
    for index in 0..<34 { files["docs/page\(index).md"] = "# Page \(index)\n\nText.\n" }
    try await github.commit(owner: "octo", name: "demo", branch: "feature", files: files, message: "Feature work")
    try await github.commit(owner: "octo", name: "demo", branch: "topic", files: ["topic.txt": "topic\n"], message: "Topic")
    let pull = try await github.openPullRequest(owner: "octo", name: "demo", title: "Feature", body: "Adds pages.", head: "feature", author: "hubot")
    let issue = try github.createIssue(owner: "octo", name: "demo", title: "A bug", body: "It breaks.", author: "hubot",
                                       comments: [("hubot", "Steps follow."), ("octo", "Thanks.")])
    let info: [String: Any] = [
        "serverURL": github.serverURL.absoluteString, "apiURL": github.apiURL.absoluteString, "token": token,
        "reviewerToken": reviewerToken, "owner": "octo", "repo": "demo", "pull": pull, "issue": issue,
    ]
    let line = try JSONSerialization.data(withJSONObject: info, options: [.sortedKeys])
    FileHandle.standardOutput.write(line + Data("\n".utf8))
    try await Task.sleep(for: .seconds(seconds))
    try await github.stop()
}
