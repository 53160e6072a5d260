import Foundation

/// The built `ca` executable, for tests that run it or need it as the network bridge inside
/// local sandboxes (`CA_HELPER_BIN`).
public enum CABinary {
    /// `$CA_BIN`, else `ca` next to the running test bundle or tool (`swift build --build-tests`
    /// builds both into the same folder).
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["CA_BIN"], !override.isEmpty { return override }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("ca").path
    }
}
