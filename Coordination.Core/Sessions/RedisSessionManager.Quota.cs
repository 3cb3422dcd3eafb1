using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The tenant's session quota (<see cref="QuotaOptions.MaxSessionsPerTenant"/>): a ledger of the tenant's session ids
/// in a slot of its own (session_quota_count.lua), so a hostile tenant cannot fill Redis with sessions of ever new
/// users. A creation is counted before it is made; the calls that end sessions remove them after; the cleanup removes
/// the ids of sessions that ended otherwise (<see cref="SessionCleanup"/>). With the quota off none of this runs.
/// </summary>
internal sealed partial class RedisSessionManager
{
    private RedisKey? _ledger;

    private RedisKey Ledger => _ledger ??= _keys.Ledger;

    /// <summary>Counts a session about to be created.</summary>
    /// <exception cref="CoordinationQuotaExceededException">The tenant is at its quota (nothing is counted).</exception>
    private async ValueTask CountAsync(string id, TimeSpan absolute, CancellationToken cancellationToken)
    {
        var limit = _runtime.MaxSessionsPerTenant;
        if (limit == 0)
        {
            return;
        }

        var counted = (long)await _runtime.Executor.ExecuteAsync(
            "session.count",
            idempotent: true,
            static (db, s) => RedisScript.SessionQuotaCount.EvaluateByShaAsync(db, [s.Ledger], [s.Id, s.Absolute, s.Limit]),
            (Ledger: Ledger, Id: id, Absolute: (long)absolute.TotalMilliseconds, Limit: limit),
            cancellationToken);
        if (counted == 0)
        {
            _runtime.Executor.Metrics.RecordQuotaRefused("sessions");
            throw ExceptionFactory.SessionQuotaExceeded(limit);
        }
    }

    /// <summary>
    /// Frees the places of ended sessions. A failure is left to the cleanup, which removes the ids of sessions that no
    /// longer exist: until then the ledger counts a few too many, never too few.
    /// </summary>
    private async ValueTask UncountAsync(IReadOnlyCollection<RedisValue> ids, CancellationToken cancellationToken)
    {
        if (_runtime.MaxSessionsPerTenant == 0 || ids.Count == 0)
        {
            return;
        }

        try
        {
            await _runtime.Executor.ExecuteAsync(
                "session.uncount",
                idempotent: true,
                static (db, s) => db.SortedSetRemoveAsync(s.Ledger, s.Ids),
                (Ledger: Ledger, Ids: ids as RedisValue[] ?? [.. ids]),
                cancellationToken);
        }
        catch (CoordinationUnavailableException)
        {
            // Left to the cleanup (see the summary).
        }
    }

    /// <summary>Moves a rotated session's place to its new id; a failure is left to the cleanup.</summary>
    private async ValueTask RecountRotatedAsync(string oldId, string newId, CancellationToken cancellationToken)
    {
        if (_runtime.MaxSessionsPerTenant == 0)
        {
            return;
        }

        try
        {
            await _runtime.Executor.ExecuteAsync(
                "session.uncount",
                idempotent: true,
                static (db, s) => RedisScript.SessionQuotaRename.EvaluateByShaAsync(db, [s.Ledger], [s.OldId, s.NewId]),
                (Ledger: Ledger, OldId: oldId, NewId: newId),
                cancellationToken);
        }
        catch (CoordinationUnavailableException)
        {
            // Left to the cleanup: the old id's place is freed there; the new id is then uncounted, one too few, until it ends.
        }
    }
}
