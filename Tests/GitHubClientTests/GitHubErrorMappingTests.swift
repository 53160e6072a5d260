import Foundation
import Testing
@testable import GitHubClient

@Suite("Error mapping")
struct GitHubErrorMappingTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func classify(_ status: Int, _ body: String, headers: [String: String] = [:], what: String = "repository o/r") -> GitHubResponseClassifier.Outcome {
        GitHubResponseClassifier.classify(status: status, headers: headers, body: Data(body.utf8), what: what, now: now, secrets: ["sekrit-token-1"])
    }

    @Test func validationFailedObjects() {
        let body = #"{"message":"Validation Failed","errors":[{"resource":"PullRequest","field":"head","code":"invalid"},{"resource":"PullRequest","code":"custom","message":"No commits between main and feature"}],"documentation_url":"https://docs.github.com","status":"422"}"#
        #expect(classify(422, body) == .failure(.validationFailed(message: "Validation Failed", details: ["PullRequest.head: invalid", "No commits between main and feature"])))
    }

    @Test func unprocessableEntityStrings() {
        let body = #"{"message":"Unprocessable Entity","errors":["Pull request review thread line must be part of the diff", 42, null],"status":"422"}"#
        #expect(classify(422, body) == .failure(.validationFailed(message: "Unprocessable Entity", details: ["Pull request review thread line must be part of the diff"])))
    }

    @Test func pullRequestExists() {
        let body = #"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for octo:feature."}]}"#
        #expect(classify(422, body) == .failure(.pullRequestExists("A pull request already exists for octo:feature.")))
    }

    @Test func statusAsNumberOrMissingErrorsIsFine() {
        #expect(classify(422, #"{"message":"Body can't be blank","status":422}"#) == .failure(.validationFailed(message: "Body can't be blank", details: [])))
        #expect(classify(422, #"{"message":"x","errors":"weird"}"#) == .failure(.validationFailed(message: "x", details: [])))
    }

    @Test func simpleStatuses() {
        #expect(classify(401, #"{"message":"Bad credentials"}"#) == .failure(.badCredentials("Bad credentials")))
        #expect(classify(404, #"{"message":"Not Found"}"#, what: "pull request #3 of o/r") == .failure(.notFound("pull request #3 of o/r")))
        #expect(classify(410, "") == .failure(.notFound("repository o/r")))
        #expect(classify(502, "<html>Bad gateway</html>") == .failure(.server(status: 502, message: "<html>Bad gateway</html>")))
        #expect(classify(500, #"{"message":"Server Error"}"#) == .failure(.server(status: 500, message: "Server Error")))
        #expect(classify(403, #"{"message":"Resource not accessible by integration"}"#, headers: ["x-ratelimit-remaining": "4999"])
            == .failure(.forbidden("Resource not accessible by integration")))
    }

    @Test func nonJSONForbiddenAndControlCharacters() {
        let text = "Request forbidden by administrative rules.\u{1B}[31m Please make sure your request has a User-Agent header\r\n"
        guard case .failure(.forbidden(let message)) = classify(403, text) else { Issue.record("not forbidden"); return }
        #expect(!message.contains("\u{1B}"))
        #expect(!message.contains("\n"))
        #expect(message.hasPrefix("Request forbidden by administrative rules."))
        #expect(GitHubText.sanitized("a\u{202E}b 👨‍👩‍👧") == "a b 👨‍👩‍👧")
    }

    @Test func messagesAreBoundedAndRedacted() {
        let long = String(repeating: "a", count: 5000)
        guard case .failure(.server(_, let message)) = classify(500, #"{"message":"\#(long)"}"#) else { Issue.record("no"); return }
        #expect(message.count <= GitHubText.maximumMessageLength + 1)
        guard case .failure(.badCredentials(let echoed)) = classify(401, #"{"message":"token sekrit-token-1 is bad"}"#) else { Issue.record("no"); return }
        #expect(!echoed.contains("sekrit-token-1"))
    }

    @Test func primaryRateLimit() {
        let headers = ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000030"]
        let outcome = classify(403, #"{"message":"API rate limit exceeded for user ID 1."}"#, headers: headers)
        #expect(outcome == .rateLimited(secondary: false, resetsAt: Date(timeIntervalSince1970: 1_700_000_030), wait: .seconds(31)))
        #expect(classify(429, "", headers: headers) == outcome)
    }

    @Test func secondaryRateLimit() {
        let message = #"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#
        #expect(classify(403, message, headers: ["x-ratelimit-remaining": "4000"])
            == .rateLimited(secondary: true, resetsAt: now.addingTimeInterval(60), wait: .seconds(60)))
        #expect(classify(403, message, headers: ["retry-after": "7"])
            == .rateLimited(secondary: true, resetsAt: now.addingTimeInterval(7), wait: .seconds(7)))
        #expect(classify(403, #"{"message":"You have triggered an abuse detection mechanism."}"#)
            == .rateLimited(secondary: true, resetsAt: now.addingTimeInterval(60), wait: .seconds(60)))
        #expect(classify(429, "slow down") == .rateLimited(secondary: true, resetsAt: now.addingTimeInterval(60), wait: .seconds(60)))
        #expect(classify(403, "nope", headers: ["retry-after": "2.5"]) == .rateLimited(secondary: true, resetsAt: now.addingTimeInterval(2.5), wait: .milliseconds(2500)))
    }

    @Test func hostileRateLimitHeaders() {
        // Unparseable values are ignored rather than trusted.
        let outcome = classify(403, "", headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "1e400", "retry-after": "-5"])
        guard case .rateLimited(let secondary, _, let wait) = outcome else { Issue.record("\(outcome)"); return }
        #expect(!secondary)
        #expect(wait == .seconds(60))
        let huge = classify(403, "", headers: ["retry-after": "99999999999"])
        guard case .rateLimited(_, _, let hugeWait) = huge else { Issue.record("\(huge)"); return }
        #expect(hugeWait <= .seconds(86_400 * 30))
    }

    @Test func descriptionsAreClearAndNeverShowTokens() {
        #expect(GitHubError.notFound("repository o/r").description == "Repository o/r was not found on GitHub, or the token has no access to it")
        #expect(GitHubError.noToken.description.contains("GH_TOKEN"))
        let leaky = GitHubError.transport("failed with Authorization: Bearer abc123def456 and ghp_ABCDEFGHIJKLMNOP1234 and github_pat_11AAAA_bbbb")
        #expect(!leaky.description.contains("abc123def456"))
        #expect(!leaky.description.contains("ghp_ABCDEFGHIJKLMNOP1234"))
        #expect(!leaky.description.contains("github_pat_11AAAA_bbbb"))
        #expect(GitHubError.forbidden("the token provided lacks scope").description.contains("provided"))
        #expect(GitHubError.rateLimited(resetsAt: nil, secondary: true).description.contains("secondary"))
        #expect(GitHubError.validationFailed(message: "Validation Failed", details: ["a", "b"]).description.contains("(a; b)"))
    }
}
