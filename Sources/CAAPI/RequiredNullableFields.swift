// swift-openapi-generator 1.14 encodes every optional property with `encodeIfPresent`, so a field
// that the document lists as required and nullable (`type: [T, "null"]`) would be left out when it
// is nil (apple/swift-openapi-generator#934), and a response would not match the document. These
// encoders write `null` instead: every field is always present, as in `ca task get --json`.
// Decoding stays generated (it takes `null` and, leniently, a missing field).
// A property added to one of these schemas must be added here too: CAAPITests checks the keys.

extension Components.Schemas.Task {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(repositoryUrl, forKey: .repositoryUrl)
        try c.encode(branch, forKey: .branch)
        try c.encode(baseCommit, forKey: .baseCommit)
        try c.encode(parentId, forKey: .parentId)
        try c.encode(sandbox, forKey: .sandbox)
        try c.encode(sandboxId, forKey: .sandboxId)
        try c.encode(sessionId, forKey: .sessionId)
        try c.encode(model, forKey: .model)
        try c.encode(maxTurns, forKey: .maxTurns)
        try c.encode(timeoutSeconds, forKey: .timeoutSeconds)
        try c.encode(costUsd, forKey: .costUsd)
        try c.encode(inputTokens, forKey: .inputTokens)
        try c.encode(outputTokens, forKey: .outputTokens)
        try c.encode(numTurns, forKey: .numTurns)
        try c.encode(result, forKey: .result)
        try c.encode(error, forKey: .error)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(owner, forKey: .owner)
        try c.encode(network, forKey: .network)
        try c.encode(pullRequestUrl, forKey: .pullRequestUrl)
        try c.encode(pullRequestNumber, forKey: .pullRequestNumber)
        try c.encode(reviewUrl, forKey: .reviewUrl)
        try c.encode(maxCostUsd, forKey: .maxCostUsd)
        try c.encode(failureReason, forKey: .failureReason)
        try c.encode(keepAliveSeconds, forKey: .keepAliveSeconds)
        try c.encode(pausedSandboxId, forKey: .pausedSandboxId)
        try c.encode(pausedUntil, forKey: .pausedUntil)
        // Only on the tasks of a best-of-N run (not required).
        try c.encodeIfPresent(attempts, forKey: .attempts)
        try c.encodeIfPresent(attemptOf, forKey: .attemptOf)
        try c.encodeIfPresent(attempt, forKey: .attempt)
    }
}

extension Components.Schemas.TaskAttempt {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(id, forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(costUsd, forKey: .costUsd)
        try c.encode(error, forKey: .error)
        try c.encode(filesChanged, forKey: .filesChanged)
        try c.encode(patchBytes, forKey: .patchBytes)
    }
}

extension Components.Schemas.TaskPage {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tasks, forKey: .tasks)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}

extension Components.Schemas.Event {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seq, forKey: .seq)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(_type, forKey: ._type)
        try c.encode(subtype, forKey: .subtype)
        try c.encode(data, forKey: .data)
    }
}

extension Components.Schemas.Artifact {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(path, forKey: .path)
        try c.encode(size, forKey: .size)
        try c.encode(note, forKey: .note)
    }
}
