import Foundation
import Testing
@testable import GitHubClient

@Suite("GitHubReference.find")
struct GitHubReferenceTests {
    let configuration = GitHubConfiguration(serverURL: URL(string: "https://github.com")!, apiURL: URL(string: "https://api.github.com")!, token: nil)

    @Test func findsIssuesAndPullsInOrderWithoutRepeats() {
        let text = """
        Fix https://github.com/o/r/issues/12 and (https://github.com/o/r/pull/34/files#diff-1), see
        https://GITHUB.com/other/repo.js/pull/5?w=1. Again https://github.com/o/r/issues/12/ and https://github.com/o/r/pull/12.
        """
        let found = GitHubReference.find(in: text, configuration: configuration)
        #expect(found.map(\.url) == [
            "https://github.com/o/r/issues/12",
            "https://github.com/o/r/pull/34",
            "https://github.com/other/repo.js/pull/5",
        ])
        #expect(found.map(\.isPullRequest) == [false, true, true])
        #expect(found.map(\.number) == [12, 34, 5])
    }

    @Test func limitApplies() {
        let text = (1...10).map { "https://github.com/o/r/issues/\($0)" }.joined(separator: " ")
        #expect(GitHubReference.find(in: text, configuration: configuration).count == 5)
        #expect(GitHubReference.find(in: text, configuration: configuration, limit: 2).map(\.number) == [1, 2])
        #expect(GitHubReference.find(in: text, configuration: configuration, limit: 0).isEmpty)
    }

    @Test func ignoresHostileOrForeignLinks() {
        let text = """
        https://github.com/o/r/issues/0 https://github.com/o/r/issues/01 https://github.com/o/r/issues/2147483648
        https://github.com/o/r/issues/99999999999999999999 https://github.com/o/r/issues/12abc https://github.com/o/r/commits/3
        https://gitlab.com/o/r/issues/4 xhttps://github.com/o/r/issues/5 https://github.com.evil/o/r/issues/6
        https://github.com/-o/r/issues/7 https://github.com/o/../issues/8 http://github.com/o/r/issues/9 https://github.com/o/r/issues/
        """
        #expect(GitHubReference.find(in: text, configuration: configuration).isEmpty)
    }

    @Test func acceptsInt32Max() {
        let found = GitHubReference.find(in: "https://github.com/o/r/pull/2147483647", configuration: configuration)
        #expect(found.map(\.number) == [2_147_483_647])
    }

    @Test func enterpriseServer() {
        let ghes = GitHubConfiguration(serverURL: URL(string: "https://ghes.local:8443")!, apiURL: URL(string: "https://ghes.local:8443/api/v3")!, token: nil)
        let found = GitHubReference.find(in: "see https://ghes.local:8443/a/b/pull/3 and https://github.com/a/b/pull/4", configuration: ghes)
        #expect(found.map(\.url) == ["https://ghes.local:8443/a/b/pull/3"])
    }
}
