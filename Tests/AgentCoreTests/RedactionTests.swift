import Foundation
import Testing
@testable import AgentCore

/// The forms a hostile agent can copy a secret in, built independently of the redactor.
private enum SecretCopies {
    static let key = "sk-ant-api03-R2D2c3po_x/y+z-0123456789abcdef"

    /// Name and text of every form, each one valid inside a JSON string literal.
    static func all(_ secret: String = key) -> [(String, String)] {
        let bytes = Array(secret.utf8)
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let minimalUpper = secret.addingPercentEncoding(withAllowedCharacters: unreserved)!
        var forms: [(String, String)] = [
            ("exact", secret),
            ("json \\u every character", secret.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined()),
            ("json \\U upper hex", secret.unicodeScalars.map { String(format: "\\u%04X", $0.value) }.joined()),
            ("json \\/ only", secret.replacingOccurrences(of: "/", with: "\\/")),
            ("json after an escaped control character", "\\u001b[0m\\n" + secret.replacingOccurrences(of: "-", with: "\\u002D")),
            ("json one \\u002d", secret.replacingOccurrences(of: "sk-", with: "sk\\u002d")),
            ("percent minimal upper", minimalUpper),
            ("percent minimal lower", lowercasingHex(minimalUpper)),
            ("percent full upper", bytes.map { String(format: "%%%02X", $0) }.joined()),
            ("percent full lower", bytes.map { String(format: "%%%02x", $0) }.joined()),
            ("percent with json-escaped %", bytes.map { String(format: "\\u0025%02x", $0) }.joined()),
            ("hex", bytes.map { String(format: "%02x", $0) }.joined()),
        ]
        for prefix in 0..<3 {
            for suffix in 0..<3 {
                let stream = Data((0..<prefix).map { UInt8(0x41 + $0) } + bytes + (0..<suffix).map { UInt8(0x61 + $0) })
                let standard = stream.base64EncodedString()
                forms.append(("base64 +\(prefix)/+\(suffix)", standard))
                forms.append(("base64 json-escaped +\(prefix)/+\(suffix)", standard.replacingOccurrences(of: "/", with: "\\/")))
                forms.append(("base64url +\(prefix)/+\(suffix)", standard.replacingOccurrences(of: "+", with: "-")
                    .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")))
            }
        }
        return forms
    }

    private static func lowercasingHex(_ s: String) -> String {
        var out = ""
        var pending = 0
        for c in s {
            if c == "%" { pending = 2; out.append(c) } else if pending > 0 { pending -= 1; out += c.lowercased() } else { out.append(c) }
        }
        return out
    }

    /// Every string and key in a `JSONSerialization` value.
    static func strings(in value: Any) -> [String] {
        switch value {
        case let s as String: return [s]
        case let a as [Any]: return a.flatMap(strings(in:))
        case let o as [String: Any]: return o.flatMap { [$0.key] + strings(in: $0.value) }
        default: return []
        }
    }
}

@Suite struct RedactionTests {
    let redactor = SecretRedactor(secrets: [SecretCopies.key])

    func makeStore() async throws -> (TaskStore, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ca-redact-\(UUID().uuidString)")
        let store = try TaskStore(path: dir.appendingPathComponent("ca.sqlite").path)
        try await store.insert(TaskRecord(id: "t", prompt: "p", repositoryURL: "/tmp/r", sandboxBackend: .local, timeoutSeconds: 60))
        return (store, dir)
    }

    /// A stream-json line carrying `form` inside a text block.
    func line(_ form: String) -> String {
        #"{"type":"assistant","message":{"content":[{"type":"text","text":"look: \#(form) <- there"}]},"session_id":"s"}"#
    }

    /// Whether a stored text is valid JSON whose decoded strings hold no form of the secret.
    func isClean(_ text: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return false }
        return !redactor.containsSecret(Data(text.utf8))
            && SecretCopies.strings(in: object).allSatisfy { !$0.contains(SecretCopies.key) && !redactor.containsSecret($0) }
    }

    @Test func everyFormIsRedactedInAnIngestedLine() async throws {
        let (store, dir) = try await makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        let ingestor = EventIngestor(store: store, taskID: "t", redactor: redactor)
        let forms = SecretCopies.all()
        for (name, form) in forms {
            let events = try await ingestor.ingest(Data((line(form) + "\n").utf8))
            #expect(events.count == 1, "\(name)")
            for case .assistantText(let text) in events.flatMap(\.kinds) {
                #expect(text.contains("[REDACTED]") && !text.contains(SecretCopies.key), "\(name): \(text)")
            }
        }
        let stored = try await store.events(taskID: "t")
        #expect(stored.count == forms.count)
        for (event, (name, form)) in zip(stored, forms) {
            #expect(event.type == "assistant", "\(name)")
            #expect(!event.payload.contains(form), "\(name): \(event.payload)")
            #expect(event.payload.contains("[REDACTED]"), "\(name): \(event.payload)")
            #expect(isClean(event.payload), "\(name): \(event.payload)")
        }
    }

    @Test func everyFormIsRedactedInTranscriptLines() async throws {
        let forms = SecretCopies.all()
        var input = #"{"type":"summary","summary":"clean line stays as written: a\/b \u00e9"}"# + "\n"
        for (i, (_, form)) in forms.enumerated() { input += line(form) + (i % 2 == 0 ? "\n" : "\r\n") }
        input += "not json \(SecretCopies.key)\n"
        input += #"{"type":"user","tail":"no newline at the end"}"#
        let output = redactor.redactJSONLines(Data(input.utf8))

        // Split on bytes: "\r\n" is one Character.
        func lines(_ data: Data) -> [String] {
            Array(data).split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }
        let inLines = lines(Data(input.utf8)), outLines = lines(output)
        try #require(outLines.count == inLines.count)
        #expect(outLines.first == inLines.first)
        #expect(outLines.last == inLines.last)
        #expect(outLines[outLines.count - 2] == "not json [REDACTED]")
        for (i, (name, _)) in forms.enumerated() {
            let out = outLines[i + 1]
            #expect(out.utf8.last == 0x0D ? i % 2 == 1 : i % 2 == 0, "\(name): line ending")
            #expect(isClean(out), "\(name): \(out)")
        }
        #expect(!redactor.containsSecret(output))
        // Nothing to redact: the same bytes.
        #expect(SecretRedactor(secrets: []).redactJSONLines(Data(input.utf8)) == Data(input.utf8))
    }

    @Test func containsSecretFindsEveryFormAndNothingElse() async {
        for (name, form) in SecretCopies.all() {
            let patch = "diff --git a/.env b/.env\n+++ b/.env\n@@ -0,0 +1 @@\n+ANTHROPIC_API_KEY=\(form)\n"
            #expect(redactor.containsSecret(Data(patch.utf8)), "\(name)")
            #expect(redactor.containsSecret(form), "\(name)")
            #expect(redactor.redact("x \(form) y") != "x \(form) y", "\(name)")
        }
        let ordinary = [
            "diff --git a/README.md b/README.md\n+Fix the parser: 100% of tests pass now.\n",
            #"{"type":"user","content":"\u001b[32mok\u001b[0m https:\/\/example.com\/a%20b%2Fc"}"#,
            Data("an ordinary base64 payload that is long enough to cross many groups".utf8).base64EncodedString(),
            "sk-ant-api03-R2D2c3po_x/y+z-0123456789abcde", // one character short of the key
            String(repeating: "%41", count: 50),
            "",
        ]
        for text in ordinary {
            #expect(!redactor.containsSecret(Data(text.utf8)), "\(text)")
            #expect(redactor.redactIfNeeded(text) == nil, "\(text)")
        }
    }

    @Test func shortSecretsAreIgnored() async {
        let short = SecretRedactor(secrets: ["abc12", ""], tokenShapes: false)
        #expect(short.isEmpty)
        #expect(short.redactIfNeeded("abc12 YWJjMTI= %61%62%63%31%32") == nil)
        #expect(!short.containsSecret(Data("abc12".utf8)))
        #expect(short.redactJSONLines(Data(#"{"a":"abc12"}"#.utf8)) == Data(#"{"a":"abc12"}"#.utf8))
    }

    @Test func githubTokenShapesAreRedactedWithoutBeingConfigured() async {
        let redactor = SecretRedactor(secrets: [])
        let body = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_11ABCDEFG_"] {
            let token = prefix + body
            #expect(redactor.redact("token=\(token); next") == "token=[REDACTED]; next", "\(prefix)")
            #expect(redactor.containsSecret(Data("export GH_TOKEN=\(token)\n".utf8)), "\(prefix)")
            // Percent- and JSON-escaped copies are found too.
            #expect(!redactor.redact(#"{"t":"\#(token.replacingOccurrences(of: "_", with: "\\u005f"))"}"#).contains(body), "\(prefix)")
            let line = Data(#"{"type":"assistant","text":"use \#(token) now"}"#.utf8)
            #expect(!String(decoding: redactor.redactJSONLines(line), as: UTF8.self).contains(body), "\(prefix)")
        }
        // Words that merely start like a token stay.
        for text in ["ghs_test", "the ghp_ prefix marks classic tokens", "github_pat_short", "a high thought"] {
            #expect(redactor.redactIfNeeded(text) == nil, "\(text)")
        }
        #expect(!SecretRedactor(secrets: [], tokenShapes: false).containsSecret("ghp_" + body))
    }

    @Test func replacingBytesNeverLeavesInvalidJSON() async throws {
        // A (contrived) secret spanning JSON structure: the stored payload is still JSON.
        let odd = SecretRedactor(secrets: [#"gh","x"#])
        let (store, dir) = try await makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        let ingestor = EventIngestor(store: store, taskID: "t", redactor: odd)
        try await ingestor.ingest(Data((#"{"type":"assistant","a":"gh","x":"y"}"# + "\n").utf8))
        let payload = try #require(try await store.events(taskID: "t").first).payload
        #expect(!payload.contains(#"gh","x"#))
        #expect((try? JSONSerialization.jsonObject(with: Data(payload.utf8))) != nil, "\(payload)")
    }

    @Test func decodedStringsAreCheckedAsWell() async throws {
        // Escapes nested deeper than the byte pass decodes: only the decoded JSON string shows the key.
        let form = #"\u005cu005cu005cu0073"# + SecretCopies.key.dropFirst()
        #expect(!redactor.containsSecret(form))
        let (store, dir) = try await makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        let ingestor = EventIngestor(store: store, taskID: "t", redactor: redactor)
        try await ingestor.ingest(Data((line(form) + "\n").utf8))
        let payload = try #require(try await store.events(taskID: "t").first).payload
        #expect(payload.contains("[REDACTED]") && isClean(payload), "\(payload)")
        let transcript = String(decoding: redactor.redactJSONLines(Data((line(form) + "\n").utf8)), as: UTF8.self)
        #expect(transcript.contains("[REDACTED]") && isClean(transcript), "\(transcript)")
    }

    @Test func escapedKeyNeverReachesAStoredPayloadDecoded() async throws {
        let (store, dir) = try await makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        let ingestor = EventIngestor(store: store, taskID: "t", redactor: redactor)
        let key = SecretCopies.key
        var stream = ""
        for (_, form) in SecretCopies.all() {
            stream += #"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"x","content":"env: ANTHROPIC_API_KEY=\#(form)"}]},"tool_use_result":{"stdout":"\#(form)"}}"# + "\n"
            stream += #"{"type":"system","subtype":"status","\#(form)":["\#(form)",{"nested":"\#(form)"}]}"# + "\n"
        }
        stream += "raw print \\u0073\\u006b-ant \(key)\n"
        // Fed in small chunks, so escapes and forms are cut across chunk boundaries.
        let bytes = Data(stream.utf8)
        var offset = 0
        while offset < bytes.count {
            try await ingestor.ingest(bytes.subdata(in: offset..<min(offset + 37, bytes.count)))
            offset += 37
        }
        try await ingestor.finish()
        try await ingestor.note("clone", "cloning with \(key)")
        let stored = try await store.events(taskID: "t")
        #expect(stored.count == SecretCopies.all().count * 2 + 2)
        for event in stored {
            let object = try #require(try? JSONSerialization.jsonObject(with: Data(event.payload.utf8)), "\(event.payload)")
            for string in SecretCopies.strings(in: object) {
                #expect(!string.contains(key), "\(event.sequence): \(string)")
                #expect(!redactor.containsSecret(string), "\(event.sequence): \(string)")
            }
            #expect(!redactor.containsSecret(event.payload), "\(event.sequence): \(event.payload)")
        }
    }

    // MARK: - URLs

    @Test func repositoryURLsLoseCredentialsAndTokenParameters() async throws {
        let cases: [(String, String)] = [
            ("https://x-token:ghp_secret@github.com/o/r.git", "https://github.com/o/r.git"),
            ("https://oauth2@gitlab.com/o/r.git", "https://gitlab.com/o/r.git"),
            ("https://github.com/o/r.git?access_token=abc&ref=main#readme", "https://github.com/o/r.git?ref=main#readme"),
            ("https://gitlab.example/o/r.git?PRIVATE_TOKEN=abc", "https://gitlab.example/o/r.git"),
            ("https://h/r.git?token=1&key=2&sig=3&signature=4&auth=5&password=6&keep=7", "https://h/r.git?keep=7"),
            ("https://s3.example/b/r.bundle?X-Amz-Date=20250101&X-Amz-Signature=ff&X-Amz-Security-Token=tt", "https://s3.example/b/r.bundle?X-Amz-Date=20250101"),
            ("https://u:p@h/r.git?x=1&api_key=z#f", "https://h/r.git?x=1#f"),
            ("git@github.com:o/r.git", "git@github.com:o/r.git"),
            ("deploy:hunter22@github.com:o/r.git", "github.com:o/r.git"),
            ("ssh://git@github.com/o/r.git", "ssh://github.com/o/r.git"),
            ("/home/me/repo", "/home/me/repo"),
            ("file:///srv/repo.git", "file:///srv/repo.git"),
        ]
        for (input, expected) in cases {
            #expect(RepositorySource.redactCredentials(input) == expected, "\(input)")
        }
        let scp = try RepositorySource("deploy:hunter22@github.com:o/r.git")
        #expect(scp.location == .remote("deploy:hunter22@github.com:o/r.git"))
        #expect(scp.displayURL == "github.com:o/r.git")
        #expect(try RepositorySource("git@github.com:o/r.git").displayURL == "git@github.com:o/r.git")
        #expect(try RepositorySource("https://h/r.git?private_token=abc").displayURL == "https://h/r.git")
    }

    @Test func gitErrorsQuotingURLsAreRedacted() async {
        let error = TaskError.repositoryUnreachable("https://h/r.git",
                                                    "fatal: unable to access 'https://me:s3cr3t-pw@h/r.git/?token=zzz9&x=1': 403")
        #expect(error.description == "cannot reach repository https://h/r.git: fatal: unable to access 'https://h/r.git/?x=1': 403")
        #expect(TaskError.step("git fetch https://u:pw-123456@h/x failed").description == "git fetch https://h/x failed")
        #expect(TaskError.step("nothing to see").description == "nothing to see")
    }

    @Test func baseURLCredentialsAreSecrets() async {
        let credentials = AgentCredentials(apiKey: "sk-ant-key-123456", baseURL: "https://proxy-user:pa%40ss-987654@llm.example/v1?key=qwerty-123&region=eu")
        let secrets = credentials.secrets
        #expect(secrets.contains("sk-ant-key-123456"))
        #expect(secrets.contains("proxy-user"))
        #expect(secrets.contains("pa%40ss-987654") && secrets.contains("pa@ss-987654"))
        #expect(secrets.contains("qwerty-123"))
        #expect(!secrets.contains("eu"))
        #expect(credentials.displayBaseURL == "https://llm.example/v1?region=eu")
        #expect(AgentCredentials(baseURL: "http://127.0.0.1:8080").secrets.isEmpty)
        #expect(AgentCredentials(baseURL: "http://127.0.0.1:8080").displayBaseURL == "http://127.0.0.1:8080")
        let redactor = SecretRedactor(secrets: secrets)
        #expect(redactor.redact("proxy pa@ss-987654 and cGFAc3MtOTg3NjU0") == "proxy [REDACTED] and [REDACTED]")
    }
}
