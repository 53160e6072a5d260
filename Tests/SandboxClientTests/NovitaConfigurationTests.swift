import Foundation
import Testing
@testable import SandboxClient

@Suite struct NovitaConfigurationTests {
    @Test func novitaDefaults() throws {
        let configuration = try NovitaConfiguration.fromEnvironment(["NOVITA_API_KEY": "sk-1"])
        #expect(configuration.flavour == .novita)
        #expect(configuration.domain == "us-phx-1.sandbox.novita.ai")
        #expect(configuration.apiURL.absoluteString == "https://api.us-phx-1.sandbox.novita.ai")
        #expect(configuration.sandboxURL == nil)
        #expect(try configuration.envdBaseURL(sandboxID: "abc", sandboxDomain: nil).absoluteString == "https://49983-abc.us-phx-1.sandbox.novita.ai")
        #expect(try configuration.envdBaseURL(sandboxID: "abc", sandboxDomain: "eu.example").absoluteString == "https://49983-abc.eu.example")
    }

    @Test func novitaOverrides() throws {
        let configuration = try NovitaConfiguration.fromEnvironment([
            "NOVITA_API_KEY": "sk-1",
            "NOVITA_DOMAIN": "sandbox.example.org",
            "NOVITA_SANDBOX_URL": "http://127.0.0.1:9000",
        ])
        #expect(configuration.apiURL.absoluteString == "https://api.sandbox.example.org")
        #expect(try configuration.envdBaseURL(sandboxID: "abc", sandboxDomain: "x").absoluteString == "http://127.0.0.1:9000")
        let explicit = try NovitaConfiguration.fromEnvironment(["NOVITA_API_KEY": "k", "NOVITA_API_URL": "http://localhost:3000"])
        #expect(explicit.apiURL.absoluteString == "http://localhost:3000")
    }

    @Test func e2bNames() throws {
        let configuration = try NovitaConfiguration.fromEnvironment(["E2B_API_KEY": "e2b_1", "NOVITA_API_KEY": "ignored"], flavour: .e2b)
        #expect(configuration.apiKey == "e2b_1")
        #expect(configuration.domain == "e2b.app")
        #expect(configuration.apiURL.absoluteString == "https://api.e2b.app")
        #expect(configuration.flavour.sandboxIDHeader == "E2b-Sandbox-Id")
        #expect(!configuration.identityHeaders.contains { $0.0.hasPrefix("X-Novita") })
        let custom = try NovitaConfiguration.fromEnvironment(["E2B_API_KEY": "k", "E2B_DOMAIN": "e2b.dev", "E2B_SANDBOX_URL": "http://127.0.0.1:1"], flavour: .e2b)
        #expect(custom.apiURL.absoluteString == "https://api.e2b.dev")
        #expect(custom.sandboxURL?.absoluteString == "http://127.0.0.1:1")
        #expect(throws: SandboxError.configuration("E2B_API_KEY is not set")) {
            try NovitaConfiguration.fromEnvironment(["NOVITA_API_KEY": "k"], flavour: .e2b)
        }
    }

    @Test func missingOrBadSettings() {
        #expect(throws: SandboxError.configuration("NOVITA_API_KEY is not set")) {
            try NovitaConfiguration.fromEnvironment([:])
        }
        #expect(throws: SandboxError.configuration("NOVITA_API_KEY is not set")) {
            try NovitaConfiguration.fromEnvironment(["NOVITA_API_KEY": "  "])
        }
        #expect(throws: SandboxError.self) {
            try NovitaConfiguration.fromEnvironment(["NOVITA_API_KEY": "k", "NOVITA_API_URL": "ftp://x"])
        }
    }

    @Test func keyNeverPrinted() throws {
        let key = "sk-very-secret-123456"
        let configuration = try NovitaConfiguration.fromEnvironment(["NOVITA_API_KEY": key])
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [configuration.description, configuration.debugDescription, String(describing: configuration), String(reflecting: configuration), "\(configuration)", dumped] {
            #expect(!text.contains(key))
        }
        let provider = NovitaSandboxProvider(configuration: configuration, transport: NoTransport())
        var dumpedProvider = ""
        dump(provider, to: &dumpedProvider)
        for text in [String(describing: provider), String(reflecting: provider), dumpedProvider] {
            #expect(!text.contains(key))
        }
        #expect(provider.name == "novita")
    }

    @Test func identityHeadersNameThisClient() throws {
        let configuration = NovitaConfiguration(apiKey: "k", clientName: "ca", clientVersion: "1.2.3")
        #expect(configuration.userAgent == "ca/1.2.3")
        #expect(configuration.identityHeaders.map { "\($0.0): \($0.1)" } == ["User-Agent: ca/1.2.3", "X-Novita-SDK-Name: ca", "X-Novita-SDK-Version: 1.2.3"])
    }
}

/// A transport that is never used.
private struct NoTransport: NovitaHTTPTransport {
    func send(_ request: NovitaHTTPRequest) async throws(NovitaTransportError) -> NovitaHTTPResponse {
        throw NovitaTransportError(.other, "no transport")
    }
}
