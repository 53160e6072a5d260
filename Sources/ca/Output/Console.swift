import AgentCore
import ArgumentParser
import Foundation

/// Writes to stdout and stderr, with or without colour, as text or JSON.
struct Console: Sendable {
    let json: Bool
    let stdoutIsTTY = isatty(STDOUT_FILENO) == 1
    let stderrIsTTY = isatty(STDERR_FILENO) == 1
    var color: Bool { stdoutIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    init(json: Bool) {
        self.json = json
    }

    /// Prints a line of human output. Control characters other than ca's own colours are shown
    /// escaped (see ``TerminalText``), whatever part of the line they came from.
    func out(_ line: String) {
        StandardStream.output.write(Data((TerminalText.escapeKeepingStyles(line) + "\n").utf8))
    }

    func err(_ line: String) {
        StandardStream.error.write(Data((TerminalText.escapeKeepingStyles(line) + "\n").utf8))
    }

    /// A one-line notice on stderr (never on stdout, so `--json` output stays clean).
    func notice(_ line: String) {
        err("ca: \(line)")
    }

    /// Prints an encodable value as one line of JSON.
    func printJSON<T: Encodable>(_ value: T) {
        StandardStream.output.write(Data((TerminalText.escapeJSON(JSONOutput.encode(value)) + "\n").utf8))
    }

    /// Prints an error and returns the exit to throw.
    func fail(_ error: any Error) -> ExitCode {
        let taskError: TaskError
        if let e = error as? TaskError { taskError = e }
        else if let e = error as? StoreError { taskError = .store(e) }
        else { taskError = .step(String(describing: error)) }
        let code = CAExitCode.forError(taskError)
        err("error: \(taskError.description)")
        if json { printJSON(JSONOutput.ErrorBody(error: taskError.description, exitCode: code.rawValue)) }
        return code.exitCode
    }

    /// Untrusted text made safe to print (see ``TerminalText/escape(_:)``); do this before styling it.
    func safe(_ text: String) -> String {
        TerminalText.escape(text)
    }

    func style(_ text: String, _ code: String) -> String {
        color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
