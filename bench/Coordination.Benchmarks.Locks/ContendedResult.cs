namespace Coordination.Benchmarks.Locks;

/// <summary>One acquisition in a contended round: who, when its wait began, when it got the lock, its fencing token (ours only).</summary>
internal readonly record struct Grant(int Waiter, long WaitStarted, long Granted, long? FencingToken);

/// <summary>One contended variant's results, merged over its rounds.</summary>
internal sealed class ContendedResult(string variant, int waiters)
{
    public string Variant { get; } = variant;

    public int Waiters { get; } = waiters;

    public long Acquisitions { get; private set; }

    /// <summary>Acquisitions by a different waiter than the previous acquisition's.</summary>
    public long HandOffs { get; private set; }

    public TimeSpan Elapsed { get; private set; }

    /// <summary>Completed waits (start of the acquire call to its return).</summary>
    public Latencies Waits { get; } = new();

    /// <summary>Waits still running when a round ended (cancelled then): right-censored, not in <see cref="Waits"/>.</summary>
    public int Unfinished { get; private set; }

    public double LongestUnfinishedMicroseconds { get; private set; }

    public long Timeouts { get; private set; }

    public long Errors { get; private set; }

    /// <summary>Times a waiter entered the critical section while another was in it (mutual exclusion broken).</summary>
    public long Overlaps { get; private set; }

    /// <summary>Acquisitions whose fencing token was not above the previous acquisition's (ours only).</summary>
    public long FencingRegressions { get; private set; }

    public bool HasFencingTokens { get; private set; }

    /// <summary>The longest time between two consecutive acquisitions, in microseconds (the lock free or its holder slow).</summary>
    public double LongestGapMicroseconds { get; private set; }

    public int MinPerWaiter { get; private set; } = int.MaxValue;

    public int MaxPerWaiter { get; private set; }

    /// <summary>Steady-state acquisitions analysed for fairness (waits that began after the round's start-up burst).</summary>
    public long Analysed { get; private set; }

    /// <summary>The most acquisitions by others that happened during one (steady-state) wait; FIFO bounds it by waiters - 1.</summary>
    public int MaxOthersDuringWait { get; private set; }

    /// <summary>Steady-state acquisitions that were overtaken at least once by a waiter whose wait began later.</summary>
    public long Overtaken { get; private set; }

    public int MaxOvertakes { get; private set; }

    public RedisStats Server { get; private set; }

    /// <summary>How long a newcomer waited for the free lock after waiters cancelled mid-attempt (null: timed out).</summary>
    public TimeSpan? AfterCancelledWaiters { get; set; }

    public double AcquisitionsPerSecond => Acquisitions / Elapsed.TotalSeconds;

    public double HandOffsPerSecond => HandOffs / Elapsed.TotalSeconds;

    /// <summary>The mean time between two acquisitions, in microseconds.</summary>
    public double MeanIntervalMicroseconds => Elapsed.TotalMicroseconds / Acquisitions;

    /// <summary>The longest completed or unfinished wait, in microseconds.</summary>
    public double LongestWaitMicroseconds => Math.Max(Waits.Count == 0 ? 0 : Waits.Max, LongestUnfinishedMicroseconds);

    /// <summary>The longest wait over what a FIFO queue of all waiters needs at the measured rate ((waiters - 1) mean intervals).</summary>
    public double LongestWaitOverQueueBound => LongestWaitMicroseconds / ((Waiters - 1) * MeanIntervalMicroseconds);

    public double CommandsPerAcquisition => (double)Server.Commands / Acquisitions;

    public double ServerCpuShare => Server.CpuSeconds / Elapsed.TotalSeconds;

    public void AddRound(ContendedRound round)
    {
        var grants = round.Grants;
        Acquisitions += grants.Count;
        Elapsed += round.Elapsed;
        Timeouts += round.Timeouts;
        Errors += round.Errors;
        Overlaps += round.Overlaps;
        Server = Server.Add(round.Server);
        Waits.AddRange(grants.Select(g => g.Granted - g.WaitStarted));
        Unfinished += round.UnfinishedWaits.Count;
        if (round.UnfinishedWaits.Count > 0)
        {
            LongestUnfinishedMicroseconds = Math.Max(LongestUnfinishedMicroseconds, Latencies.ToMicroseconds(round.UnfinishedWaits.Max()));
        }

        var perWaiter = new int[Waiters];
        for (var i = 0; i < grants.Count; i++)
        {
            perWaiter[grants[i].Waiter]++;
            if (i > 0)
            {
                LongestGapMicroseconds = Math.Max(LongestGapMicroseconds, Latencies.ToMicroseconds(grants[i].Granted - grants[i - 1].Granted));
                if (grants[i].Waiter != grants[i - 1].Waiter)
                {
                    HandOffs++;
                }
            }

            if (grants[i].FencingToken is { } fence)
            {
                HasFencingTokens = true;
                if (i > 0 && grants[i - 1].FencingToken is { } previous && fence <= previous)
                {
                    FencingRegressions++;
                }
            }

            if (grants[i].WaitStarted < round.SteadyFrom)
            {
                continue;
            }

            // The grants before this one that happened while it waited, and those of them whose wait began later.
            Analysed++;
            var others = 0;
            var overtakes = 0;
            for (var j = i - 1; j >= 0 && grants[j].Granted > grants[i].WaitStarted; j--)
            {
                others++;
                if (grants[j].WaitStarted > grants[i].WaitStarted)
                {
                    overtakes++;
                }
            }

            MaxOthersDuringWait = Math.Max(MaxOthersDuringWait, others);
            MaxOvertakes = Math.Max(MaxOvertakes, overtakes);
            if (overtakes > 0)
            {
                Overtaken++;
            }
        }

        MinPerWaiter = Math.Min(MinPerWaiter, perWaiter.Min());
        MaxPerWaiter = Math.Max(MaxPerWaiter, perWaiter.Max());
    }
}

/// <summary>The raw record of one contended round.</summary>
internal sealed record ContendedRound(
    IReadOnlyList<Grant> Grants,
    IReadOnlyList<long> UnfinishedWaits,
    TimeSpan Elapsed,
    long SteadyFrom,
    long Timeouts,
    long Errors,
    long Overlaps,
    RedisStats Server);
