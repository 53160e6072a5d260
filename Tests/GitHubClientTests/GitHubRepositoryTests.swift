import Foundation
import Testing
@testable import GitHubClient

@Suite("GitHubRepository")
struct GitHubRepositoryTests {
    @Test func validNames() throws {
        let repository = try #require(GitHubRepository(owner: "octo-cat", name: "hello.world_2-x"))
        #expect(repository.description == "octo-cat/hello.world_2-x")
        #expect(GitHubRepository(owner: "a", name: "b.git")?.name == "b")
        #expect(GitHubRepository(owner: String(repeating: "a", count: 39), name: String(repeating: "b", count: 100)) != nil)
        #expect(GitHubRepository(shorthand: "apple/swift")?.owner == "apple")
        #expect(GitHubRepository(shorthand: "apple/swift.git")?.name == "swift")
    }

    @Test(arguments: [
        "", "/", "a/", "/b", "a/b/c", "a//b", "-a/b", "a_b/c", "a.b/c", "a/.", "a/..", "a/.git",
        "a/b c", "a/b\n", "a/b?x", "a/b#x", "a/%2e%2e", "a/ü", "ä/b", "a/b\u{0}", " a/b", "a/b/",
        String(repeating: "a", count: 40) + "/b", "a/" + String(repeating: "b", count: 101), "../etc", "a/b;rm",
    ])
    func hostileShorthands(_ text: String) {
        #expect(GitHubRepository(shorthand: text) == nil, "\(text.debugDescription) should be refused")
    }

    @Test func codableAsString() throws {
        let repository = try #require(GitHubRepository(shorthand: "o/r"))
        let data = try JSONEncoder().encode([repository])
        #expect(String(decoding: data, as: UTF8.self) == #"["o\/r"]"# || String(decoding: data, as: UTF8.self) == #"["o/r"]"#)
        #expect(try JSONDecoder().decode([GitHubRepository].self, from: data) == [repository])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([GitHubRepository].self, from: Data(#"["../x"]"#.utf8)) }
    }
}
