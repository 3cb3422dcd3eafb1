namespace Coordination.Benchmarks.Noisy;

/// <summary>One attack's pair of phases: tenant B alone, then tenant B while tenant A attacks.</summary>
internal sealed record PhaseResult(
    Attack Attack,
    VictimResult Alone,
    VictimResult UnderAttack,
    Outcomes AttackerOutcomes,
    long AttackerSent,
    TimeSpan AttackElapsed,
    string? AttackFailure,
    ServerSnapshot Before,
    ServerSnapshot After)
{
    public double AttackerRequestsPerSecond => AttackerSent / AttackElapsed.TotalSeconds;

    /// <summary>Requests sent but not answered when the attack stopped (cancelled in flight).</summary>
    public long AttackerUnanswered => AttackerSent - AttackerOutcomes.Total;

    public double P99Ratio => UnderAttack.Percentile(0.99) / Alone.Percentile(0.99);

    public bool MeetsTarget => P99Ratio <= 2 && UnderAttack.ErrorCount == 0 && UnderAttack.Completed == UnderAttack.Scheduled;
}
