import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The unprivileged host user that sandboxed processes run as when ca itself runs as root.
///
/// bubblewrap started by root does not need a user namespace, and a user namespace created by
/// root maps its users back to root on the host, so a sandbox of root's would act as root on
/// every file it can see. Instead, bubblewrap keeps only the capabilities to change users, and
/// `setpriv` switches to this user (clearing supplementary groups and every capability) before
/// the command runs. bubblewrap sets `no_new_privs`, so no setuid program can climb back.
/// The sandbox's home is owned by this user.
public struct LocalSandboxUser: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// `nobody:nogroup` (65534), present on every Debian and Ubuntu system.
    public static let nobody = LocalSandboxUser(uid: 65534, gid: 65534)

    /// ``nobody`` when this process runs as root, `nil` otherwise (an unprivileged user's
    /// sandbox runs as that user, mapped by bubblewrap's user namespace).
    public static var automatic: LocalSandboxUser? {
        geteuid() == 0 ? .nobody : nil
    }

    /// Parses `uid[:gid]` or a user name from the host's user database; `nil` when unknown or root.
    public static func parse(_ text: String) -> LocalSandboxUser? {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, !first.isEmpty else { return nil }
        var user: LocalSandboxUser?
        if let uid = UInt32(first) {
            let gid = parts.count > 1 ? UInt32(parts[1]) : uid
            user = gid.map { LocalSandboxUser(uid: uid, gid: $0) }
        } else if let entry = getpwnam(first) {
            user = LocalSandboxUser(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        }
        guard let user, user.uid != 0, user.gid != 0 else { return nil }
        return user
    }

    /// The `/etc/passwd` a sandbox sees: root, `user` (the sandbox's user, home `/home/user`)
    /// and nobody.
    static func passwd(uid: UInt32, gid: UInt32) -> String {
        var lines = ["root:x:0:0:root:/root:/usr/sbin/nologin", "user:x:\(uid):\(gid):sandbox user:/home/user:/bin/bash"]
        if uid != 65534 { lines.append("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `/etc/group` a sandbox sees.
    static func group(gid: UInt32) -> String {
        var lines = ["root:x:0:", "user:x:\(gid):"]
        if gid != 65534 { lines.append("nogroup:x:65534:") }
        return lines.joined(separator: "\n") + "\n"
    }
}
