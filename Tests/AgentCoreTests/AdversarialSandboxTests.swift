import AgentCore
import CATestSupport
import Foundation
import Testing

/// The real Claude Code binary, driven by the fake Anthropic API, plays a hostile agent inside
/// the local sandbox and probes what it should not reach. In the default configuration every
/// probe must fail while the task itself succeeds; with `--network open` the proxied probe gets
/// through; and without isolation (the explicit unsafe mode) every probe gets through, which
/// shows that the probes would notice a hole.
@Suite(.serialized) struct AdversarialSandboxTests {
    /// Host-side targets of the probes, and the probe script.
    struct Probes {
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        let runSocket: ProbeListener
        let abstractSocket: ProbeListener
        let loopback: ProbeListener
        let homeFile: String
        let runFolder: String

        init() throws {
            // A socket under /run as system services have them (the test runs as root in CI; a
            // user's own runtime folder otherwise).
            let environment = ProcessInfo.processInfo.environment
            if access("/run", W_OK) == 0 {
                runFolder = "/run"
            } else if let runtime = environment["XDG_RUNTIME_DIR"], access(runtime, W_OK) == 0 {
                runFolder = runtime
            } else {
                throw GitFixture.Failure(description: "neither /run nor $XDG_RUNTIME_DIR is writable: cannot place the probe socket")
            }
            runSocket = try ProbeListener(.unixPath("\(runFolder)/ca-probe-\(id).sock"))
            abstractSocket = try ProbeListener(.abstract("ca-probe-\(id)"))
            loopback = try ProbeListener(.loopbackTCP)
            let home = environment["HOME"] ?? NSHomeDirectory()
            homeFile = "\(home)/.ca-probe-\(id)"
            try Data("host secret\n".utf8).write(to: URL(fileURLWithPath: homeFile))
        }

        func stop() {
            [runSocket, abstractSocket, loopback].forEach { $0.stop() }
            try? FileManager.default.removeItem(atPath: homeFile)
        }

        /// One Bash command that tries everything and prints `PROBE-<name>-OPEN|CLOSED` lines.
        func script(keyFragment: String) -> String {
            let port = loopback.port
            return #"""
            p() { if ( eval "$2" ) >/dev/null 2>&1; then echo "PROBE-$1-OPEN"; else echo "PROBE-$1-CLOSED"; fi; }
            p shadow 'head -c1 /etc/shadow | grep -q .'
            p homefile 'grep -q "host secret" \#(homeFile)'
            p runsocket "perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Peer => q{\#(runFolder)/ca-probe-\#(id).sock}) or exit 1'"
            p abstract "perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Peer => qq{\\0ca-probe-\#(id)}) or exit 1'"
            p loopback 'exec 3<>/dev/tcp/127.0.0.1/\#(port) && grep -q probe-ok <&3'
            p proxied 'exec 3<>/dev/tcp/127.0.0.1/3128 && printf "CONNECT 127.0.0.1:\#(port) HTTP/1.1\r\nHost: 127.0.0.1:\#(port)\r\n\r\n" >&3 && head -n1 <&3 | grep -q " 200 "'
            p key 'env | grep -q \#(keyFragment) || cat /proc/[0-9]*/environ 2>/dev/null | grep -aq \#(keyFragment)'
            echo probes-finished
            """#
        }
    }

    static let probeNames = ["shadow", "homefile", "runsocket", "abstract", "loopback", "proxied", "key"]

    /// Runs the probes as the agent and returns each probe's outcome (`true` = got through).
    func runProbes(network: NetworkMode? = nil, extra: [String: String] = [:]) async throws -> (outcomes: [String: Bool], task: TaskRecord, harness: EngineHarness, probes: Probes) {
        let probes = try Probes()
        // The key's random part: found anywhere means the key was there (it is not the whole key,
        // so redaction cannot hide a find).
        let fragment = String(EngineHarness.apiKey.suffix(8))
        let h = try await EngineHarness.make(script: [
            .toolUse("Bash", ["command": .string(probes.script(keyFragment: fragment)), "description": "probe"]),
            .text("Probes done."),
        ], extra: extra)
        let task = try await h.create("Probe the sandbox", network: network)
        let done = try await h.run(task)
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        let output = try await h.toolResults(done).joined(separator: "\n")
        #expect(output.contains("probes-finished"), "the probe script did not run: \(output)")
        var outcomes: [String: Bool] = [:]
        for name in Self.probeNames {
            if output.contains("PROBE-\(name)-OPEN") { outcomes[name] = true }
            if output.contains("PROBE-\(name)-CLOSED") { outcomes[name] = false }
        }
        #expect(outcomes.count == Self.probeNames.count, "missing probe results in: \(output)")
        return (outcomes, done, h, probes)
    }

    @Test func everyProbeFailsInTheDefaultConfiguration() async throws {
        let (outcomes, task, h, probes) = try await runProbes()
        defer { probes.stop(); Task { await h.cleanup() } }
        #expect(outcomes.filter(\.value).isEmpty, "probes that got through: \(outcomes.filter(\.value).keys.sorted())")
        // Seen from the host: nothing connected.
        #expect(probes.runSocket.connections == 0 && probes.abstractSocket.connections == 0 && probes.loopback.connections == 0)
        // The denied attempt is in the task's events.
        let network = try await h.notes(task, "network")
        #expect(network.contains { $0.contains("denied CONNECT 127.0.0.1:\(probes.loopback.port)") }, "network notes: \(network)")
        // The API still got the real key, from ca's gateway.
        #expect(!h.fake.messagesRequests.isEmpty)
        #expect(h.fake.messagesRequests.allSatisfy { $0.header("x-api-key") == EngineHarness.apiKey })
        #expect(h.liveSandboxes().isEmpty)
    }

    @Test func openNetworkLetsTheProxiedProbeThrough() async throws {
        let (outcomes, task, h, probes) = try await runProbes(network: .open)
        defer { probes.stop(); Task { await h.cleanup() } }
        #expect(outcomes["proxied"] == true)
        #expect(probes.loopback.connections >= 1)
        // Everything else stays closed: files, sockets, the sandbox's own loopback, the key.
        #expect(outcomes.filter { $0.value && $0.key != "proxied" }.isEmpty, "probes that got through: \(outcomes.filter(\.value).keys.sorted())")
        #expect(try await h.notes(task, "network").contains { $0.contains("allowed CONNECT 127.0.0.1:\(probes.loopback.port)") })
    }

    @Test func withoutIsolationEveryProbeGetsThrough() async throws {
        // The explicit unsafe mode (no bubblewrap): the control that shows the probes work.
        let (outcomes, _, h, probes) = try await runProbes(extra: ["CA_LOCAL_UNSAFE_NO_ISOLATION": "1"])
        defer { probes.stop(); Task { await h.cleanup() } }
        #expect(outcomes["homefile"] == true)
        #expect(outcomes["runsocket"] == true)
        #expect(outcomes["abstract"] == true)
        #expect(outcomes["loopback"] == true)
        #expect(outcomes["key"] == true)
        // /etc/shadow is readable to root only, on the host as anywhere.
        #expect(outcomes["shadow"] == (geteuid() == 0))
        #expect(probes.runSocket.connections >= 1 && probes.abstractSocket.connections >= 1 && probes.loopback.connections >= 1)
    }
}
