import ArgumentParser
import SandboxClient

/// The entry point: the network bridge that runs inside local sandboxes (`ca _sandbox-bridge`,
/// see ``LocalNetworkBridge``) is dispatched before any argument parsing; everything else is
/// the ``CA`` command.
@main
enum CAMain {
    static func main() async {
        let arguments = CommandLine.arguments
        if arguments.count > 1, arguments[1] == LocalNetworkBridge.commandName {
            LocalNetworkBridge.main(Array(arguments.dropFirst(2)))
        }
        await CA.main()
    }
}
