import Foundation

/// One file of a pull request's merge-base diff, as `GET /pulls/{n}/files` shows it, with its hunks
/// parsed for review-comment validation.
struct FakeGitHubFileChange: Sendable {
    /// One line of the patch after the first `@@`.
    struct Line: Sendable {
        /// `+`, `-`, ` `, `@` (a later hunk header) or `\` (no newline at end of file).
        var kind: Character
        var oldNumber: Int?
        var newNumber: Int?
        /// 1 for the line after the first `@@`; later `@@` lines count too.
        var position: Int
        var hunk: Int
        var text: String
    }

    var filename: String
    var previousFilename: String?
    /// added, removed, modified, renamed, copied or changed.
    var status: String
    var additions = 0
    var deletions = 0
    /// The blob sha (the old one for a removed file).
    var sha: String
    /// The patch from the first `@@`, `nil` for binary files and changes without hunks.
    var patch: String?
    var lines: [Line] = []
    /// The first line of the patch (the first `@@` header), kept for `diff_hunk`.
    var firstHeader = ""

    var changes: Int { additions + deletions }

    /// The line a review comment on `line`/`side` points at, or `nil` when it is not part of the diff.
    func commentable(line: Int, side: String) -> Line? {
        lines.first { candidate in
            switch (side, candidate.kind) {
            case ("RIGHT", "+"), ("RIGHT", " "): candidate.newNumber == line
            case ("LEFT", "-"), ("LEFT", " "): candidate.oldNumber == line
            default: false
            }
        }
    }

    /// The patch line at legacy `position`, or `nil`.
    func line(atPosition position: Int) -> Line? {
        lines.first { $0.position == position }
    }

    /// The hunk text from its `@@` header to `line`, GitHub's `diff_hunk`.
    func diffHunk(upTo line: Line) -> String {
        var header = firstHeader
        var body: [String] = []
        for candidate in lines where candidate.hunk == line.hunk && candidate.position <= line.position {
            if candidate.kind == "@" { header = candidate.text } else { body.append(candidate.text) }
        }
        return ([header] + body).joined(separator: "\n")
    }
}

/// Computes and parses pull request diffs with git.
enum FakeGitHubDiff {
    /// The text of `git diff base...head` (merge-base diff), as served for `application/vnd.github.diff`.
    static func diffText(base: String, head: String, in dir: String) async throws -> String {
        try await FakeGitHubGit.output(["-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff", "-M", "\(base)...\(head)"], in: dir)
    }

    /// The files of the merge-base diff between `base` and `head` (commit shas).
    static func files(base: String, head: String, in dir: String) async throws -> [FakeGitHubFileChange] {
        let raw = try await FakeGitHubGit.output(["diff", "--raw", "-z", "-M", "--no-abbrev", "\(base)...\(head)"], in: dir)
        var changes = parseRaw(raw)
        let text = try await diffText(base: base, head: head, in: dir)
        let sections = splitSections(text)
        guard sections.count == changes.count else {
            throw FakeGitHubGit.Failure(description: "diff has \(sections.count) sections for \(changes.count) files")
        }
        for index in changes.indices {
            parseSection(sections[index], into: &changes[index])
        }
        return changes
    }

    /// Parses `git diff --raw -z` output into file changes without patches.
    static func parseRaw(_ raw: String) -> [FakeGitHubFileChange] {
        var fields = raw.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        var changes: [FakeGitHubFileChange] = []
        while !fields.isEmpty {
            let meta = fields.removeFirst()
            guard meta.hasPrefix(":") else { continue }
            let parts = meta.dropFirst().split(separator: " ")
            guard parts.count == 5, !fields.isEmpty else { break }
            let oldSHA = String(parts[2]), newSHA = String(parts[3])
            let code = parts[4].first ?? "M"
            var path = fields.removeFirst()
            var previous: String?
            if code == "R" || code == "C", !fields.isEmpty {
                previous = path
                path = fields.removeFirst()
            }
            let status: String = switch code {
            case "A": "added"
            case "D": "removed"
            case "R": "renamed"
            case "C": "copied"
            case "T": "changed"
            default: "modified"
            }
            changes.append(FakeGitHubFileChange(filename: path, previousFilename: previous, status: status,
                                                sha: code == "D" ? oldSHA : newSHA))
        }
        return changes
    }

    /// Splits a multi-file diff at its `diff --git` lines.
    static func splitSections(_ text: String) -> [[Substring]] {
        var sections: [[Substring]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("diff --git ") {
                sections.append([line])
            } else if !sections.isEmpty {
                sections[sections.count - 1].append(line)
            }
        }
        if var last = sections.popLast() {
            while last.last == "" { last.removeLast() }
            sections.append(last)
        }
        return sections
    }

    /// Fills the patch, counts and numbered lines of `change` from its diff section.
    static func parseSection(_ section: [Substring], into change: inout FakeGitHubFileChange) {
        guard let start = section.firstIndex(where: { $0.hasPrefix("@@") }) else { return }
        let patchLines = section[start...]
        change.patch = patchLines.joined(separator: "\n")
        change.firstHeader = String(patchLines.first!)
        var oldNumber = 0, newNumber = 0, hunk = -1, position = 0
        for (offset, text) in patchLines.enumerated() {
            if text.hasPrefix("@@") {
                hunk += 1
                (oldNumber, newNumber) = hunkStarts(text)
                if offset == 0 { continue }
                position += 1
                change.lines.append(.init(kind: "@", position: position, hunk: hunk, text: String(text)))
                continue
            }
            position += 1
            let kind = text.first ?? " "
            var line = FakeGitHubFileChange.Line(kind: kind, position: position, hunk: hunk, text: String(text))
            switch kind {
            case "+":
                line.newNumber = newNumber; newNumber += 1; change.additions += 1
            case "-":
                line.oldNumber = oldNumber; oldNumber += 1; change.deletions += 1
            case "\\":
                break
            default:
                line.kind = " "
                line.oldNumber = oldNumber; line.newNumber = newNumber
                oldNumber += 1; newNumber += 1
            }
            change.lines.append(line)
        }
    }

    /// The old and new start lines of a `@@ -a,b +c,d @@` header.
    static func hunkStarts(_ header: Substring) -> (Int, Int) {
        let parts = header.split(separator: " ")
        func start(_ prefix: Character) -> Int {
            guard let part = parts.first(where: { $0.first == prefix }) else { return 0 }
            return Int(part.dropFirst().split(separator: ",").first ?? "0") ?? 0
        }
        return (start("-"), start("+"))
    }
}
