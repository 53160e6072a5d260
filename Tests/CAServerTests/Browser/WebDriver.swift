import AsyncHTTPClient
import Foundation
import NIOCore

/// One browser session over the W3C WebDriver protocol (what Selenium speaks to chromedriver):
/// navigate, find elements by CSS selector, click, type, read text, run a script, screenshots.
/// Waiting is polling with generous deadlines: nothing here asserts how fast a page is.
struct WebDriver: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// An element of the page (its WebDriver reference).
    struct Element: Sendable {
        let driver: WebDriver
        let id: String

        func click() async throws { _ = try await driver.send("POST", "/element/\(id)/click", [:]) }
        func type(_ text: String) async throws { _ = try await driver.send("POST", "/element/\(id)/value", ["text": text]) }
        func clear() async throws { _ = try await driver.send("POST", "/element/\(id)/clear", [:]) }
        var text: String {
            get async throws { (try await driver.send("GET", "/element/\(id)/text", nil) as? String) ?? "" }
        }
        func property(_ name: String) async throws -> Any? { try await driver.send("GET", "/element/\(id)/property/\(name)", nil) }
        func attribute(_ name: String) async throws -> String? { try await driver.send("GET", "/element/\(id)/attribute/\(name)", nil) as? String }
    }

    static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    let base: String

    func open(_ url: String) async throws { _ = try await send("POST", "/url", ["url": url]) }
    var currentURL: String { get async throws { (try await send("GET", "/url", nil) as? String) ?? "" } }
    func back() async throws { _ = try await send("POST", "/back", [:]) }
    func quit() async { _ = try? await send("DELETE", "", nil) }
    func resize(width: Int, height: Int) async throws { _ = try await send("POST", "/window/rect", ["width": width, "height": height]) }

    /// WebDriver's codes for special keys.
    enum Key {
        static let tab = "\u{E004}"
        static let enter = "\u{E007}"
    }

    /// Types `text` into whatever has the focus, key by key (special keys from ``Key``).
    func keys(_ text: String) async throws {
        let strokes = text.unicodeScalars.flatMap { scalar -> [[String: String]] in
            [["type": "keyDown", "value": String(scalar)], ["type": "keyUp", "value": String(scalar)]]
        }
        _ = try await send("POST", "/actions", ["actions": [["type": "key", "id": "keyboard", "actions": strokes]]])
        _ = try await send("DELETE", "/actions", nil)
    }

    /// Makes the page see `prefers-color-scheme: scheme` (through Chromium's DevTools protocol).
    func emulateColorScheme(_ scheme: String) async throws {
        _ = try await send("POST", "/goog/cdp/execute", ["cmd": "Emulation.setEmulatedMedia",
                                                         "params": ["features": [["name": "prefers-color-scheme", "value": scheme]]]])
    }

    /// The elements matching a CSS selector (none is not an error).
    func all(_ selector: String) async throws -> [Element] {
        let found = try await send("POST", "/elements", ["using": "css selector", "value": selector]) as? [[String: Any]] ?? []
        return found.compactMap { ($0[Self.elementKey] as? String).map { Element(driver: self, id: $0) } }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value.
    @discardableResult
    func script(_ script: String, _ args: [Any] = []) async throws -> Any? {
        try await send("POST", "/execute/sync", ["script": script, "args": args])
    }

    /// The page as PNG.
    func screenshot() async throws -> Data {
        guard let text = try await send("GET", "/screenshot", nil) as? String, let data = Data(base64Encoded: text) else {
            throw Failure(description: "no screenshot")
        }
        return data
    }

    /// Waits until a shown element matches `selector` (and, given `containing`, its text holds
    /// that): what a person could see and click, not merely what is in the document. The match
    /// runs in the page, in one step (a list redrawn while it is read cannot fool it).
    @discardableResult
    func wait(for selector: String, containing text: String? = nil, timeout: Duration = .seconds(120)) async throws -> Element {
        let find = """
            const [selector, text] = arguments;
            for (const e of document.querySelectorAll(selector)) {
              if (e.getClientRects().length === 0 || getComputedStyle(e).visibility === 'hidden') continue;
              if (text === null || e.innerText.includes(text)) return e;
            }
            return null;
            """
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = try await script(find, [selector, text ?? NSNull()]) as? [String: Any], let id = found[Self.elementKey] as? String {
                return Element(driver: self, id: id)
            }
            try await Task.sleep(for: .milliseconds(150))
        }
        let seen = try? await script("return [...document.querySelectorAll(arguments[0])].slice(0, 3).map((e) => e.innerText).join(' | ')", [selector]) as? String
        throw Failure(description: "no shown '\(selector)'\(text.map { " containing '\($0)'" } ?? "") within \(timeout) (first texts: '\((seen ?? "").prefix(300))')")
    }

    /// Waits until `condition` (a script returning a boolean) holds.
    func wait(until condition: String, timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await script(condition) as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(150))
        }
        throw Failure(description: "'\(condition)' did not hold within \(timeout)")
    }

    func send(_ method: String, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        try await Self.call(base: base, method, path, body)
    }

    static func call(base: String, _ method: String, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let data = Data(buffer: try await response.body.collect(upTo: 64 << 20))
        let json = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any]
        let value = json?["value"]
        guard response.status.code == 200 else {
            let error = (value as? [String: Any]).map { "\($0["error"] ?? "?"): \(String(describing: $0["message"] ?? "").prefix(400))" }
            throw Failure(description: "WebDriver \(method) \(path): HTTP \(response.status.code) \(error ?? String(decoding: data.prefix(400), as: UTF8.self))")
        }
        return value is NSNull ? nil : value
    }
}
