namespace Coordination;

/// <summary>A Worker duty's state as recorded in Redis by the node that ran it last.</summary>
public sealed class NodeDutyReport
{
    /// <summary>The duty's name.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>The node that ran it last.</summary>
    public string? Node { get; init; }

    /// <summary>When its last run started.</summary>
    public DateTimeOffset? LastRunStartedAt { get; init; }

    /// <summary>When its last run ended.</summary>
    public DateTimeOffset? LastRunEndedAt { get; init; }

    /// <summary>The last run's result: <c>ok</c> or <c>failed</c>.</summary>
    public string? Result { get; init; }

    /// <summary>Why the last run failed (at most 500 characters).</summary>
    public string? Error { get; init; }

    /// <summary>When it runs next.</summary>
    public DateTimeOffset? NextRunAt { get; init; }

    /// <summary>Runs so far.</summary>
    public long Runs { get; init; }

    /// <summary>Failed runs so far.</summary>
    public long Failures { get; init; }
}
