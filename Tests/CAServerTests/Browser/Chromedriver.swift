import AsyncHTTPClient
import CATestSupport
import Foundation
import NIOCore

/// Debian's `chromedriver` on a loopback port, driving Debian's headless `chromium`: the real
/// browser for the dashboard tests (through the W3C WebDriver protocol, as Selenium drives it).
///
/// Both come from `apt-get install chromium chromium-driver` (`scripts/install-deps.sh`). A
/// machine without them fails the tests that need them, with that command in the message: the
/// browser tests never skip themselves.
final class Chromedriver: Sendable {
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    private let process: Process

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    static let chromedriverPath = ProcessInfo.processInfo.environment["CA_CHROMEDRIVER"] ?? "/usr/bin/chromedriver"
    static let chromiumPath = ProcessInfo.processInfo.environment["CA_CHROMIUM"] ?? "/usr/bin/chromium"

    /// Starts chromedriver and waits until it answers `/status`.
    static func start() async throws -> Chromedriver {
        for path in [chromedriverPath, chromiumPath] where !FileManager.default.isExecutableFile(atPath: path) {
            throw Missing(description: "\(path) is missing: the dashboard's browser tests need `apt-get install chromium chromium-driver` (scripts/install-deps.sh installs them)")
        }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Int.random(in: 20_000..<60_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: chromedriverPath)
            process.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1", "--log-level=WARNING"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let driver = Chromedriver(port: port, process: process)
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline, process.isRunning {
                if let ready = try? await driver.isReady(), ready { return driver }
                try await Task.sleep(for: .milliseconds(100))
            }
            lastError = Missing(description: "chromedriver on port \(port) did not become ready")
            await driver.stop()
        }
        throw lastError ?? Missing(description: "chromedriver did not start")
    }

    private func isReady() async throws -> Bool {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/status"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        return ((json?["value"] as? [String: Any])?["ready"] as? Bool) == true
    }

    /// Ends chromedriver (its browsers end with their sessions).
    func stop() async {
        process.terminate()
        let process = self.process
        _ = try? await BlockingWork.run { ChildExit.wait(process: process, timeout: .seconds(30)) }
    }

    /// A new headless Chromium session of `width`×`height`, downloading into `downloads`.
    func session(width: Int = 1280, height: Int = 900, downloads: URL) async throws -> WebDriver {
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": [
                "binary": Self.chromiumPath,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--window-size=\(width),\(height)", "--lang=en-US"],
                "prefs": ["download.default_directory": downloads.path, "download.prompt_for_download": false],
            ] as [String: Any],
        ] as [String: Any]]]
        let answer = try await WebDriver.call(base: "http://127.0.0.1:\(port)", "POST", "/session", capabilities)
        guard let id = (answer as? [String: Any])?["sessionId"] as? String else {
            throw WebDriver.Failure(description: "chromedriver gave no session: \(answer)")
        }
        let driver = WebDriver(base: "http://127.0.0.1:\(port)/session/\(id)")
        // Headless Chromium downloads only where told to (the pref alone is not always honoured).
        _ = try? await driver.send("POST", "/chromium/send_command",
                                   ["cmd": "Page.setDownloadBehavior", "params": ["behavior": "allow", "downloadPath": downloads.path]])
        return driver
    }
}
