/// What a running task reports to whoever shows it (the CLI's foreground view).
public enum TaskProgress: Sendable {
    /// A step of ca's own (`sandbox`, `clone`, `agent`, `extract`, …) with a short message.
    case step(name: String, message: String)
    /// An event from the agent, as parsed from its stream-json output.
    case agent(AgentEvent)
    /// The task ended; the record is final.
    case finished(TaskRecord)
}
