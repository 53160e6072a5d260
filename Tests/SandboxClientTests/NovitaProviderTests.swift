import CATestSupport
import Foundation
import Synchronization
import Testing
@testable import SandboxClient

/// A fake Novita service and a provider pointed at it, torn down after each test.
struct NovitaFixture: Sendable {
    let fake: FakeNovitaService
    let provider: NovitaSandboxProvider
    /// Every backoff the provider chose (the sleeps themselves last `backoff`, 1 ms by default).
    let sleepLog: SleepLog

    static func run(
        options: FakeNovitaService.Options = .init(),
        flavour: NovitaConfiguration.Flavour = .novita,
        backoff: Duration = .milliseconds(1),
        _ body: (NovitaFixture) async throws -> Void
    ) async throws {
        let fake = FakeNovitaService(options: options)
        try await fake.start()
        let sleepLog = SleepLog()
        let retry = NovitaRetryPolicy(
            sleep: { duration in
                sleepLog.append(duration)
                try await Task.sleep(for: backoff)
            },
            random: { $0.upperBound }
        )
        let provider: NovitaSandboxProvider
        do {
            provider = try NovitaSandboxProvider.fromEnvironment(fake.environment(flavour: flavour.rawValue), flavour: flavour, retryPolicy: retry)
        } catch {
            try await fake.stop()
            throw error
        }
        let fixture = NovitaFixture(fake: fake, provider: provider, sleepLog: sleepLog)
        do {
            try await body(fixture)
        } catch {
            await provider.shutdown()
            try await fake.stop()
            throw error
        }
        await provider.shutdown()
        try await fake.stop()
    }

    /// A provider sharing the fake with other settings (another process, say). Shut it down after use.
    func otherProvider(apiKey: String? = nil) throws -> NovitaSandboxProvider {
        var env = fake.environment()
        if let apiKey { env["NOVITA_API_KEY"] = apiKey }
        return try NovitaSandboxProvider.fromEnvironment(env, retryPolicy: NovitaRetryPolicy(sleep: { _ in }, random: { $0.upperBound }))
    }
}

/// The error an operation throws, or `nil` when it succeeds.
func caughtError<T>(_ operation: () async throws(SandboxError) -> T) async -> SandboxError? {
    do {
        _ = try await operation()
        return nil
    } catch {
        return error
    }
}

extension SandboxError {
    /// The case name, for assertions that ignore the message.
    var caseName: String {
        switch self {
        case .missingDependency: return "missingDependency"
        case .unauthorized: return "unauthorized"
        case .sandboxNotFound: return "sandboxNotFound"
        case .fileNotFound: return "fileNotFound"
        case .limitReached: return "limitReached"
        case .invalidArgument: return "invalidArgument"
        case .transport: return "transport"
        case .streamEnded: return "streamEnded"
        case .server: return "server"
        case .configuration: return "configuration"
        case .io: return "io"
        }
    }
}

/// Thread-safe list of recorded backoff durations.
final class SleepLog: Sendable {
    private let storage = Mutex<[Duration]>([])
    func append(_ duration: Duration) { storage.withLock { $0.append(duration) } }
    var all: [Duration] { storage.withLock { $0 } }
}

@Suite(.serialized) struct NovitaProviderTests {
    @Test func createSendsTheSDKShapedBody() async throws {
        try await NovitaFixture.run { fixture in
            let sandbox = try await fixture.provider.create(SandboxSpec(template: "base", lifetime: 600, environment: ["A": "1"], metadata: ["ca.task_id": "t1"]))
            #expect(!sandbox.id.isEmpty)
            #expect(sandbox.homeDirectory == "/home/user")
            #expect(fixture.fake.liveSandboxCount == 1)
            let request = try #require(fixture.fake.requests(path: "/sandboxes").first)
            #expect(request.method == "POST")
            #expect(request.header("X-API-KEY") == fixture.fake.apiKey)
            #expect(request.header("User-Agent")?.hasPrefix("ca/") == true)
            #expect(request.header("X-Novita-SDK-Name") == "ca")
            #expect(request.header("Content-Type") == "application/json")
            let body = try #require(request.jsonObject)
            #expect(body["templateID"] as? String == "base")
            #expect(body["timeout"] as? Int == 600)
            #expect(body["secure"] as? Bool == true)
            #expect(body["autoPause"] as? Bool == false)
            #expect(body["allow_internet_access"] as? Bool == true)
            #expect(body["metadata"] as? [String: String] == ["ca.task_id": "t1"])
            #expect(body["envVars"] as? [String: String] == ["A": "1"])
            #expect(fixture.fake.metadata(sandboxID: sandbox.id) == ["ca.task_id": "t1"])
            try await sandbox.kill()
            #expect(fixture.fake.liveSandboxCount == 0)
        }
    }

    @Test func connectUsesTheDetailsAccessTokenWithoutRoutingHeaders() async throws {
        try await NovitaFixture.run { fixture in
            let created = try await fixture.provider.create(SandboxSpec(lifetime: 300))
            let other = try fixture.otherProvider()
            let attached = try await other.connect(id: created.id)
            #expect(attached.id == created.id)
            #expect(fixture.fake.requests(path: "/sandboxes/\(created.id)").last?.method == "GET")
            let result = try await attached.run(script: "echo attached")
            #expect(result.stdoutText == "attached\n")
            let start = try #require(fixture.fake.requests(path: "/process.Process/Start").last)
            #expect(start.header("Novita-Sandbox-Id") == nil)
            #expect(start.header("X-Access-Token")?.isEmpty == false)
            #expect(start.header("Keepalive-Ping-Interval") == "50")
            #expect(start.header("connect-timeout-ms") == nil)
            #expect(start.header("content-type") == "application/connect+json")
            #expect(start.header("connect-protocol-version") == "1")

            _ = try await created.run(script: "true")
            let own = try #require(fixture.fake.requests(path: "/process.Process/Start").last)
            #expect(own.header("Novita-Sandbox-Id") == created.id)
            #expect(own.header("Novita-Sandbox-Port") == "49983")
            await other.shutdown()
            try await created.kill()
        }
    }

    @Test func resumeCallsConnectWithRoutingHeaders() async throws {
        try await NovitaFixture.run { fixture in
            let created = try await fixture.provider.createSandbox(SandboxSpec(lifetime: 60))
            try await fixture.provider.pause(id: created.id)
            try await fixture.provider.pause(id: created.id)  // 409 counts as success
            #expect(try await fixture.provider.list(metadata: [:]).first?.state == "paused")
            let resumed = try await fixture.provider.connectSandbox(id: created.id)
            let connect = try #require(fixture.fake.requests(path: "/sandboxes/\(created.id)/connect").last)
            #expect(connect.header("Novita-Sandbox-Id") == created.id)
            #expect(connect.header("Novita-Sandbox-Port") == "49983")
            #expect(connect.jsonObject?["timeout"] as? Int == 300)
            #expect(try await resumed.run(script: "echo back").stdoutText == "back\n")
            try await resumed.kill()
        }
    }

    @Test func listFiltersByMetadataAndFollowsPages() async throws {
        try await NovitaFixture.run(options: .init(defaultListLimit: 2)) { fixture in
            var ours: [String] = []
            for index in 0..<3 {
                ours.append(try await fixture.provider.create(SandboxSpec(metadata: ["owner": "c a", "n": "\(index)"])).id)
            }
            let stranger = try await fixture.provider.create(SandboxSpec(metadata: ["owner": "someone"]))
            let listed = try await fixture.provider.list(metadata: ["owner": "c a"])
            #expect(Set(listed.map(\.id)) == Set(ours))
            #expect(listed.allSatisfy { $0.state == "running" && $0.template == "base" && $0.expiresAt != nil })
            let listRequests = fixture.fake.requests(path: "/v2/sandboxes")
            #expect(listRequests.count == 2)
            #expect(listRequests[0].rawQuery.contains("metadata=owner%3Dc%252520a"))
            #expect(listRequests[0].rawQuery.contains("state=running%2Cpaused"))
            #expect(listRequests[1].rawQuery.contains("nextToken="))

            let first = try await fixture.provider.listPage(limit: 3)
            #expect(first.sandboxes.count == 3)
            let token = try #require(first.nextToken)
            let second = try await fixture.provider.listPage(limit: 3, nextToken: token)
            #expect(second.sandboxes.count == 1 && second.nextToken == nil)
            #expect(Set((first.sandboxes + second.sandboxes).map(\.id)) == Set(ours + [stranger.id]))
            #expect(try await fixture.provider.list(metadata: ["owner": "nobody"]).isEmpty)
        }
    }

    @Test func killAndLifetimes() async throws {
        try await NovitaFixture.run { fixture in
            let sandbox = try await fixture.provider.create(SandboxSpec(lifetime: 300))
            try await sandbox.setLifetime(seconds: 2)
            let timeout = try #require(fixture.fake.requests(path: "/sandboxes/\(sandbox.id)/timeout").last)
            #expect(timeout.jsonObject?["timeout"] as? Int == 2)
            let expiry = try #require(fixture.fake.expiry(sandboxID: sandbox.id))
            #expect(abs(expiry.timeIntervalSinceNow - 2) < 1)

            #expect(try await fixture.provider.kill(id: sandbox.id) == true)
            #expect(try await fixture.provider.kill(id: sandbox.id) == false)
            try await sandbox.kill()  // already gone: not an error
            #expect(fixture.fake.liveSandboxCount == 0)
            let connectError = await caughtError { () async throws(SandboxError) in try await fixture.provider.connect(id: sandbox.id) }
            #expect(connectError?.caseName == "sandboxNotFound", "\(String(describing: connectError))")
            let lifetimeError = await caughtError { () async throws(SandboxError) in try await fixture.provider.setLifetime(id: sandbox.id, seconds: 10) }
            #expect(lifetimeError?.caseName == "sandboxNotFound", "\(String(describing: lifetimeError))")
        }
    }

    @Test func sandboxExpiresAfterItsLifetime() async throws {
        try await NovitaFixture.run { fixture in
            let sandbox = try await fixture.provider.create(SandboxSpec(lifetime: 5))
            #expect(fixture.fake.liveSandboxCount == 1)
            // Polled, not timed: a loaded machine may take longer than the lifetime to get here.
            let deadline = ContinuousClock.now + .seconds(60)
            while fixture.fake.liveSandboxCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
            #expect(fixture.fake.liveSandboxCount == 0)
            let connectError = await caughtError { () async throws(SandboxError) in try await fixture.provider.connect(id: sandbox.id) }
            #expect(connectError?.caseName == "sandboxNotFound", "\(String(describing: connectError))")
            // envd of a dead sandbox answers 502, which is retried and then reported as not found.
            let readError = await caughtError { () async throws(SandboxError) in try await sandbox.readFile("x") }
            #expect(readError?.caseName == "sandboxNotFound", "\(String(describing: readError))")
        }
    }

    @Test func wrongKeyIsUnauthorizedAndNeverEchoed() async throws {
        try await NovitaFixture.run(options: .init(echoesCredentialsInErrors: true)) { fixture in
            let secret = "sk-wrong-but-secret-0123456789"
            let provider = try fixture.otherProvider(apiKey: secret)
            let errors = [
                await caughtError { () async throws(SandboxError) in try await provider.create(SandboxSpec()) },
                await caughtError { () async throws(SandboxError) in try await provider.list(metadata: [:]) },
                await caughtError { () async throws(SandboxError) in try await provider.kill(id: "nope") },
                await caughtError { () async throws(SandboxError) in try await provider.connect(id: "nope") },
            ]
            for error in errors {
                #expect(error?.caseName == "unauthorized", "\(String(describing: error))")
                #expect(error?.description.contains(secret) == false)
                #expect(error?.description.contains("<redacted>") == true)
                #expect(!String(reflecting: error as Any).contains(secret))
            }
            // The fake really did echo the key: the client removed it.
            #expect(fixture.fake.requests.last?.header("X-API-KEY") == secret)
            await provider.shutdown()
        }
    }

    @Test func rateLimitIsRetriedAfterRetryAfter() async throws {
        try await NovitaFixture.run { fixture in
            let sandbox = try await fixture.provider.create(SandboxSpec())
            fixture.fake.injectFault(.status(429, retryAfter: 2), path: "/sandboxes/\(sandbox.id)", method: "GET")
            let attached = try await fixture.provider.connect(id: sandbox.id)
            #expect(attached.id == sandbox.id)
            #expect(fixture.sleepLog.all == [.seconds(2)])
            #expect(fixture.fake.requests(path: "/sandboxes/\(sandbox.id)").count == 2)

            fixture.fake.injectFault(.status(503), path: "/v2/sandboxes", times: 2)
            #expect(try await fixture.provider.list(metadata: [:]).count == 1)
            #expect(fixture.sleepLog.all == [.seconds(2), .milliseconds(500), .seconds(1)])

            fixture.fake.injectFault(.dropConnection, path: "/sandboxes/\(sandbox.id)/timeout")
            try await attached.setLifetime(seconds: 100)
            #expect(fixture.fake.requests(path: "/sandboxes/\(sandbox.id)/timeout").count == 2)
        }
    }

    @Test func creationIsNotRetriedAndLimitsAreTyped() async throws {
        try await NovitaFixture.run { fixture in
            fixture.fake.injectFault(.status(429, retryAfter: 1), path: "/sandboxes", method: "POST")
            let createError = await caughtError { () async throws(SandboxError) in try await fixture.provider.create(SandboxSpec()) }
            #expect(createError?.caseName == "limitReached", "\(String(describing: createError))")
            #expect(fixture.fake.requests(path: "/sandboxes").count == 1)
            #expect(fixture.fake.liveSandboxCount == 0)

            fixture.fake.injectFault(.status(503), path: "/v2/sandboxes", times: 10)
            let listError = await caughtError { () async throws(SandboxError) in try await fixture.provider.list(metadata: [:]) }
            #expect(listError == .server(status: 503, message: "listing sandboxes: injected fault: HTTP 503"))
            #expect(fixture.fake.requests(path: "/v2/sandboxes").count == 4)
        }
    }

    @Test func e2bFlavourUsesE2BNamesAndHeaders() async throws {
        try await NovitaFixture.run(flavour: .e2b) { fixture in
            #expect(fixture.provider.name == "e2b")
            #expect(fixture.provider.configuration.domain == "e2b.app")
            let sandbox = try await fixture.provider.create(SandboxSpec())
            let result = try await sandbox.run(script: "echo e2b")
            #expect(result.stdoutText == "e2b\n")
            let start = try #require(fixture.fake.requests(path: "/process.Process/Start").last)
            #expect(start.header("E2b-Sandbox-Id") == sandbox.id)
            #expect(start.header("Novita-Sandbox-Id") == nil)
            #expect(start.header("X-Novita-SDK-Name") == nil)
            try await sandbox.kill()
        }
    }
}
