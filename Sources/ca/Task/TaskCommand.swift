import ArgumentParser

/// `ca task …`
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Create, follow and inspect agent tasks.",
        subcommands: [
            TaskCreate.self, TaskGet.self, TaskLogs.self, TaskWait.self, TaskList.self,
            TaskResume.self, TaskCancel.self, TaskDiff.self, TaskFiles.self, TaskApply.self, TaskRunDetached.self,
        ]
    )
}
