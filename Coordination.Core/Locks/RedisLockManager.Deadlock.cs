using StackExchange.Redis;

namespace Coordination;

// Deadlock detection. The wait-for graph has two kinds of edges: "owner waits for lock" (written by the waiter)
// and "lock is held by owner" (written by the waiters of that lock from what their refused attempt saw, and by a
// waiter that got the lock). The graph of a tenant is under a tenant-level hash tag (with the tenant's waiter places,
// which bound its waiters), so taking a place, recording a wait and searching for the cycle it would close is one
// atomic script: of two owners closing a cycle at the same moment,
// exactly one sees it. The locks' own keys keep their per-lock tags; what crosses slots is only this graph, written
// after the lock script (not atomically with it). What could go stale that way is checked before anyone is told
// about a deadlock: every "held by" edge of a cycle is read back from the lock itself.
internal sealed partial class RedisLockManager
{
    private readonly RedisKey[] _graph;

    /// <summary>
    /// Takes (or renews) the caller's place among the tenant's waiters and records that it waits (again) for the
    /// lock in the wait-for graph, when deadlock detection applies. Runs on the first refusal, whenever the blocking
    /// owners change, and at least every re-check interval (which keeps the place's and the edge's lease alive).
    /// </summary>
    /// <exception cref="DeadlockDetectedException">The wait would close a cycle (verified against the locks).</exception>
    /// <exception cref="LockWaitersExceededException">The tenant has its most waiters already.</exception>
    private async ValueTask RecordWaitAsync(LockRequest request, AcquireOutcome outcome, GraphState state, CancellationToken cancellationToken)
    {
        var owners = outcome.Owners;
        var record = _options.DeadlockDetection && request.Kind != LockKind.Semaphore
            && owners.Length > 0 && !(owners.Length == 1 && owners[0] == request.Owner);
        var time = _runtime.Time;
        if (state.Recorded && time.GetElapsedTime(state.RecordedAt) < _options.RecheckInterval
            && (!record || (state.Owners is { } seen && seen.SequenceEqual(owners, StringComparer.Ordinal))))
        {
            return;
        }

        RedisValue[] arguments =
        [
            request.Owner,
            request.Token,
            request.Name,
            (long)_runtime.WaiterLease.TotalMilliseconds,
            Math.Max(1, outcome.RetryAfterMilliseconds),
            _options.MaxDeadlockCycleLength,
            _options.MaxWaitersPerTenant,
            record ? "1" : "0",
            .. (record ? owners : []).Select(o => (RedisValue)o),
        ];
        var result = (RedisResult[])(await _executor.ExecuteAsync(
            "lock.graph",
            idempotent: true,
            static (db, s) => RedisScript.LockGraphWait.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: _graph, Arguments: arguments),
            cancellationToken))!;
        switch ((long)result[0])
        {
            case 0:
                state.Recorded = true;
                state.Owners = record ? owners : null;
                state.RecordedAt = time.GetTimestamp();
                return;
            case 2:
                throw ExceptionFactory.WaitersExceeded(request.Name, LockWaiterLimit.Tenant, _options.MaxWaitersPerTenant);
        }

        var cycle = new List<LockWait>((result.Length - 1) / 2);
        for (var i = 1; i + 1 < result.Length; i += 2)
        {
            cycle.Add(new LockWait((string)result[i]!, (string)result[i + 1]!));
        }

        if (await IsCurrentAsync(cycle, cancellationToken))
        {
            LocksLog.DeadlockDetected(Logger, cycle.Count);
            LocksLog.DeadlockDetectedDetail(Logger, Tenant, string.Join(" -> ", cycle.Select(e => $"{e.Owner} waits for '{e.Name}'")));
            throw ExceptionFactory.Deadlock(cycle);
        }

        // A "held by" edge was stale (the lock changed hands since a waiter saw it): not a deadlock. The waiters of
        // that lock correct the edge on their next attempt; this caller records its wait on its next attempt.
        LocksLog.StaleCycleIgnored(Logger, cycle.Count);
        state.Owners = null;
    }

    /// <summary>Whether every lock of the cycle is still held by the owner the graph says holds it.</summary>
    private async ValueTask<bool> IsCurrentAsync(List<LockWait> cycle, CancellationToken cancellationToken)
    {
        for (var i = 0; i < cycle.Count; i++)
        {
            var holder = cycle[(i + 1) % cycle.Count].Owner;
            var info = await InspectAsync(_keys.Get(_namespace.Lock, cycle[i].Name), cancellationToken);
            if (info is null || !info.Holders.Any(h => h.Owner == holder))
            {
                return false;
            }
        }

        return true;
    }

    private async Task LeaveGraphAsync(LockRequest request, AcquireOutcome? acquired)
    {
        var heldFor = acquired is { } outcome ? (long)Math.Ceiling(request.Settings.TimeToLive.TotalMilliseconds) : 0;
        RedisValue[] arguments = [request.Owner, request.Token, request.Name, heldFor, request.Kind == LockKind.Exclusive ? "1" : "0"];
        await _executor.ExecuteAsync(
            "lock.graph",
            idempotent: true,
            static (db, s) => RedisScript.LockGraphLeave.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: _graph, Arguments: arguments),
            CancellationToken.None);
    }

    /// <summary>What one acquisition recorded in the wait-for graph.</summary>
    private sealed class GraphState
    {
        public bool Recorded { get; set; }

        public string[]? Owners { get; set; }

        public long RecordedAt { get; set; }
    }
}
