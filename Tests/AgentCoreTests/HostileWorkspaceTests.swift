import AgentCore
import CATestSupport
import Foundation
import Testing

/// A hostile agent (the real Claude Code, scripted by the fake API) leaves a workspace built to
/// hang, exhaust or steer ca's extraction. Each task must end with a clear outcome, nothing
/// written outside its folder, and its sandbox gone.
@Suite(.serialized) struct HostileWorkspaceTests {
    @Test func gitFiltersThatHangDoNotRunDuringExtraction() async throws {
        let h = try await EngineHarness.make(script: [
            .toolUse("Bash", ["command": .string("""
            git config filter.hang.clean 'sleep 100000' && git config filter.hang.smudge 'sleep 100000' && \
            git config filter.hang.process 'sleep 100000' && git config core.fsmonitor 'sleep 100000 #' && \
            git config diff.hang.textconv 'sleep 100000' && git config diff.external 'sleep 100000' && \
            printf '* filter=hang diff=hang\\n' > .gitattributes && mkdir -p .git/hooks && \
            printf '#!/bin/sh\\nsleep 100000\\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit && \
            echo changed >> README.md && echo new > new.txt
            """), "description": "booby-trap git"]),
            .text("Trapped."),
        ])
        defer { Task { await h.cleanup() } }
        let done = try await h.run(try await h.create("trap git", timeout: 600))
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        // The changes are there, with the raw bytes (no filter ran on them).
        #expect(h.file(done, "files/new.txt") == "new\n")
        #expect(h.file(done, "files/README.md") == "# Demo\nchanged\n")
        #expect(h.file(done, "patch.diff")?.contains("+changed") == true)
        #expect(h.file(done, "files/.gitattributes") == "* filter=hang diff=hang\n")
        // Well within the task's deadline: nothing waited on the traps.
        let elapsed = (done.finishedAt ?? Date()).timeIntervalSince(done.startedAt ?? Date())
        #expect(elapsed < 120, "took \(elapsed) s")
        #expect(h.liveSandboxes().isEmpty)
    }

    @Test func deeplyNestedFoldersAreSavedAndRemoved() async throws {
        let h = try await EngineHarness.make(script: [
            .toolUse("Bash", ["command": "d=$(printf 'x/%.0s' $(seq 1200)); mkdir -p \"$d\" && echo bottom > \"${d}f.txt\"",
                              "description": "dig"]),
            .text("Dug."),
        ])
        defer { Task { await h.cleanup() } }
        let done = try await h.run(try await h.create("dig deep"))
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        let path = Array(repeating: "x", count: 1200).joined(separator: "/") + "/f.txt"
        #expect(h.file(done, "files/" + path) == "bottom\n")
        #expect(h.liveSandboxes().isEmpty, "the sandbox folder was left behind")
    }

    @Test func changeListsOverTheLimitsAreReportedNotFollowed() async throws {
        let h = try await EngineHarness.make(script: [
            .toolUse("Bash", ["command": "mkdir many && cd many && for i in $(seq 300); do echo $i > f$i.txt; done", "description": "spam"]),
            .text("Spammed."),
            .toolUse("Bash", ["command": "mkdir more && cd more && for i in $(seq 300); do echo $i > g$i.txt; done", "description": "spam"]),
            .text("Spammed again."),
        ])
        defer { Task { await h.cleanup() } }
        // At most 100 changes: the first 100 are saved, the rest reported.
        let first = try await h.create("spam")
        let counted = try await h.service.makeRunner(for: first, extractor: WorkspaceExtractor(maximumChanges: 100)).run(taskID: first.id)
        #expect(counted.status == .succeeded, "error: \(counted.error ?? "-")")
        let artifacts = try await h.service.artifacts(counted.id)
        #expect(artifacts.filter { $0.kind == .file }.count == 100)
        #expect(artifacts.contains { $0.kind == .skipped && ($0.note ?? "").contains("200 changes beyond the first 100") })
        #expect(h.file(counted, "patch.diff")?.contains("many/f300.txt") == true)

        // A change list over its byte limit: the patch is kept, no file is saved, and it is said.
        let task = try await h.create("spam again")
        let limited = try await h.service.makeRunner(for: task, extractor: WorkspaceExtractor(maximumChangeListSize: 4096)).run(taskID: task.id)
        #expect(limited.status == .succeeded, "error: \(limited.error ?? "-")")
        let limitedArtifacts = try await h.service.artifacts(limited.id)
        #expect(limitedArtifacts.filter { $0.kind == .file }.isEmpty)
        #expect(limitedArtifacts.contains { ($0.note ?? "").contains("list of changes is over the 4096-byte limit") })
        #expect(limitedArtifacts.contains { $0.kind == .patch })
    }

    @Test func anExtractionStepThatOverrunsItsTimeoutIsStopped() async throws {
        let h = try await EngineHarness.make(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/a.txt", "content": "a\n"]),
            .text("Wrote a.txt."),
        ])
        defer { Task { await h.cleanup() } }
        let task = try await h.create("write a")
        // No git command finishes within a millisecond: the first step is killed and reported.
        let done = try await h.service.makeRunner(for: task, extractor: WorkspaceExtractor(stepTimeout: .milliseconds(1))).run(taskID: task.id)
        #expect(done.status == .failed)
        #expect(done.error?.contains("collect changes did not finish within") == true, "error: \(done.error ?? "-")")
        #expect(h.liveSandboxes().isEmpty)
    }
}
