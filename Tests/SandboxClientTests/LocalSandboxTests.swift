import Foundation
import Testing
import CATestSupport
@testable import SandboxClient

/// Tests of the local backend with the real bubblewrap (`/usr/bin/bwrap`).
///
/// Every test uses its own temporary root and kills its sandboxes. Tests that look for leftover
/// processes use a `sleep` duration of their own, so tests running in parallel do not collide.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap"), "needs bubblewrap"))
struct LocalSandboxTests {
    /// Makes this run's `sleep` arguments unique, so that process-table checks never see the
    /// processes of the same tests running at the same time in another checkout.
    static let runTag = String(Int.random(in: 100_000...999_999))

    // MARK: Helpers

    /// Runs `body` with a provider on a fresh root, then kills what is left and deletes the root.
    private func withProvider(
        isolation: LocalSandboxProvider.Isolation = .bubblewrap,
        parent: String = NSTemporaryDirectory(),
        hiddenPaths: [String] = [],
        exposedPaths: [String] = [],
        _ body: (LocalSandboxProvider, String) async throws -> Void
    ) async throws {
        let root = parent + "/ca-local-tests-" + UUID().uuidString.lowercased() + "/sandboxes"
        let provider = LocalSandboxProvider(root: root, isolation: isolation, hiddenPaths: hiddenPaths, exposedPaths: exposedPaths)
        do {
            try await body(provider, root)
        } catch {
            await cleanUp(provider, root)
            throw error
        }
        await cleanUp(provider, root)
    }

    private func cleanUp(_ provider: LocalSandboxProvider, _ root: String) async {
        for info in (try? await provider.list(metadata: [:])) ?? [] {
            _ = try? await provider.kill(id: info.id)
        }
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: root).deletingLastPathComponent().path)
    }

    /// Host processes (not zombies) whose command line contains `argument`.
    private func processes(withArgument argument: String) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name -> Int32? in
            guard let pid = Int32(name),
                  let status = LocalProcessTable.status(of: pid), !status.isZombie,
                  let arguments = LocalProcessTable.commandLine(of: pid), arguments.contains(argument) else { return nil }
            return pid
        }
    }

    /// Polls `condition` every 20 ms for up to `timeout`.
    private func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    private func local(_ sandbox: any Sandbox) throws -> LocalSandbox {
        try #require(sandbox as? LocalSandbox)
    }

    /// The error thrown by `body`, if it is a ``SandboxError``.
    private func sandboxError(_ body: () async throws -> Void) async -> SandboxError? {
        do {
            try await body()
            return nil
        } catch let error as SandboxError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    // MARK: Processes

    @Test func runsCommandsWithOutputAndExitCodes() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            #expect(sandbox.homeDirectory == "/home/user")
            #expect(sandbox.id.hasPrefix("lsb-") && sandbox.id.count == 16)
            #expect(LocalSandboxProvider.isValidID(sandbox.id))

            let ok = try await sandbox.run(script: "echo out; echo err >&2; pwd; echo $HOME")
            #expect(ok.stdoutText == "out\n/home/user\n/home/user\n")
            #expect(ok.stderrText == "err\n")
            #expect(ok.exit == CommandExit(code: 0, status: "exit status 0"))

            let failed = try await sandbox.run(script: "echo nope >&2; exit 3")
            #expect(failed.exit.code == 3)
            #expect(failed.exit.status == "exit status 3")
            #expect(failed.stderrText == "nope\n")

            let inTmp = try await sandbox.run(CommandSpec(executable: "pwd", cwd: "/tmp"))
            #expect(inTmp.stdoutText == "/tmp\n")
            try await sandbox.kill()
        }
    }

    @Test func outputArrivesBeforeTheProcessEnds() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            // The process prints "a" and then blocks until it reads a line: "b" can only come
            // after we answered, and we only answer once "a" has arrived — no timing involved.
            let handle = try await sandbox.start(CommandSpec(shell: "echo a; read line; echo b-$line", stdin: true))
            var output = ""
            var answered = false
            var exitCode: Int32?
            for try await event in handle.events {
                switch event {
                case .stdout(let data):
                    output += String(decoding: data, as: UTF8.self)
                    if output == "a\n" && !answered {
                        answered = true
                        try await handle.sendInput(Data("go\n".utf8))
                    }
                case .stderr: break
                case .exit(let exit):
                    exitCode = exit.code
                }
            }
            #expect(answered, "the first line did not arrive before the process ended")
            #expect(output == "a\nb-go\n")
            #expect(exitCode == 0)
            try await sandbox.kill()
        }
    }

    @Test func stdinRoundTrip() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            let handle = try await sandbox.start(CommandSpec(executable: "cat", stdin: true))
            try await handle.sendInput(Data("hello\n".utf8))
            try await handle.sendInput(Data("world".utf8))
            try await handle.closeInput()
            let result = try await handle.collect()
            #expect(result.stdoutText == "hello\nworld")
            #expect(result.exit.succeeded)

            // Without stdin the process reads /dev/null, and sending input is refused.
            let noInput = try await sandbox.start(CommandSpec(executable: "cat"))
            let error = await sandboxError { try await noInput.sendInput(Data("x".utf8)) }
            #expect(error != nil)
            #expect(try await noInput.collect().stdout.isEmpty)

            // Writing to a process that is gone fails instead of killing the test process (SIGPIPE).
            let gone = try await sandbox.start(CommandSpec(executable: "true", stdin: true))
            _ = try await gone.collect()
            let brokenPipe = await sandboxError { try await gone.sendInput(Data(count: 1 << 20)) }
            #expect(brokenPipe != nil)
            try await sandbox.kill()
        }
    }

    @Test func killEndsEveryProcessAndDeletesTheFolder() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            let folder = try local(sandbox).hostFolder
            let handle = try await sandbox.start(CommandSpec(shell: "sleep 1001.17\(Self.runTag) & sleep 1001.17\(Self.runTag) & wait"))
            #expect(await eventually { processes(withArgument: "1001.17\(Self.runTag)").count == 2 })
            #expect(FileManager.default.fileExists(atPath: "\(folder)/pids/\(handle.pid)"))
            let bwrapArguments = try #require(LocalProcessTable.commandLine(of: Int32(handle.pid)))
            #expect(bwrapArguments.first?.hasSuffix("bwrap") == true)

            try await sandbox.kill()
            #expect(processes(withArgument: "1001.17\(Self.runTag)").isEmpty)
            #expect(!FileManager.default.fileExists(atPath: folder))
            let result = try await handle.collect()
            #expect(result.exit == CommandExit(code: -1, status: "signal: killed"))
            // Killing again is fine; the sandbox is gone for everyone.
            try await sandbox.kill()
            #expect(try await provider.kill(id: sandbox.id) == false)
            let error = await sandboxError { _ = try await sandbox.run(script: "true") }
            #expect(error == .sandboxNotFound(sandbox.id))
        }
    }

    /// What a sandbox leaves in its home cannot stop `kill()` from deleting its folder: 1200
    /// nested folders (one descriptor per level used to exhaust them), folders locked with mode
    /// 000, and links to host files, which are removed without touching their targets.
    @Test func killRemovesDeepLockedAndLinkedContents() async throws {
        let outside = NSTemporaryDirectory() + "ca-local-tests-outside-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: outside + "/folder", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try Data("host file\n".utf8).write(to: URL(fileURLWithPath: outside + "/target.txt"))
        try Data("host folder file\n".utf8).write(to: URL(fileURLWithPath: outside + "/folder/inner.txt"))
        chmod(outside + "/target.txt", 0o640)
        chmod(outside + "/folder", 0o750)
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 120))
            let folder = try local(sandbox).hostFolder
            // Inside the sandbox /tmp is its own, so these links only mean the host's files
            // to a host process that follows them. The folders are made 10 levels per step
            // (relative paths stay short; the whole chain is far longer than PATH_MAX).
            let setup = try await sandbox.run(script: """
                set -e
                ln -s \(outside)/target.txt to-host-file
                ln -s \(outside)/folder to-host-folder
                mkdir -p locked/deeper && echo secret > locked/deeper/file && chmod 000 locked/deeper locked
                mkfifo pipe
                i=0; while [ $i -lt 120 ]; do mkdir -p x/x/x/x/x/x/x/x/x/x; cd x/x/x/x/x/x/x/x/x/x; i=$((i+1)); done
                echo bottom > bottom.txt
                cd /home/user && ln -s \(outside)/target.txt x/x/x/link-deep-down
                """)
            #expect(setup.exit.succeeded, "\(setup.stderrText)")
            #expect(DeepFolderTree.depth(under: folder + "/home") == 1200)

            try await sandbox.kill()
            #expect(!FileManager.default.fileExists(atPath: folder))
            // No descriptor of this process was left on the removed folder.
            #expect(DeepFolderTree.openDescriptorTargets().allSatisfy { !$0.hasPrefix(folder) })
        }
        #expect(try String(contentsOfFile: outside + "/target.txt", encoding: .utf8) == "host file\n")
        #expect(try String(contentsOfFile: outside + "/folder/inner.txt", encoding: .utf8) == "host folder file\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: outside + "/target.txt")
        #expect(attributes[.posixPermissions] as? Int == 0o640)
        #expect(try FileManager.default.attributesOfItem(atPath: outside + "/folder")[.posixPermissions] as? Int == 0o750)
    }

    @Test func signalsReachTheProcess() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            let terminated = try await sandbox.start(CommandSpec(shell: "sleep 1002.23\(Self.runTag)"))
            #expect(await eventually { processes(withArgument: "1002.23\(Self.runTag)").count == 1 })
            try await terminated.signal(.terminate)
            #expect(try await terminated.collect().exit == CommandExit(code: -1, status: "signal: terminated"))
            #expect(await eventually { processes(withArgument: "1002.23\(Self.runTag)").isEmpty })

            // Commands start with no blocked or ignored signals, whatever the starting thread had
            // (glibc keeps its two internal real-time signals, 32 and 33, ignored).
            let signalState = try await sandbox.run(script: "grep -E '^Sig(Blk|Ign)' /proc/self/status")
            let masks = signalState.stdoutText.split(separator: "\n").compactMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }
            #expect(masks.count == 2)
            #expect(masks.allSatisfy { $0 & 0x7fff_ffff == 0 }, "\(signalState.stdoutText)")

            let killed = try await sandbox.start(CommandSpec(executable: "sleep", arguments: ["1002.29\(Self.runTag)"]))
            try await killed.signal(.kill)
            #expect(try await killed.collect().exit == CommandExit(code: -1, status: "signal: killed"))
            #expect(await eventually { processes(withArgument: "1002.29\(Self.runTag)").isEmpty })
            #expect(try FileManager.default.contentsOfDirectory(atPath: local(sandbox).hostFolder + "/pids").isEmpty)
            try await sandbox.kill()
        }
    }

    @Test func signalsRightAfterTheStartLeaveNothingBehind() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            // bwrap's init process arms --die-with-parent only after setting up the sandbox; a
            // signal that comes earlier must still take the whole sandboxed command down.
            for index in 0..<12 {
                let handle = try await sandbox.start(CommandSpec(executable: "sleep", arguments: ["1006.\(Self.runTag)\(index)"]))
                try await handle.signal(index.isMultiple(of: 2) ? .kill : .terminate)
                #expect(try await handle.collect().exit.status.hasPrefix("signal: "))
                #expect(processes(withArgument: "1006.\(Self.runTag)\(index)").isEmpty)
            }
            try await sandbox.kill()
        }
    }

    @Test func processesSeeOnlyTheirOwnNamespace() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            let result = try await sandbox.run(script: "ls /proc | grep -E '^[0-9]+$'")
            let pids = result.stdoutText.split(separator: "\n").compactMap { Int($0) }
            #expect(!pids.isEmpty)
            #expect(pids.allSatisfy { $0 < 10 }, "host pids visible: \(pids)")
            #expect(!pids.contains(Int(getpid())) || getpid() < 10)
            let ps = try await sandbox.run(script: "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done")
            #expect(!ps.stdoutText.contains("swiftpm-testing-helper"))
            #expect(!ps.stdoutText.contains("LocalSandboxTests"))
            try await sandbox.kill()
        }
    }

    @Test func onlyHomeAndTmpAreWritable() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            let etc = try await sandbox.run(script: "touch /etc/ca-sandbox-test")
            #expect(!etc.exit.succeeded)
            #expect(etc.stderrText.contains("Read-only file system"))
            #expect(!FileManager.default.fileExists(atPath: "/etc/ca-sandbox-test"))
            #expect(try await !sandbox.run(script: "touch /usr/ca-sandbox-test").exit.succeeded)
            #expect(try await !sandbox.run(script: "mkdir /home/other").exit.succeeded)
            let writable = try await sandbox.run(script: "touch /home/user/a && touch /tmp/b && ls /home/user /tmp")
            #expect(writable.exit.succeeded)
            #expect(writable.stdoutText.contains("a") && writable.stdoutText.contains("b"))
            let folder = try local(sandbox).hostFolder
            #expect(FileManager.default.fileExists(atPath: folder + "/home/a"))
            #expect(FileManager.default.fileExists(atPath: folder + "/tmp/b"))
            try await sandbox.kill()
        }
    }

    @Test func sandboxedProcessesHaveNoPrivileges() async throws {
        // A descriptor of this process that is not close-on-exec must not reach the sandbox.
        let leaked = open("/etc/hostname", O_RDONLY)
        defer { close(leaked) }
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            let capabilities = try await sandbox.run(script: "grep CapEff /proc/self/status")
            #expect(capabilities.stdoutText == "CapEff:\t0000000000000000\n")
            #expect(try await !sandbox.run(script: "mount -o remount,rw /").exit.succeeded)
            // Writing the current value back: harmless even if it were allowed, and the UTS
            // namespace is the sandbox's own anyway.
            let sysctl = try await sandbox.run(script: "v=$(cat /proc/sys/kernel/hostname); echo \"$v\" > /proc/sys/kernel/hostname")
            #expect(!sysctl.exit.succeeded)
            // The open descriptors of `ls` itself: stdin, stdout, stderr and the folder it lists.
            let descriptors = try await sandbox.run(CommandSpec(executable: "ls", arguments: ["-l", "/proc/self/fd/"]))
            let targets = descriptors.stdoutText.split(separator: "\n").dropFirst().compactMap { line in
                line.range(of: " -> ").map { String(line[$0.upperBound...]) }
            }
            #expect(targets.count == 4, "\(descriptors.stdoutText)")
            #expect(targets.filter { !$0.hasPrefix("/proc/") }.allSatisfy { $0 == "/dev/null" || $0.hasPrefix("pipe:") })
            #expect(!descriptors.stdoutText.contains("/etc/hostname"))
            try await sandbox.kill()
        }
    }

    @Test func hiddenPathsAreEmptyAndExposedPathsReadable() async throws {
        let base = "/var/tmp/ca-local-hidden-" + UUID().uuidString.lowercased()
        let hidden = base + "/secrets"
        let hiddenFile = base + "/token.txt"
        let toolFolder = base + "/tools"
        try FileManager.default.createDirectory(atPath: hidden + "/.ssh", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: toolFolder + "/bin", withIntermediateDirectories: true)
        try Data("private key".utf8).write(to: URL(fileURLWithPath: hidden + "/.ssh/id_ed25519"))
        try Data("token".utf8).write(to: URL(fileURLWithPath: hiddenFile))
        try await ExecutableScript.write("#!/bin/sh\necho tool ran\n", to: toolFolder + "/bin/tool")
        try Data("other".utf8).write(to: URL(fileURLWithPath: toolFolder + "/other.txt"))
        defer { try? FileManager.default.removeItem(atPath: base) }

        try await withProvider(parent: base, hiddenPaths: [hidden, hiddenFile, toolFolder], exposedPaths: [toolFolder + "/bin/tool"]) { provider, root in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            let listing = try await sandbox.run(script: "ls -A \(hidden); cat \(hidden)/.ssh/id_ed25519")
            #expect(listing.stdoutText.isEmpty)
            #expect(!listing.exit.succeeded)
            #expect(try await !sandbox.run(script: "touch \(hidden)/x").exit.succeeded)
            let file = try await sandbox.run(script: "cat \(hiddenFile)")
            #expect(file.stdoutText.isEmpty)
            // The root of the sandboxes (here outside /tmp and /home) is hidden too.
            let rootListing = try await sandbox.run(script: "ls -A \(root)")
            #expect(rootListing.stdoutText.isEmpty)
            // The exposed program is there, read-only; its neighbours are not.
            let tool = try await sandbox.run(script: "\(toolFolder)/bin/tool; cat \(toolFolder)/other.txt; echo x > \(toolFolder)/bin/tool")
            #expect(tool.stdoutText == "tool ran\n")
            #expect(!tool.exit.succeeded)
            #expect(try String(contentsOfFile: toolFolder + "/bin/tool", encoding: .utf8).contains("tool ran"))
            // Host files are untouched.
            #expect(try String(contentsOfFile: hidden + "/.ssh/id_ed25519", encoding: .utf8) == "private key")
            try await sandbox.kill()
        }
    }

    @Test func bubblewrapArgumentsBuildAMinimalRoot() {
        let settings = LocalSandboxSettings(
            root: "/var/ca-test-root/sandboxes", isolation: .bubblewrap,
            hiddenPaths: ["/home/alice", "/usr/lib", "/usr/lib/x", "/", "/does/not/exist", "/opt"],
            exposedPaths: ["/usr/lib/os-release", "/etc/hostname"],
            bubblewrapPath: nil, hostPath: "/usr/bin:/opt/tool/bin", hostUser: "alice"
        )
        // Only what the sandbox sees can need hiding: /home/alice and /opt are not there at all.
        #expect(settings.hiddenMounts() == ["/usr/lib"])
        #expect(settings.exposedMounts(hidden: ["/usr/lib"]) == ["/etc/hostname", "/usr/lib/os-release"])
        let arguments = settings.mountArguments(sandboxFolder: "/var/ca-test-root/sandboxes/lsb-000000000000")
        #expect(arguments.starts(with: ["--dev", "/dev", "--proc", "/proc"]))
        #expect(!zip(arguments, arguments.dropFirst()).contains { $0 == ("--ro-bind", "/") })
        #expect(arguments.contains("/usr") && !arguments.contains("/opt") && !arguments.contains("/root") && !arguments.contains("/etc/shadow"))
        #expect(arguments.contains("/var/ca-test-root/sandboxes/lsb-000000000000/etc/passwd"))
        #expect(arguments.contains("--bind") && arguments.contains("/home/user"))
        // The more specific path wins; everything but the home and /tmp ends read-only.
        #expect(arguments.suffix(15) == [
            "/etc/hostname", "/etc/hostname", "--tmpfs", "/usr/lib", "--ro-bind", "/usr/lib/os-release", "/usr/lib/os-release",
            "--remount-ro", "/home", "--remount-ro", "/run", "--remount-ro", "/usr/lib", "--remount-ro", "/",
        ])
        #expect(settings.sandboxPath() == LocalSandboxSettings.standardPath + ":/opt/tool/bin")
    }

    @Test func environmentReachesTheProcessButNotTheCommandLine() async throws {
        let secret = "s3cr3t-" + UUID().uuidString
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60, environment: ["CA_SECRET": secret, "SHARED": "sandbox"]))
            let handle = try await sandbox.start(CommandSpec(
                shell: "printenv CA_SECRET; printenv SHARED; printenv ONLY_COMMAND; read line; env",
                environment: ["SHARED": "command", "ONLY_COMMAND": "yes"],
                stdin: true
            ))
            let commandLine = try #require(LocalProcessTable.commandLine(of: Int32(handle.pid)))
            #expect(!commandLine.joined(separator: " ").contains(secret))
            for flag in ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--cap-drop"] {
                #expect(commandLine.contains(flag))
            }
            try await handle.sendInput(Data("\n".utf8))
            try await handle.closeInput()
            let result = try await handle.collect()
            let lines = result.stdoutText.split(separator: "\n").map(String.init)
            #expect(Array(lines.prefix(3)) == [secret, "command", "yes"])
            let environment = Dictionary(lines.dropFirst(3).compactMap { line -> (String, String)? in
                guard let equals = line.firstIndex(of: "=") else { return nil }
                return (String(line[..<equals]), String(line[line.index(after: equals)...]))
            }, uniquingKeysWith: { first, _ in first })
            #expect(environment["HOME"] == "/home/user")
            #expect(environment["TMPDIR"] == "/tmp")
            #expect(environment["LANG"] == "C.UTF-8")
            #expect(environment["USER"] == "user")
            #expect(environment["PATH"]?.hasPrefix(LocalSandboxSettings.standardPath) == true)
            // Nothing else of the host environment leaks in.
            let allowed: Set<String> = ["PATH", "HOME", "USER", "LANG", "TMPDIR", "PWD", "SHLVL", "_", "OLDPWD"]
            let hostOnly = Set(ProcessInfo.processInfo.environment.keys).subtracting(allowed)
            #expect(hostOnly.intersection(environment.keys).isEmpty)
            // The environment is never written to disk.
            let folder = try local(sandbox).hostFolder
            let record = try String(contentsOfFile: folder + "/sandbox.json", encoding: .utf8)
            #expect(!record.contains(secret) && !record.contains("CA_SECRET"))
            try await sandbox.kill()
        }
    }

    // MARK: Files

    @Test func fileOperationsRoundTrip() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            try await sandbox.writeFile("/home/user/a/b/c.txt", contents: Data("hello".utf8))
            #expect(try await sandbox.readFile("/home/user/a/b/c.txt") == Data("hello".utf8))
            #expect(try await sandbox.readFile("a/b/c.txt") == Data("hello".utf8))
            #expect(try await sandbox.run(script: "cat a/b/c.txt").stdoutText == "hello")

            var blob = Data(count: 1 << 20)
            for index in blob.indices { blob[index] = UInt8.random(in: 0...255) }
            try await sandbox.writeFile("/tmp/blob.bin", contents: blob)
            #expect(try await sandbox.readFile("/tmp/blob.bin") == blob)
            #expect(try await sandbox.run(script: "wc -c < /tmp/blob.bin").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "1048576")

            // Replacing keeps permissions; files written by processes are readable.
            _ = try await sandbox.run(script: "printf '#!/bin/sh\\necho v1\\n' > run.sh && chmod 755 run.sh")
            try await sandbox.writeFile("run.sh", contents: Data("#!/bin/sh\necho v2\n".utf8))
            #expect(try await sandbox.run(script: "./run.sh").stdoutText == "v2\n")

            let entry = try #require(try await sandbox.stat("/tmp/blob.bin"))
            #expect(entry == FileEntry(name: "blob.bin", path: "/tmp/blob.bin", kind: .file, size: 1 << 20))
            #expect(try await sandbox.stat("/home/user/a")?.kind == .directory)
            #expect(try await sandbox.stat("/home/user")?.kind == .directory)
            #expect(try await sandbox.stat("/home/user/missing") == nil)
            #expect(try await sandbox.stat("/home/user/missing/deeper") == nil)

            #expect(try await sandbox.makeDirectory("/home/user/x/y"))
            #expect(try await sandbox.makeDirectory("/home/user/x/y") == false)
            let listing = try await sandbox.listDirectory("/home/user", depth: 2)
            #expect(listing.map(\.path) == ["/home/user/a", "/home/user/a/b", "/home/user/run.sh", "/home/user/x", "/home/user/x/y"])
            #expect(try await sandbox.listDirectory("a", depth: 1).map(\.name) == ["b"])
            #expect(try await sandbox.listDirectory("/home/user", depth: 9).contains { $0.path == "/home/user/a/b/c.txt" && $0.size == 5 })

            try await sandbox.remove("/home/user/a")
            #expect(try await sandbox.stat("/home/user/a") == nil)
            try await sandbox.remove("/home/user/a")

            // Errors.
            #expect(await sandboxError { _ = try await sandbox.readFile("/home/user/nothing") } == .fileNotFound("/home/user/nothing"))
            guard case .invalidArgument = await sandboxError({ _ = try await sandbox.readFile("/etc/passwd") }) else {
                Issue.record("reading outside home and /tmp must fail"); return
            }
            guard case .invalidArgument = await sandboxError({ _ = try await sandbox.readFile("../../etc/passwd") }) else {
                Issue.record("climbing out with .. must fail"); return
            }
            guard case .invalidArgument = await sandboxError({ try await sandbox.writeFile("/usr/x", contents: Data()) }) else {
                Issue.record("writing outside home and /tmp must fail"); return
            }
            guard case .invalidArgument = await sandboxError({ _ = try await sandbox.readFile("/home/user/x") }) else {
                Issue.record("reading a folder must fail"); return
            }
            guard case .invalidArgument = await sandboxError({ try await sandbox.remove("/home/user") }) else {
                Issue.record("removing the home must fail"); return
            }
            try await sandbox.kill()
        }
    }

    @Test func symbolicLinksCannotReachHostFiles() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            let passwd = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
            let setup = try await sandbox.run(script: """
                ln -s /etc/passwd pw && ln -s /etc etc && ln -s ../../etc/passwd up && mkdir -p d && ln -s ../../../etc d/deep \
                && echo inside > real.txt && ln -s /home/user/real.txt alias && ln -s real.txt relative && ln -s /tmp t \
                && ln -s loop1 loop2 && ln -s loop2 loop1
                """)
            #expect(setup.exit.succeeded, "\(setup.stderrText)")

            for path in ["pw", "etc/passwd", "up", "d/deep/passwd", "/home/user/etc/hostname"] {
                guard case .invalidArgument = await sandboxError({ _ = try await sandbox.readFile(path) }) else {
                    Issue.record("reading \(path) must fail"); continue
                }
            }
            for path in ["pw", "etc/ca-sandbox-test", "up", "d/deep/ca-sandbox-test"] {
                guard case .invalidArgument = await sandboxError({ try await sandbox.writeFile(path, contents: Data("owned".utf8)) }) else {
                    Issue.record("writing \(path) must fail"); continue
                }
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == passwd)
            #expect(!FileManager.default.fileExists(atPath: "/etc/ca-sandbox-test"))
            guard case .invalidArgument = await sandboxError({ _ = try await sandbox.listDirectory("etc", depth: 1) }) else {
                Issue.record("listing through a link to /etc must fail"); return
            }
            guard case .invalidArgument = await sandboxError({ _ = try await sandbox.readFile("loop1") }) else {
                Issue.record("a link loop must fail"); return
            }

            // Links that stay inside work.
            #expect(try await sandbox.readFile("alias") == Data("inside\n".utf8))
            #expect(try await sandbox.readFile("relative") == Data("inside\n".utf8))
            try await sandbox.writeFile("t/through-link.txt", contents: Data("ok".utf8))
            #expect(try await sandbox.readFile("/tmp/through-link.txt") == Data("ok".utf8))

            // stat and listings report links without following them; remove removes the link only.
            #expect(try await sandbox.stat("pw") == FileEntry(name: "pw", path: "/home/user/pw", kind: .symlink, size: 11, symlinkTarget: "/etc/passwd"))
            #expect(try await sandbox.listDirectory("/home/user", depth: 1).first { $0.name == "etc" }?.kind == .symlink)
            try await sandbox.remove("etc")
            #expect(FileManager.default.fileExists(atPath: "/etc/passwd"))
            #expect(try await sandbox.stat("etc") == nil)
            try await sandbox.kill()
        }
    }

    // MARK: Lifetime and discovery

    @Test func lifetimeExpiryKillsTheSandbox() async throws {
        try await withProvider { provider, _ in
            // The process starts first and the lifetime is cut short afterwards, so a loaded
            // machine (other suites run claude meanwhile) cannot let it expire before the start.
            let sandbox = try await provider.create(SandboxSpec(lifetime: 120))
            let folder = try local(sandbox).hostFolder
            let handle = try await sandbox.start(CommandSpec(shell: "sleep 1003.31\(Self.runTag)"))
            try await sandbox.setLifetime(seconds: 1)
            #expect(await eventually(timeout: .seconds(15)) { !FileManager.default.fileExists(atPath: folder) })
            #expect(processes(withArgument: "1003.31\(Self.runTag)").isEmpty)
            #expect(try await handle.collect().exit.status == "signal: killed")

            // setLifetime moves the expiry and records it.
            let extended = try await provider.create(SandboxSpec(lifetime: 5))
            let extendedFolder = try local(extended).hostFolder
            try await extended.setLifetime(seconds: 30)
            let record = try LocalSandboxRecord.read(sandboxFolder: extendedFolder)
            #expect(record.expiresAt.timeIntervalSinceNow > 25)
            try await Task.sleep(for: .milliseconds(6000))
            #expect(FileManager.default.fileExists(atPath: extendedFolder), "the extended sandbox died at its first expiry")
            // And shortening works too.
            try await extended.setLifetime(seconds: 1)
            #expect(await eventually(timeout: .seconds(15)) { !FileManager.default.fileExists(atPath: extendedFolder) })
        }
    }

    @Test func listFiltersByMetadataAndReapsExpiredSandboxes() async throws {
        try await withProvider { provider, root in
            let first = try await provider.create(SandboxSpec(template: "base", lifetime: 60, metadata: ["ca.task_id": "1", "ca.version": "x"]))
            let second = try await provider.create(SandboxSpec(lifetime: 60, metadata: ["ca.task_id": "2", "ca.version": "x"]))

            // A malformed folder and one left expired by a dead process.
            try FileManager.default.createDirectory(atPath: root + "/lsb-zzzzzzzzzzzz", withIntermediateDirectories: true)
            try Data("{not json".utf8).write(to: URL(fileURLWithPath: root + "/lsb-zzzzzzzzzzzz/sandbox.json"))
            let expiredFolder = root + "/lsb-000000000000"
            try FileManager.default.createDirectory(atPath: expiredFolder + "/home", withIntermediateDirectories: true)
            try LocalSandboxRecord(id: "lsb-000000000000", template: "base", metadata: ["ca.version": "x"], startedAt: Date(timeIntervalSinceNow: -100), expiresAt: Date(timeIntervalSinceNow: -10), isolation: "bubblewrap")
                .write(sandboxFolder: expiredFolder)

            let one = try await provider.list(metadata: ["ca.task_id": "1"])
            #expect(one.map(\.id) == [first.id])
            #expect(one.first?.template == "base")
            #expect(one.first?.metadata == ["ca.task_id": "1", "ca.version": "x"])
            #expect(one.first?.state == "running")
            #expect(Set(try await provider.list(metadata: ["ca.version": "x"]).map(\.id)) == [first.id, second.id])
            #expect(try await provider.list(metadata: ["ca.version": "y"]).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: expiredFolder))

            #expect(try await provider.kill(id: first.id))
            #expect(try await provider.list(metadata: [:]).map(\.id) == [second.id])
            let missing = await sandboxError { _ = try await provider.connect(id: first.id) }
            #expect(missing == .sandboxNotFound(first.id))
            #expect(await sandboxError { _ = try await provider.connect(id: "../../etc") } == .sandboxNotFound("../../etc"))
            #expect(try await provider.kill(id: "../sandboxes") == false)
            #expect(try await provider.kill(id: "lsb-aaaaaaaaaaaa") == false)
        }
    }

    @Test func anotherProviderCanConnectAndKill() async throws {
        try await withProvider { owner, root in
            let sandbox = try await owner.create(SandboxSpec(lifetime: 60, metadata: ["ca.task_id": "7"]))
            let handle = try await sandbox.start(CommandSpec(shell: "sleep 1004.41\(Self.runTag) & sleep 1004.41\(Self.runTag)"))
            #expect(await eventually { processes(withArgument: "1004.41\(Self.runTag)").count == 2 })
            #expect(try await owner.connect(id: sandbox.id) as? LocalSandbox === sandbox as? LocalSandbox)

            // A second provider on the same root stands for another ca process.
            let other = LocalSandboxProvider(root: root)
            #expect(try await other.list(metadata: ["ca.task_id": "7"]).map(\.id) == [sandbox.id])
            let connected = try await other.connect(id: sandbox.id)
            try await connected.writeFile("note.txt", contents: Data("from the other side".utf8))
            #expect(try await sandbox.readFile("note.txt") == Data("from the other side".utf8))
            #expect(try await connected.run(script: "echo hi").stdoutText == "hi\n")

            #expect(try await other.kill(id: sandbox.id))
            #expect(processes(withArgument: "1004.41\(Self.runTag)").isEmpty)
            #expect(try await handle.collect().exit == CommandExit(code: -1, status: "signal: killed"))
            #expect(!FileManager.default.fileExists(atPath: try local(sandbox).hostFolder))
            #expect(try await other.kill(id: sandbox.id) == false)
            #expect(await sandboxError { _ = try await owner.connect(id: sandbox.id) } == .sandboxNotFound(sandbox.id))
            #expect(await sandboxError { _ = try await sandbox.start(CommandSpec(executable: "true")) } == .sandboxNotFound(sandbox.id))
        }
    }

    @Test func pidRecordsIgnoreForeignProcesses() async throws {
        try await withProvider { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60))
            let folder = try local(sandbox).hostFolder
            // A record naming a live process that is not a bwrap of this sandbox (this test process).
            let me = try #require(LocalProcessTable.status(of: getpid()))
            try Data("\(me.startTime) bwrap\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/pids/\(getpid())"))
            let table = LocalProcessTable(sandboxFolder: folder)
            #expect(table.records().map(\.pid) == [getpid()])
            #expect(!table.isLive(table.records()[0]))
            try await sandbox.kill()  // must not kill this process
            #expect(!FileManager.default.fileExists(atPath: folder))
        }
    }

    // MARK: Other modes and failures

    @Test func unsafeModeWithoutIsolationWorks() async throws {
        try await withProvider(isolation: .none) { provider, _ in
            let sandbox = try await provider.create(SandboxSpec(lifetime: 60, environment: ["CA_SECRET": "x"]))
            let folder = try local(sandbox).hostFolder
            #expect(sandbox.homeDirectory == folder + "/home")
            let result = try await sandbox.run(script: "pwd; echo $HOME; echo $TMPDIR; echo $CA_SECRET; echo err >&2; exit 4")
            #expect(result.stdoutText == "\(folder)/home\n\(folder)/home\n\(folder)/tmp\nx\n")
            #expect(result.stderrText == "err\n")
            #expect(result.exit.code == 4)

            try await sandbox.writeFile("/home/user/f.txt", contents: Data("via api".utf8))
            #expect(try await sandbox.run(CommandSpec(executable: "cat", arguments: ["f.txt"])).stdoutText == "via api")
            #expect(try await sandbox.readFile(folder + "/home/f.txt") == Data("via api".utf8))
            #expect(try await sandbox.listDirectory(sandbox.homeDirectory, depth: 1).map(\.path) == [folder + "/home/f.txt"])

            let cat = try await sandbox.start(CommandSpec(executable: "cat", stdin: true))
            try await cat.sendInput(Data("echo".utf8))
            try await cat.closeInput()
            #expect(try await cat.collect().stdoutText == "echo")

            let handle = try await sandbox.start(CommandSpec(shell: "sleep 1005.51\(Self.runTag) & sleep 1005.51\(Self.runTag) & wait"))
            #expect(await eventually { processes(withArgument: "1005.51\(Self.runTag)").count == 2 })
            try await sandbox.kill()
            #expect(processes(withArgument: "1005.51\(Self.runTag)").isEmpty)
            #expect(try await handle.collect().exit.status == "signal: killed")
            #expect(!FileManager.default.fileExists(atPath: folder))
        }
    }

    @Test func missingBubblewrapIsReported() async throws {
        let root = NSTemporaryDirectory() + "/ca-local-tests-" + UUID().uuidString.lowercased()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let provider = LocalSandboxProvider(root: root, bubblewrapPath: "/nonexistent/bwrap")
        let error = await sandboxError { _ = try await provider.create(SandboxSpec()) }
        #expect(error == .missingDependency(program: "bwrap", package: "bubblewrap"))
        #expect(!FileManager.default.fileExists(atPath: root))

        // A bwrap that cannot create sandboxes is reported with its message.
        let broken = root + "-bwrap"
        try await ExecutableScript.write("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n", to: broken)
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let failing = LocalSandboxProvider(root: root, bubblewrapPath: broken)
        guard case .configuration(let message) = await sandboxError({ _ = try await failing.create(SandboxSpec()) }) else {
            Issue.record("expected a configuration error"); return
        }
        #expect(message.contains("No permissions to create new namespace"))
    }

    @Test func pathMapperStaysInsideTheSandbox() throws {
        let mapper = LocalPathMapper(sandboxFolder: "/r/lsb-1", isolated: true)
        #expect(try mapper.locate("/home/user/a/../b").components == ["b"])
        #expect(try mapper.locate("x/y").components == ["x", "y"])
        #expect(try mapper.locate("").area == mapper.home)
        #expect(try mapper.locate("/tmp/z").area == mapper.temporary)
        #expect(throws: SandboxError.self) { try mapper.locate("/home/user/../../etc") }
        #expect(throws: SandboxError.self) { try mapper.locate("/r/lsb-1/home/x") }
        let unsafe = LocalPathMapper(sandboxFolder: "/r/lsb-1", isolated: false)
        #expect(try unsafe.locate("/r/lsb-1/home/x").components == ["x"])
        #expect(unsafe.display(unsafe.home, ["x"]) == "/r/lsb-1/home/x")
        #expect(LocalProcessTable.parseStatus("12 (a b) c) S 1 12 12 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0")?.startTime == 4242)
    }
}
