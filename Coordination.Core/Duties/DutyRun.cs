namespace Coordination;

/// <summary>A finished run of a duty, as recorded in the duties' state hash (<see cref="DutyKeys.State"/>).</summary>
/// <param name="Name">The duty's name.</param>
/// <param name="Node">The node that ran it.</param>
/// <param name="StartedAt">When the run started (Redis's clock).</param>
/// <param name="EndedAt">When the run ended (Redis's clock).</param>
/// <param name="Succeeded">Whether the run succeeded.</param>
/// <param name="Error">Why it failed (an exception type, <c>timeout</c> or <c>lock-lost</c>); <see langword="null"/> when it succeeded.</param>
/// <param name="NextRunAt">When the duty is due again.</param>
/// <param name="Runs">Runs of the duty so far, over every node.</param>
/// <param name="Failures">Failed runs of the duty so far, over every node.</param>
public sealed record DutyRun(
    string Name,
    string Node,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    bool Succeeded,
    string? Error,
    DateTimeOffset NextRunAt,
    long Runs,
    long Failures);
