import Foundation

/// Forwards the events of a process stream (`Start`, then `Connect` after a break) to a
/// ``CommandHandle``'s event stream, re-attaching by pid when the connection drops before `end`.
///
/// envd keeps a process running when its stream disconnects; `process.Process/Connect` with the pid
/// gets a fresh `start` event followed by the output produced from then on (reference §7.3).
struct NovitaProcessEventPump {
    typealias Continuation = AsyncThrowingStream<CommandEvent, any Error>.Continuation

    let pid: UInt32
    let envd: NovitaEnvdClient
    /// Consecutive failed re-attach attempts tolerated before giving up with ``SandboxError/streamEnded(_:)``.
    let maximumReattachAttempts: Int
    /// Headers of `Start`/`Connect` calls (`Keepalive-Ping-Interval`).
    let streamHeaders: [(name: String, value: String)]

    private enum Outcome {
        case finished
        case broken(String)
    }

    /// Runs until the process ends, the stream fails for good, or the task is cancelled; always finishes
    /// `continuation`.
    func run(reader initialReader: consuming ConnectStreamReader, into continuation: Continuation) async {
        var reader = initialReader
        var failures = 0
        var reattached = false
        while true {
            let outcome = await forward(&reader, into: continuation, failures: &failures, reattached: reattached)
            guard case .broken(var problem) = outcome else { return }
            while true {
                if Task.isCancelled {
                    continuation.finish()
                    return
                }
                failures += 1
                if failures > maximumReattachAttempts {
                    continuation.finish(throwing: envd.executor.redact(SandboxError.streamEnded(
                        "output of process \(pid) broke off (\(problem)); gave up re-attaching after \(maximumReattachAttempts) attempts"
                    )))
                    return
                }
                do {
                    try await envd.executor.pause(envd.executor.retry.delay(afterAttempt: failures, retryAfter: nil))
                } catch {
                    continuation.finish()
                    return
                }
                do {
                    let result = try await envd.openStream(
                        "process.Process/Connect",
                        NovitaEnvdModels.ConnectRequest(process: .init(pid: pid)),
                        extraHeaders: streamHeaders
                    )
                    switch result {
                    case .success(let newReader):
                        reader = newReader
                        reattached = true
                    case .failure(let error) where error.code == "not_found":
                        continuation.finish(throwing: lostExit())
                        return
                    case .failure(let error) where error.code == "unauthenticated" || error.code == "unavailable":
                        continuation.finish(throwing: envd.executor.redact(error.sandboxError(subject: "re-attaching to process \(pid)")))
                        return
                    case .failure(let error):
                        problem = "\(error.code): \(error.message)"
                        continue
                    }
                } catch {
                    if Task.isCancelled {
                        continuation.finish()
                        return
                    }
                    problem = error.description
                    continue
                }
                break
            }
        }
    }

    /// Forwards messages from one stream until it ends or breaks.
    private func forward(_ reader: inout ConnectStreamReader, into continuation: Continuation, failures: inout Int, reattached: Bool) async -> Outcome {
        while true {
            let item: ConnectStreamReader.Item
            do {
                item = try await reader.next()
            } catch {
                if error.kind == .cancelled || Task.isCancelled {
                    continuation.finish()
                    return .finished
                }
                return .broken(error.description)
            }
            switch item {
            case .closed:
                return .broken("connection closed before the end event")
            case .end(nil):
                return .broken("stream ended without an end event")
            case .end(let error?):
                if reattached && error.code == "not_found" {
                    continuation.finish(throwing: lostExit())
                } else {
                    continuation.finish(throwing: envd.executor.redact(error.sandboxError(subject: "process \(pid)")))
                }
                return .finished
            case .message(let payload):
                let message: NovitaEnvdModels.ProcessMessage
                do {
                    message = try JSONDecoder().decode(NovitaEnvdModels.ProcessMessage.self, from: payload)
                } catch {
                    continuation.finish(throwing: SandboxError.server(status: 200, message: "unreadable event of process \(pid): \(error)"))
                    return .finished
                }
                guard let event = message.event else { continue }
                if let data = event.data {
                    failures = 0
                    for (text, isError) in [(data.stdout, false), (data.pty, false), (data.stderr, true)] {
                        guard let text else { continue }
                        guard let bytes = Data(base64Encoded: text) else {
                            continuation.finish(throwing: SandboxError.server(status: 200, message: "output of process \(pid) is not base64"))
                            return .finished
                        }
                        if bytes.isEmpty { continue }
                        if case .terminated = continuation.yield(isError ? .stderr(bytes) : .stdout(bytes)) {
                            return .finished
                        }
                    }
                } else if let end = event.end {
                    continuation.yield(.exit(end.commandExit))
                    continuation.finish()
                    return .finished
                } else if event.keepalive != nil {
                    failures = 0
                }
                // `start` (again after a re-attach) carries only the pid we already know.
            }
        }
    }

    private func lostExit() -> SandboxError {
        .streamEnded("process \(pid) ended while its output stream was disconnected; its exit status is lost")
    }
}
