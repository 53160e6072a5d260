import Foundation
import Testing
@testable import GitHubClient

@Suite("GitHubConfiguration")
struct GitHubConfigurationTests {
    @Test func defaults() throws {
        let configuration = try GitHubConfiguration.fromEnvironment([:])
        #expect(configuration.serverURL.absoluteString == "https://github.com")
        #expect(configuration.apiURL.absoluteString == "https://api.github.com")
        #expect(configuration.token == nil)
        #expect(configuration.gitConfiguration.isEmpty)
        #expect(configuration.secrets.isEmpty)
    }

    @Test func enterpriseServerDerivesAPIv3() throws {
        let configuration = try GitHubConfiguration.fromEnvironment(["GITHUB_SERVER_URL": "https://GHES.example.com/"])
        #expect(configuration.serverURL.absoluteString == "https://ghes.example.com")
        #expect(configuration.apiURL.absoluteString == "https://ghes.example.com/api/v3")
        let withPort = try GitHubConfiguration.fromEnvironment(["GITHUB_SERVER_URL": "http://127.0.0.1:8080"])
        #expect(withPort.apiURL.absoluteString == "http://127.0.0.1:8080/api/v3")
    }

    @Test func githubDotComServerKeepsDefaultAPI() throws {
        let configuration = try GitHubConfiguration.fromEnvironment(["GITHUB_SERVER_URL": "https://github.com"])
        #expect(configuration.apiURL.absoluteString == "https://api.github.com")
    }

    @Test func gheDotComUsesAPIHost() throws {
        let configuration = try GitHubConfiguration.fromEnvironment(["GITHUB_SERVER_URL": "https://acme.ghe.com"])
        #expect(configuration.apiURL.absoluteString == "https://api.acme.ghe.com")
    }

    @Test func explicitAPIURLWins() throws {
        let configuration = try GitHubConfiguration.fromEnvironment([
            "GITHUB_SERVER_URL": "https://ghes.example.com",
            "GITHUB_API_URL": "https://api.ghes.example.com/custom/",
        ])
        #expect(configuration.apiURL.absoluteString == "https://api.ghes.example.com/custom")
    }

    @Test(arguments: [
        "ftp://github.com", "github.com", "https://", "https:///path", "file:///etc/passwd", "javascript:alert(1)",
        "https://user:pass@github.com", "https://user@github.com", "https://github.com?x=1", "https://github.com#frag", "not a url",
    ])
    func invalidURLsAreRefused(_ text: String) {
        for variable in ["GITHUB_SERVER_URL", "GITHUB_API_URL"] {
            #expect(throws: GitHubError.self, "\(variable)=\(text)") {
                try GitHubConfiguration.fromEnvironment([variable: text])
            }
        }
    }

    @Test func userInfoErrorNamesTheProblemButNotThePassword() {
        do {
            _ = try GitHubConfiguration.fromEnvironment(["GITHUB_SERVER_URL": "https://x:ghp_secretsecret123@github.com"])
            Issue.record("should throw")
        } catch {
            guard case .invalidConfiguration(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("user name or password"))
            #expect(!error.description.contains("ghp_secretsecret123"))
        }
    }

    @Test func tokenPrecedenceAndTrimming() throws {
        #expect(try GitHubConfiguration.fromEnvironment(["GH_TOKEN": " a1 \n", "GITHUB_TOKEN": "b2"]).token == "a1")
        #expect(try GitHubConfiguration.fromEnvironment(["GH_TOKEN": "  ", "GITHUB_TOKEN": "b2"]).token == "b2")
        #expect(try GitHubConfiguration.fromEnvironment(["GH_TOKEN": "", "GITHUB_TOKEN": ""]).token == nil)
        #expect(throws: GitHubError.self) { try GitHubConfiguration.fromEnvironment(["GH_TOKEN": "abc\r\nX-Evil: 1"]) }
    }

    @Test func cloneURLAndGitConfiguration() throws {
        let configuration = try GitHubConfiguration.fromEnvironment(["GITHUB_SERVER_URL": "https://ghes.example.com", "GH_TOKEN": "ghp_abc"])
        let repository = try #require(GitHubRepository(shorthand: "o/r"))
        #expect(configuration.cloneURL(for: repository) == "https://ghes.example.com/o/r.git")
        let basic = Data("x-access-token:ghp_abc".utf8).base64EncodedString()
        #expect(configuration.gitConfiguration.count == 1)
        #expect(configuration.gitConfiguration.first?.key == "http.https://ghes.example.com/.extraHeader")
        #expect(configuration.gitConfiguration.first?.value == "Authorization: Basic \(basic)")
        #expect(configuration.secrets == ["ghp_abc", basic])
    }

    @Test func repositoryInURL() throws {
        let configuration = try GitHubConfiguration.fromEnvironment([:])
        #expect(configuration.repository(inURL: "https://github.com/o/r")?.description == "o/r")
        #expect(configuration.repository(inURL: "https://github.com/o/r.git")?.description == "o/r")
        #expect(configuration.repository(inURL: "https://github.com/o/r/")?.description == "o/r")
        #expect(configuration.repository(inURL: "https://GitHub.com:443/o/r.git")?.description == "o/r")
        #expect(configuration.repository(inURL: "https://x-access-token:t@github.com/o/r.git")?.description == "o/r")
        for hostile in [
            "http://github.com/o/r", "https://github.com.evil.com/o/r", "https://evil.com/github.com/o/r", "https://github.com:444/o/r",
            "https://github.com/o", "https://github.com/o/r/pulls", "https://github.com/o/r?x", "https://github.com/../r",
            "git@github.com:o/r.git", "ssh://git@github.com/o/r.git", "https://github.com/o/r%2F..", "https://github.com/o/.git", "",
        ] {
            #expect(configuration.repository(inURL: hostile) == nil, "\(hostile)")
        }
        let ghes = try GitHubConfiguration.fromEnvironment(["GITHUB_SERVER_URL": "http://127.0.0.1:9000"])
        #expect(ghes.repository(inURL: "http://127.0.0.1:9000/o/r.git")?.description == "o/r")
        #expect(ghes.repository(inURL: "http://127.0.0.1:9001/o/r.git") == nil)
    }
}
