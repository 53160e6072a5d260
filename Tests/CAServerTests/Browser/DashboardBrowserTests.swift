import AgentCore
import CATestSupport
import Foundation
import Testing

/// The web dashboard in a real headless Chromium (Debian's `chromium` driven by `chromedriver`),
/// against a real `ca serve` running real Claude Code on the fake Anthropic API.
///
/// Screenshots of each step at 390 px and 1280 px go into `$CA_TEST_ARTIFACTS/browser`
/// (`scripts/test.sh` sets a folder per test run; by default `test-artifacts/<time>/`).
@Suite struct DashboardBrowserTests {
    /// Where this run's screenshots and downloads go.
    static let artifacts: URL = {
        let root = ProcessInfo.processInfo.environment["CA_TEST_ARTIFACTS"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("test-artifacts/\(Int(Date().timeIntervalSince1970))")
        let folder = root.appendingPathComponent("browser")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// A browser session of its own (downloads in a fresh folder), ended afterwards.
    static func withBrowser(_ body: (WebDriver, URL) async throws -> Void) async throws {
        let driver = try await Chromedriver.start()
        let downloads = FileManager.default.temporaryDirectory.appendingPathComponent("ca-downloads-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)
        do {
            let browser = try await driver.session(downloads: downloads)
            do {
                try await body(browser, downloads)
            } catch {
                await browser.quit()
                throw error
            }
            await browser.quit()
        } catch {
            await driver.stop()
            try? FileManager.default.removeItem(at: downloads)
            throw error
        }
        await driver.stop()
        try? FileManager.default.removeItem(at: downloads)
    }

    /// Whole-page screenshots at phone (390 px) and desktop (1280 px) width.
    static func screenshots(_ browser: WebDriver, _ name: String) async throws {
        for width in [390, 1280] {
            try await browser.resize(width: width, height: width == 390 ? 844 : 900)
            try await Task.sleep(for: .milliseconds(300))
            let height = try await browser.script("return document.documentElement.scrollHeight") as? Int ?? 900
            try await browser.resize(width: width, height: min(max(height + 120, 600), 4000))
            try await Task.sleep(for: .milliseconds(300))
            try await browser.screenshot().write(to: artifacts.appendingPathComponent("\(name)-\(width).png"))
        }
        try await browser.resize(width: 1280, height: 900)
    }

    static func signIn(_ browser: WebDriver, port: Int, key: String) async throws {
        try await browser.open("http://127.0.0.1:\(port)/")
        let field = try await browser.wait(for: "#key")
        try await field.type(key)
        try await browser.wait(for: "#sign-in-button").click()
        try await browser.wait(until: "return !document.getElementById('nav').hidden")
    }

    static func fact(_ browser: WebDriver, _ name: String) async throws -> String {
        try await browser.wait(for: "dd[data-fact='\(name)']").text
    }

    /// The dashboard does what the CLI does for a task: create, follow live, read the diff,
    /// fetch a file, resume, cancel.
    @Test func aTeammateCreatesFollowsReadsDownloadsResumesAndCancelsFromThePage() async throws {
        let h = try await ServerHarness.start(script: [
            // Task 1: one tool call, then a final answer held back 10 s so that the page shows
            // the log while the task still runs.
            .toolUse("Write", ["file_path": "{{cwd}}/hello.txt", "content": "hello from the page\n"], text: "I'll add hello.txt."),
            ScriptedTurn.text("Added hello.txt.").delayed(by: .seconds(10)),
            // Task 2, the resume.
            .toolUse("Bash", ["command": "printf 'and again\\n' >> hello.txt", "description": "append"]),
            .text("Appended a line."),
            // Task 3, cancelled from the page.
            .hang,
        ])
        defer { Task { await h.cleanup() } }
        let key = try await h.key("gail")
        try await Self.withBrowser { browser, downloads in
            try await browser.open("http://127.0.0.1:\(h.port)/")
            try await browser.wait(for: "#sign-in")
            try await Self.screenshots(browser, "01-sign-in")
            try await Self.signIn(browser, port: h.port, key: key)
            #expect(try await browser.wait(for: "#who").text == "gail")

            // New task form.
            try await browser.wait(for: "#nav-new").click()
            try await browser.wait(for: "#new-prompt").type("Add a hello file")
            try await browser.wait(for: "#new-repo").type(h.fixture.bare.path)
            try await browser.wait(for: "#new-sandbox").type("local")
            try await Self.screenshots(browser, "02-new-task")
            try await browser.wait(for: "#create").click()

            // The log shows the agent's first line and its tool call while the task runs.
            try await browser.wait(for: "#log li.assistant .text", containing: "I'll add hello.txt.")
            try await browser.wait(for: "#log li.assistant .tool", containing: "hello.txt")
            try await browser.wait(for: "dd[data-fact='status']", containing: "running")
            #expect(try await browser.all("#task-result").isEmpty, "the lines arrived live, before the end")
            try await Self.screenshots(browser, "03-task-running")

            // The end: status, result, diff and files without reloading.
            try await browser.wait(for: "dd[data-fact='status']", containing: "succeeded")
            try await browser.wait(for: "#task-result", containing: "Added hello.txt.")
            try await browser.wait(for: "#diff .line.add", containing: "+hello from the page")
            let link = try await browser.wait(for: "#files a.file-link", containing: "hello.txt")
            #expect(try await Self.fact(browser, "cost").hasPrefix("$"))
            try await Self.screenshots(browser, "04-task-finished")
            let firstURL = try await browser.currentURL
            let firstID = String(try #require(firstURL.split(separator: "/").last))

            // Download the saved file.
            try await link.click()
            let saved = downloads.appendingPathComponent("hello.txt")
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline, !FileManager.default.fileExists(atPath: saved.path) {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect((try? String(contentsOf: saved, encoding: .utf8)) == "hello from the page\n")

            // Resume with a new prompt: the child's page, its chain back to the parent.
            try await browser.wait(for: "#resume-prompt").type("Append a line")
            try await browser.wait(for: "#resume").click()
            try await browser.wait(until: "return location.hash.startsWith('#/tasks/') && !location.hash.endsWith('\(firstID)')")
            try await browser.wait(for: "#chain-parents a", containing: firstID)
            try await browser.wait(for: "dd[data-fact='status']", containing: "succeeded")
            try await browser.wait(for: "#diff .line.add", containing: "+and again")

            // The parent's page lists its follow-up.
            let childURL = try await browser.currentURL
            let childID = String(try #require(childURL.split(separator: "/").last))
            try await browser.open("http://127.0.0.1:\(h.port)/#/tasks/\(firstID)")
            try await browser.wait(for: "#chain-children a", containing: childID)
            let followUps = try await h.request("GET", "/v1/tasks?parent=\(firstID)", key: key).json["tasks"] as? [[String: Any]]
            #expect(followUps?.compactMap { $0["id"] as? String } == [childID])

            // The list shows both, newest first, and filters by status.
            try await browser.wait(for: "#nav-tasks").click()
            try await browser.wait(for: "#task-rows tr", containing: "Append a line")
            #expect(try await browser.all("#task-rows tr").count == 2)
            try await Self.screenshots(browser, "05-task-list")
            try await browser.open("http://127.0.0.1:\(h.port)/#/?status=running")
            try await browser.wait(for: "#no-tasks")
            try await browser.wait(until: "return !document.getElementById('no-tasks').hidden")

            // A long task, cancelled from its page.
            try await browser.open("http://127.0.0.1:\(h.port)/#/new")
            try await browser.wait(for: "#new-prompt").type("Wait forever")
            try await browser.wait(for: "#new-repo").type(h.fixture.bare.path)
            try await browser.wait(for: "#new-sandbox").type("local")
            try await browser.wait(for: "#create").click()
            try await browser.wait(for: "dd[data-fact='status']", containing: "running")
            let hanging = ContinuousClock.now + .seconds(120)
            while h.fake.consumedTurnCount < 5, ContinuousClock.now < hanging { try await Task.sleep(for: .milliseconds(100)) }
            #expect(h.fake.consumedTurnCount == 5, "the agent reached the hanging turn")
            try await browser.wait(for: "#cancel").click()
            try await browser.wait(for: "dd[data-fact='status']", containing: "cancelled")
            try await Self.screenshots(browser, "06-task-cancelled")

            // Sign out: the cookie no longer works, the page asks for a key again.
            try await browser.wait(for: "#sign-out").click()
            try await browser.wait(for: "#sign-in")
            try await browser.open("http://127.0.0.1:\(h.port)/#/")
            try await browser.wait(for: "#sign-in")
        }
    }

    /// Agent output written to make a browser run code stays text.
    @Test func hostileAgentOutputIsShownAsTextAndNeverRuns() async throws {
        let payload = #"<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> [click](javascript:window.__pwned=3) <a href="javascript:window.__pwned=4">x</a>"#
        let fileName = #"<img src=x onerror=window.__pwned=5>.txt"#
        let h = try await ServerHarness.start(script: [
            .toolUse("Bash", ["command": .string("printf '%s\\n' '<svg onload=window.__pwned=6>' > '\(fileName)'; echo '<script>window.__pwned=7</script>'"),
                              "description": .string(payload)], text: payload),
            .text(payload),
        ])
        defer { Task { await h.cleanup() } }
        let key = try await h.key("hank")
        let created = try await h.createTask(payload, key: key).json
        let id = try #require(created["id"] as? String)
        let ended = try await h.waitForEnd(id, key: key)
        #expect(ended["status"] as? String == "succeeded")
        try await Self.withBrowser { browser, _ in
            try await Self.signIn(browser, port: h.port, key: key)
            try await browser.wait(for: "#task-rows tr a.prompt", containing: "<script>window.__pwned=1</script>")
            try await browser.open("http://127.0.0.1:\(h.port)/#/tasks/\(id)")
            try await browser.wait(for: "#task-result", containing: payload)
            try await browser.wait(for: "#log li.assistant .text", containing: payload)
            // Open every collapsed tool result (WebDriver reads only shown text), so that anything
            // in them would also have had its chance.
            try await browser.wait(for: "#log li.tool-result details")
            try await browser.script("document.querySelectorAll('details').forEach((d) => { d.open = true; }); return true")
            try await browser.wait(for: "#log li.tool-result pre", containing: "<script>window.__pwned=7</script>")
            try await browser.wait(for: "#diff .line.add", containing: "+<svg onload=window.__pwned=6>")
            try await browser.wait(for: "#files .file-link", containing: fileName)
            try await browser.wait(for: "#task-prompt", containing: payload)
            try await Self.screenshots(browser, "07-hostile-output")
            #expect(try await browser.script("return typeof window.__pwned") as? String == "undefined", "nothing the agent wrote ran")
            let made = try await browser.script("""
                return document.querySelectorAll('#main script, #main img, #main svg, #main iframe').length
                    + document.querySelectorAll('a[href^="javascript"], [onerror], [onload]').length
                """) as? Int
            #expect(made == 0, "no element came from the agent's markup")
            #expect(try await browser.script("return document.scripts.length") as? Int == 1)
            // The list page too.
            try await browser.open("http://127.0.0.1:\(h.port)/#/")
            try await browser.wait(for: "#task-rows tr")
            #expect(try await browser.script("return typeof window.__pwned") as? String == "undefined")
        }
    }

    /// Another owner's task is neither listed nor reachable by URL; a form posted from another
    /// site (or another origin of the same site) cannot cancel a task.
    @Test func otherOwnersTasksAndCrossSiteFormsAreRefused() async throws {
        let h = try await ServerHarness.start(script: [.hang])
        defer { Task { await h.cleanup() } }
        let owner = try await h.key("ivy")
        let other = try await h.key("jack")
        let created = try await h.createTask("ivy's task", key: owner).json
        let id = try #require(created["id"] as? String)
        #expect(await h.fake.waitForRequests(count: 1, timeout: .seconds(60)))

        let evil = LoopbackHTTPServer { _, writer in
            let page = """
                <!doctype html><form method="POST" action="http://127.0.0.1:\(h.port)/v1/tasks/\(id)/cancel"></form>
                <script>document.forms[0].submit()</script>
                """
            try? await writer.respond(status: 200, headers: [("Content-Type", "text/html")], body: Data(page.utf8))
        }
        try await evil.start()
        defer { Task { try? await evil.stop() } }

        try await Self.withBrowser { browser, _ in
            // jack cannot see ivy's task.
            try await Self.signIn(browser, port: h.port, key: other)
            try await browser.wait(for: "#no-tasks")
            try await browser.wait(until: "return !document.getElementById('no-tasks').hidden")
            try await browser.open("http://127.0.0.1:\(h.port)/#/tasks/\(id)")
            try await browser.wait(for: "#task-error", containing: "No task")
            try await browser.open("http://127.0.0.1:\(h.port)/v1/tasks/\(id)")
            #expect((try await browser.script("return document.body.innerText") as? String ?? "").contains("task_not_found"))
            try await browser.open("http://127.0.0.1:\(h.port)/#/")
            try await browser.wait(for: "#sign-out").click()
            try await browser.wait(for: "#sign-in")

            // ivy is signed in; pages on other origins post a cancel form at her task.
            try await Self.signIn(browser, port: h.port, key: owner)
            try await browser.wait(for: "#task-rows tr", containing: "ivy's task")
            for (origin, refusal) in [("http://localhost:\(evil.port)/", "unauthorized"), ("http://127.0.0.1:\(evil.port)/", "csrf_refused")] {
                try await browser.open(origin)
                try await browser.wait(until: "return location.port === '\(h.port)' && document.body.innerText.includes('\(refusal)')")
                let task = try await h.request("GET", "/v1/tasks/\(id)", key: owner).json
                #expect(task["status"] as? String == "running", "a form from \(origin) cancelled the task")
            }
        }
    }

    /// Everything the new-task flow needs works with the keyboard alone: Enter signs in, Tab
    /// reaches the navigation and each field, Enter follows links and submits.
    @Test func theDashboardWorksWithTheKeyboardAlone() async throws {
        let h = try await ServerHarness.start(script: [.text("Nothing to change.")])
        defer { Task { await h.cleanup() } }
        let key = try await h.key("kim")
        try await Self.withBrowser { browser, _ in
            try await browser.open("http://127.0.0.1:\(h.port)/")
            try await browser.wait(for: "#sign-in")
            // The key field has the focus when the page opens.
            try await browser.wait(until: "return document.activeElement && document.activeElement.id === 'key'")
            try await browser.keys(key + WebDriver.Key.enter)
            try await browser.wait(until: "return !document.getElementById('nav').hidden")
            // Tab to "New task" (at most 20 steps), then Enter.
            var reached = false
            for _ in 0..<20 {
                try await browser.keys(WebDriver.Key.tab)
                if try await browser.script("return document.activeElement.id") as? String == "nav-new" { reached = true; break }
            }
            #expect(reached, "Tab reaches the New task link")
            try await browser.keys(WebDriver.Key.enter)
            try await browser.wait(until: "return document.activeElement && document.activeElement.id === 'new-prompt'")
            try await browser.keys("Say hello" + WebDriver.Key.tab + h.fixture.bare.path + WebDriver.Key.tab + WebDriver.Key.tab + "l")
            #expect(try await browser.script("return document.getElementById('new-sandbox').value") as? String == "local")
            // Enter in the timeout field submits the form.
            try await browser.keys(WebDriver.Key.tab + WebDriver.Key.enter)
            try await browser.wait(for: "dd[data-fact='status']", containing: "succeeded")
            try await browser.wait(for: "#task-result", containing: "Nothing to change.")
        }
    }

    /// A long history pages in 50 at a time; the page follows the system's dark mode.
    @Test func theListPagesThroughALongHistoryAndFollowsDarkMode() async throws {
        let h = try await ServerHarness.start(script: [])
        defer { Task { await h.cleanup() } }
        let key = try await h.key("lee")
        // 120 finished tasks, written straight into the server's store (no agent needed to list them).
        let store = try TaskService(environment: h.environment).writableStore()
        let start = Date().addingTimeInterval(-3600)
        for index in 0..<120 {
            var task = TaskRecord(id: TaskID.make(now: start.addingTimeInterval(Double(index))), prompt: "old task \(index)",
                                  repositoryURL: "https://example.invalid/r.git", sandboxBackend: .local, timeoutSeconds: 60,
                                  createdAt: start.addingTimeInterval(Double(index)), owner: "lee")
            task.status = .succeeded
            task.startedAt = task.createdAt
            task.finishedAt = task.createdAt.addingTimeInterval(5)
            task.costUSD = 0.01
            try await store.insert(task)
        }
        try await Self.withBrowser { browser, _ in
            try await Self.signIn(browser, port: h.port, key: key)
            try await browser.wait(for: "#task-rows tr", containing: "old task 119")
            #expect(try await browser.all("#task-rows tr").count == 50)
            try await browser.wait(for: "#show-more").click()
            try await browser.wait(for: "#task-rows tr", containing: "old task 20")
            #expect(try await browser.all("#task-rows tr").count == 100)
            try await browser.wait(for: "#show-more").click()
            try await browser.wait(for: "#task-rows tr", containing: "old task 0")
            #expect(try await browser.all("#task-rows tr").count == 120)
            try await browser.wait(until: "return document.getElementById('show-more').hidden")

            let light = try await browser.script("return getComputedStyle(document.body).backgroundColor") as? String
            try await browser.emulateColorScheme("dark")
            try await browser.wait(until: "return matchMedia('(prefers-color-scheme: dark)').matches")
            let dark = try await browser.script("return getComputedStyle(document.body).backgroundColor") as? String
            #expect(light != nil && dark != nil && light != dark, "light \(light ?? "-"), dark \(dark ?? "-")")
            try await Self.screenshots(browser, "08-task-list-dark")
        }
    }
}
