import AgentCore
import ArgumentParser

/// `ca doctor`
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that ca can run tasks here: credentials, local backend, cloud backends and template.",
        discussion: "Starts one short-lived sandbox per backend. Exits 0 when every check passes, 11 otherwise.")

    @OptionGroup var filter: SandboxFilter
    @OptionGroup var output: OutputOptions

    struct Body: Encodable {
        var ok: Bool
        var checks: [Doctor.Check]
    }

    func run() async throws {
        let context = try await CommandContext.open(output)
        let checks = await context.service.doctor.run(backends: filter.names)
        let ok = !checks.contains { $0.outcome == .fail }
        if output.json {
            context.console.printJSON(Body(ok: ok, checks: checks))
        } else {
            for check in checks {
                let mark: String
                switch check.outcome {
                case .pass: mark = context.console.style("PASS", "32")
                case .fail: mark = context.console.style("FAIL", "31")
                case .skip: mark = context.console.style("SKIP", "2")
                }
                context.console.out("\(mark)  \(check.name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(check.detail)")
            }
        }
        if !ok { throw CAExitCode.setup.exitCode }
    }
}
