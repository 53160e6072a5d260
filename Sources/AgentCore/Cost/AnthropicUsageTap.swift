import Foundation
import SandboxClient
import Synchronization

/// Reads the usage of one Messages API response as it streams through ca's gateway, into a
/// ``CostMeter``: `message_start` (id, model, input and cache tokens) and `message_delta` (the
/// final output tokens) of a streamed answer, or the `usage` of a plain JSON one.
///
/// One tap belongs to one response and is fed its chunks in order. Lines are bounded (longer ones are skipped), so a hostile or broken upstream cannot make it hold more
/// than ``maximumLineLength`` bytes.
public struct AnthropicUsageTap: Sendable {
    /// Longest SSE line (or plain JSON body) read; the usage events are far shorter.
    public static let maximumLineLength = 1 << 20
    private static let usageMarker = Data("\"message_".utf8)

    private let meter: CostMeter
    private var splitter = LineSplitter(maximumLineLength: AnthropicUsageTap.maximumLineLength)
    private var messageID: String?
    private var model: String?
    private var plainBody: Data?
    private var sawFirstByte = false
    /// Where calls without an id (a broken upstream) are counted, one per response.
    private let fallbackID = "gateway-" + UUID().uuidString

    public init(meter: CostMeter) {
        self.meter = meter
    }

    /// A gateway meter for the Anthropic API service: once `meter` reached its cap, model calls
    /// are refused with an Anthropic-shaped error that tells Claude Code not to retry; every
    /// answer's usage goes into `meter`.
    public static func gatewayMeter(_ meter: CostMeter) -> GatewayServiceMeter {
        GatewayServiceMeter(admit: { method, path in
            guard method == "POST", path.hasPrefix("/v1/messages"), !path.hasPrefix("/v1/messages/count_tokens"),
                  meter.exceeded, let cap = meter.cap else { return nil }
            let message = "ca: this task's cost cap of \(CostFormat.dollars(cap)) was reached (\(CostFormat.dollars(meter.spent)) spent); no further model calls"
            let body = (try? JSONSerialization.data(withJSONObject: ["type": "error", "error": ["type": "permission_error", "message": message]],
                                                    options: [.sortedKeys])) ?? Data()
            return GatewayServiceMeter.Refusal(status: 403, headers: ["content-type": "application/json", "x-should-retry": "false"], body: body)
        }, observeResponse: {
            let tap = Mutex(AnthropicUsageTap(meter: meter))
            return { chunk in
                tap.withLock { tap in
                    if let chunk { tap.consume(chunk) } else { tap.finish() }
                }
            }
        })
    }

    /// Takes the next chunk of the response body.
    public mutating func consume(_ chunk: Data) {
        if !sawFirstByte, let first = chunk.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) {
            sawFirstByte = true
            if first == UInt8(ascii: "{") { plainBody = Data() }
        }
        if plainBody != nil {
            if plainBody!.count + chunk.count <= Self.maximumLineLength { plainBody!.append(chunk) } else { plainBody = Data("{}".utf8) }
            return
        }
        for piece in splitter.append(chunk) {
            if case .line(let line) = piece { read(line) }
        }
    }

    /// The body ended.
    public mutating func finish() {
        if let body = plainBody {
            if let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], object["type"] as? String == "message" {
                record(id: object["id"] as? String, model: object["model"] as? String, usage: object["usage"] as? [String: Any])
            }
            plainBody = nil
            return
        }
        if let rest = splitter.finish(), case .line(let line) = rest { read(line) }
    }

    private mutating func read(_ line: Data) {
        // `data: {...}` lines; `event:` names repeat the JSON's `type`.
        // Only the two usage events are parsed, not every content delta.
        guard line.starts(with: Data("data:".utf8)), line.range(of: Self.usageMarker) != nil else { return }
        let json = line.dropFirst(5)
        guard let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else { return }
        switch object["type"] as? String {
        case "message_start":
            let message = object["message"] as? [String: Any]
            messageID = (message?["id"] as? String).map { String($0.prefix(200)) }
            model = (message?["model"] as? String).map { String($0.prefix(200)) }
            record(id: messageID, model: model, usage: message?["usage"] as? [String: Any])
        case "message_delta":
            record(id: messageID, model: model, usage: object["usage"] as? [String: Any])
        default:
            break
        }
    }

    private func record(id: String?, model: String?, usage: [String: Any]?) {
        guard let usage, let tokens = TokenUsage(json: usage) else { return }
        meter.record(messageID: id ?? fallbackID, model: model, usage: tokens)
    }
}
