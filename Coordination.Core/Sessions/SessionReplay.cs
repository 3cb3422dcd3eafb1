using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Brings Redis up to date with the session changes made in the durable copy while Redis was unavailable (rows marked
/// pending: sessions created, updated, rotated or read there, and tombstones of sessions ended there). The node that
/// made such a change replays in the background at its next session call once Redis answers; the cleanup duty replays
/// whatever any node left pending. Replaying a row twice is harmless (session_replay.lua keeps a newer version, and
/// ending an ended session does nothing), so the two may overlap.
/// </summary>
internal sealed class SessionReplay(SessionRuntime runtime)
{
    private const int BatchSize = 500;
    private const long RetryPauseMilliseconds = 1000;

    private volatile bool _pending;
    private int _running;
    private long _lastAttempt = long.MinValue / 2;

    /// <summary>Records that this node left a change pending in the copy.</summary>
    public void NotePending() => _pending = true;

    /// <summary>
    /// Starts a replay in the background when this node left changes pending, unless one runs or the last one failed
    /// less than a second ago (Redis is likely still unavailable).
    /// </summary>
    public void RunIfPending()
    {
        if (!_pending
            || Environment.TickCount64 - Interlocked.Read(ref _lastAttempt) < RetryPauseMilliseconds
            || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            // Cleared first: a change left pending while this runs sets it again and gets its own replay.
            _pending = false;
            try
            {
                await ReplayAsync(CancellationToken.None);
            }
            catch (Exception ex)
            {
                _pending = true;
                SessionsLog.ReplayFailed(runtime.Logger, ex);
            }
            finally
            {
                Interlocked.Exchange(ref _lastAttempt, Environment.TickCount64);
                Volatile.Write(ref _running, 0);
            }
        });
    }

    /// <summary>Replays every pending row of the copy, in key order; returns how many.</summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable (what is left stays pending).</exception>
    public async Task<long> ReplayAsync(CancellationToken cancellationToken)
    {
        if (runtime.Store is not { } store)
        {
            return 0;
        }

        long replayed = 0;
        var after = string.Empty;
        while (true)
        {
            var rows = await store.ReadPendingAsync(after, BatchSize, static key => SessionKeys.Parse(key).Id, cancellationToken);
            foreach (var row in rows)
            {
                await ReplayAsync(store, row, cancellationToken);
                replayed++;
            }

            if (rows.Count < BatchSize)
            {
                break;
            }

            after = rows[^1].Stored.Key;
        }

        if (replayed > 0)
        {
            runtime.Metrics.RecordReplayed(replayed);
            SessionsLog.Replayed(runtime.Logger, replayed);
        }

        return replayed;
    }

    // The batch only says which rows to replay: each is read again, under its row lock, and written from there.
    private Task ReplayAsync(PostgresSessionStore store, PendingSession listed, CancellationToken cancellationToken) =>
        store.ReplayLockedAsync(
            listed.Stored.Key,
            static key => SessionKeys.Parse(key).Id,
            row => row is null ? Task.FromResult(default(ReplayOutcome)) : ApplyAsync(row, cancellationToken),
            cancellationToken);

    private async Task<ReplayOutcome> ApplyAsync(PendingSession row, CancellationToken cancellationToken)
    {
        var stored = row.Stored;
        var (id, indexPrefix) = SessionKeys.Parse(stored.Key);
        if (row.Ended)
        {
            await runtime.Executor.ExecuteAsync(
                "session.replay",
                idempotent: true,
                static (db, s) => RedisScript.SessionDelete.EvaluateByShaAsync(db, [s.Key], [s.Id, s.IndexPrefix]),
                (Key: (RedisKey)stored.Key, Id: id, IndexPrefix: indexPrefix),
                cancellationToken);
            return default;
        }

        var session = stored.Session;
        RedisValue[] arguments =
        [
            id,
            session.UserId,
            session.CreatedAt.ToUnixTimeMilliseconds(),
            session.LastAccessAt.ToUnixTimeMilliseconds(),
            (long)stored.IdleTimeout.TotalMilliseconds,
            stored.AbsoluteExpiresAt.ToUnixTimeMilliseconds(),
            session.Version,
            row.RedisVersion,
            .. SessionData.EncodeAll(session.Data, runtime.Options, "data"),
            .. (stored.SchemaVersion > 1 ? (RedisValue[])["s", stored.SchemaVersion] : []),
        ];
        var result = (RedisResult[])(await runtime.Executor.ExecuteAsync(
            "session.replay",
            idempotent: true,
            static (db, s) => RedisScript.SessionReplay.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: new RedisKey[] { stored.Key, stored.UserKey }, Arguments: arguments),
            cancellationToken))!;
        return new ReplayOutcome((long)result[1], (long)result[2], (long)result[3]);
    }
}
