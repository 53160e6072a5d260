/// The metadata keys ca puts on every sandbox it starts.
public enum SandboxMetadata {
    /// The task the sandbox runs.
    public static let taskID = "ca.task_id"
    /// The ca version that started it.
    public static let version = "ca.version"
    /// The installation (store) that started it, see ``TaskStore/installationID``.
    public static let installation = "ca.installation"
}
