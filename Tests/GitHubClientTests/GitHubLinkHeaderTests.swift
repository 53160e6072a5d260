import Testing
@testable import GitHubClient

@Suite("Link header")
struct GitHubLinkHeaderTests {
    @Test func nextAmongOthers() {
        let header = #"<https://api.github.com/repositories/1300192/issues?page=2&per_page=100>; rel="next", <https://api.github.com/repositories/1300192/issues?page=5>; rel="last""#
        #expect(GitHubLinkHeader.next(in: header) == "https://api.github.com/repositories/1300192/issues?page=2&per_page=100")
    }

    @Test func variants() {
        #expect(GitHubLinkHeader.next(in: #"<https://x/a?after=abc%3D>;rel=next"#) == "https://x/a?after=abc%3D")
        #expect(GitHubLinkHeader.next(in: #"<https://x/p1>; rel="prev", <https://x/p3>; rel="next last""#) == "https://x/p3")
        #expect(GitHubLinkHeader.next(in: #"<https://x/a,b>; rel="next""#) == "https://x/a,b")
        #expect(GitHubLinkHeader.next(in: #"<https://x/1>; rel="last""#) == nil)
        #expect(GitHubLinkHeader.next(in: "") == nil)
        #expect(GitHubLinkHeader.next(in: "garbage; rel=next") == nil)
        #expect(GitHubLinkHeader.next(in: #"<https://x/1; rel="next""#) == nil)
        #expect(GitHubLinkHeader.parse(#"<a>; rel="first", <b>; title="x, y"; rel="next""#).map(\.url) == ["a", "b"])
        #expect(GitHubLinkHeader.next(in: #"<a>; rel="first", <b>; title="x, y"; rel="next""#) == "b")
    }
}
