import AgentCore
import CATestSupport
import Foundation
import Testing

/// `ca doctor` compares the template's Claude Code with the local binary, against the fake
/// Novita service (whose sandboxes get their template programs from the host).
@Suite(.serialized) struct DoctorTests {
    /// The doctor's checks of the `novita` backend when the template's `claude` is `templateClaude`.
    private func novitaChecks(templateClaude: String) async throws -> [Doctor.Check] {
        let novita = FakeNovitaService(options: .init(templateTools: ["claude": templateClaude]))
        try await novita.start()
        defer { Task { try? await novita.stop() } }
        let h = try await EngineHarness.make(script: [], extra: novita.environment())
        defer { Task { await h.cleanup() } }
        let checks = await h.service.doctor.run(backends: [.novita])
        #expect(novita.liveSandboxCount == 0, "doctor left its sandbox running")
        return checks
    }

    @Test func githubTokenIsCheckedAgainstGitHub() async throws {
        let github = try FakeGitHub()
        try await github.start()
        defer { Task { try? await github.stop() } }
        let token = "ghp_doctor000000000000000000000000000000"
        github.addToken(token, user: "alice")
        let urls = ["GITHUB_SERVER_URL": github.serverURL.absoluteString, "GITHUB_API_URL": github.apiURL.absoluteString]
        for (extra, outcome, detail) in [
            (urls.merging(["GH_TOKEN": token]) { a, _ in a }, Doctor.Check.Outcome.pass, "the token is alice's on \(github.apiURL.absoluteString)"),
            (urls.merging(["GITHUB_TOKEN": "ghp_wrong00000000000000000000000000000000"]) { a, _ in a }, .fail, "GitHub rejected the token"),
            (urls, .skip, "public repositories only"),
        ] {
            let h = try await EngineHarness.make(script: [], extra: extra)
            defer { Task { await h.cleanup() } }
            let check = try #require(await h.service.doctor.run(backends: []).first { $0.name == "github" })
            #expect(check.outcome == outcome, "\(check)")
            #expect(check.detail.contains(detail), "\(check.detail)")
            #expect(!check.detail.contains("ghp_"))
        }
    }

    @Test func templateWithTheLocalVersionPasses() async throws {
        let checks = try await novitaChecks(templateClaude: try ClaudeBinary.locate().path)
        let version = try #require(checks.first { $0.name == "novita: claude version" })
        #expect(version.outcome == .pass, "\(version)")
        // The vendored binary is the version pinned in template/claude-code-version.
        #expect(version.detail == "\(ClaudeBinary.pinnedVersion), as the local backend")
    }

    @Test func templateWithAnotherVersionIsReported() async throws {
        let folder = NSTemporaryDirectory() + "ca-doctor-tests-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A stand-in for an older Claude Code installed in the template.
        try await ExecutableScript.write("#!/bin/sh\necho '2.0.99 (Claude Code)'\n", to: folder + "/claude")

        let checks = try await novitaChecks(templateClaude: folder + "/claude")
        let version = try #require(checks.first { $0.name == "novita: claude version" })
        #expect(version.outcome == .fail)
        #expect(version.detail.contains("the template has Claude Code 2.0.99, the local backend \(ClaudeBinary.pinnedVersion)"), "\(version.detail)")
        #expect(version.detail.contains("template/claude-code-version"))
    }
}
