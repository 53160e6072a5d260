import AgentCore
import CATestSupport
import Foundation
import Testing

/// The dashboard's sign-in session and the headers of `ca serve`, over plain HTTP (the browser
/// tests in `DashboardBrowserTests` drive the same through Chromium).
@Suite struct DashboardSessionTests {
    static func cookie(from response: ServerHarness.Response) -> String? {
        guard let header = response.header("Set-Cookie"), let pair = header.split(separator: ";").first else { return nil }
        return String(pair)
    }

    @Test func aKeyBecomesAStrictHttpOnlyCookieThatNeedsTheCSRFHeaderToChangeAnything() async throws {
        let h = try await ServerHarness.start(script: [.hang])
        defer { Task { await h.cleanup() } }
        let key = try await h.key("dana")

        // Sign-in: JSON only, a wrong key is 401 and sets nothing.
        let wrong = try await h.request("POST", "/session", key: nil, json: ["key": "ca_wrong"])
        #expect(wrong.status == 401)
        #expect(wrong.header("Set-Cookie") == nil)
        let form = try await h.request("POST", "/session", key: nil, rawBody: Data("key=\(key)".utf8),
                                       headers: [("Content-Type", "application/x-www-form-urlencoded")])
        #expect(form.status == 415, "a form post cannot sign in")
        let signedIn = try await h.request("POST", "/session", key: nil, json: ["key": key])
        #expect(signedIn.status == 200)
        let setCookie = try #require(signedIn.header("Set-Cookie"))
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
            #expect(setCookie.contains(attribute), "\(setCookie)")
        }
        #expect(!setCookie.contains(key), "the cookie is not the key")
        let cookie = try #require(Self.cookie(from: signedIn))
        let csrf = try #require(signedIn.json["csrf_token"] as? String)
        #expect(signedIn.json["name"] as? String == "dana")
        #expect(try WrittenBytes.all(under: h.root.appendingPathComponent("home")).range(of: Data(cookie.split(separator: "=")[1].utf8)) == nil, "the store keeps only the token's hash")

        // Reading with the cookie works; changing needs the CSRF header, which must match.
        let task = try await h.createTask("hang", key: key).json
        let id = try #require(task["id"] as? String)
        let read = try await h.request("GET", "/v1/tasks/\(id)", key: nil, headers: [("Cookie", cookie)])
        #expect(read.status == 200)
        let noToken = try await h.request("POST", "/v1/tasks/\(id)/cancel", key: nil, headers: [("Cookie", cookie)])
        #expect(noToken.status == 403)
        #expect(noToken.json["code"] as? String == "csrf_refused")
        let badToken = try await h.request("POST", "/v1/tasks/\(id)/cancel", key: nil, headers: [("Cookie", cookie), ("X-CSRF-Token", String(csrf.reversed()))])
        #expect(badToken.status == 403)
        let crossSite = try await h.request("POST", "/v1/tasks/\(id)/cancel", key: nil,
                                            headers: [("Cookie", cookie), ("X-CSRF-Token", csrf), ("Sec-Fetch-Site", "same-site")])
        #expect(crossSite.status == 403, "another origin on the same site is refused too")
        let stillRunning = try await h.request("GET", "/v1/tasks/\(id)", key: key).json
        #expect(stillRunning["status"] as? String != "cancelled")
        let cancelled = try await h.request("POST", "/v1/tasks/\(id)/cancel", key: nil,
                                            headers: [("Cookie", cookie), ("X-CSRF-Token", csrf), ("Sec-Fetch-Site", "same-origin")])
        #expect(cancelled.status == 202 || cancelled.status == 200, "\(cancelled.status) \(cancelled.text)")

        // GET /session answers who is signed in; sign-out ends the session for good.
        let who = try await h.request("GET", "/session", key: nil, headers: [("Cookie", cookie)])
        #expect(who.status == 200 && who.json["csrf_token"] as? String == csrf)
        let outWithoutToken = try await h.request("DELETE", "/session", key: nil, headers: [("Cookie", cookie)])
        #expect(outWithoutToken.status == 403)
        let out = try await h.request("DELETE", "/session", key: nil, headers: [("Cookie", cookie), ("X-CSRF-Token", csrf)])
        #expect(out.status == 204)
        #expect(out.header("Set-Cookie")?.contains("Max-Age=0") == true)
        #expect(try await h.request("GET", "/v1/tasks/\(id)", key: nil, headers: [("Cookie", cookie)]).status == 401)
        #expect(try await h.request("GET", "/session", key: nil, headers: [("Cookie", cookie)]).status == 401)
    }

    @Test func revokingTheKeyEndsItsSessions() async throws {
        let h = try await ServerHarness.start(script: [])
        defer { Task { await h.cleanup() } }
        let key = try await h.key("erin")
        let cookie = try #require(Self.cookie(from: try await h.request("POST", "/session", key: nil, json: ["key": key])))
        #expect(try await h.request("GET", "/v1/tasks", key: nil, headers: [("Cookie", cookie)]).status == 200)
        let service = try TaskService(environment: h.environment)
        #expect(try await service.revokeKey(name: "erin"))
        // The server keeps a found key 5 s.
        let deadline = ContinuousClock.now + .seconds(60)
        var status = 200
        while ContinuousClock.now < deadline {
            status = try await h.request("GET", "/v1/tasks", key: nil, headers: [("Cookie", cookie)]).status
            if status == 401 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(status == 401)
        // The follow-ups filter takes whole ids only.
        let service2 = try TaskService(environment: h.environment)
        let admin = try await service2.createKey(name: "admin2", admin: true)
        for bad in ["", "abc", String(repeating: "z", count: 14), "2nyfcqv37bckK"] {
            let answer = try await h.request("GET", "/v1/tasks?parent=\(bad)", key: admin)
            #expect(answer.status == 400 && answer.json["code"] as? String == "invalid_parameter", "parent=\(bad): \(answer.status)")
        }
        #expect(try await h.request("GET", "/v1/tasks?parent=2nyfcqv37bckk", key: admin).status == 200)
        // A made-up or malformed cookie is just not signed in.
        #expect(try await h.request("GET", "/v1/tasks", key: nil, headers: [("Cookie", "ca_session=" + String(repeating: "A", count: 43))]).status == 401)
        #expect(try await h.request("GET", "/v1/tasks", key: nil, headers: [("Cookie", "ca_session=../../etc")]).status == 401)
    }

    @Test func everyAnswerCarriesTheSecurityHeadersAndSavedFilesDownload() async throws {
        let h = try await ServerHarness.start(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/page.html", "content": "<script>alert(1)</script>\n"]),
            .text("Wrote a page."),
        ])
        defer { Task { await h.cleanup() } }
        let key = try await h.key("fay")
        let page = try await h.request("GET", "/", key: nil)
        #expect(page.status == 200)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        let policy = try #require(page.header("Content-Security-Policy"))
        for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"] {
            #expect(policy.contains(directive), "\(policy)")
        }
        #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
        #expect(page.text.components(separatedBy: "<script").count == 2 && page.text.contains("<script src=\"/assets/app.js\" defer></script>"),
                "one script, from a file: no inline code")
        for asset in ["/assets/app.js", "/assets/app.css", "/assets/icon.svg"] {
            let answer = try await h.request("GET", asset, key: nil)
            #expect(answer.status == 200 && !answer.body.isEmpty, "\(asset)")
        }
        #expect(try await h.request("GET", "/assets/nope.js", key: nil).status == 404)

        let created = try await h.createTask("write a page", key: key).json
        let id = try #require(created["id"] as? String)
        _ = try await h.waitForEnd(id, key: key)
        let file = try await h.request("GET", "/v1/tasks/\(id)/files/page.html", key: key)
        #expect(file.status == 200)
        #expect(file.text == "<script>alert(1)</script>\n")
        #expect(file.header("Content-Disposition") == "attachment")
        #expect(file.header("Content-Type") == "application/octet-stream")
        for answer in [page, file, try await h.request("GET", "/v1/tasks/\(id)", key: key)] {
            #expect(answer.header("X-Content-Type-Options") == "nosniff")
            #expect(answer.header("X-Frame-Options") == "DENY")
            #expect(answer.header("Referrer-Policy") == "no-referrer")
        }
        #expect(file.header("Content-Security-Policy")?.contains("sandbox") == true)
    }
}
