using System.Diagnostics;
using StackExchange.Redis;

namespace Coordination;

/// <summary>What a move of one session from the migration source found.</summary>
internal enum SessionMoveOutcome
{
    /// <summary>The source has no live session under the id (never had, ended, or another mover took it).</summary>
    Gone,

    /// <summary>The session was written here from the source.</summary>
    Moved,

    /// <summary>The session is here already; the current location decides, the source's copy is stale.</summary>
    Present,

    /// <summary>The session ended here (deleted, rotated, revoked) or by its own expiry; it is not brought back.</summary>
    Ended,
}

/// <summary>
/// Read-through from the migration source (<see cref="SessionMigrationOptions"/>). The current location decides: a
/// session it does not have is moved from the source before a call uses it, in three steps, because no script spans
/// two Redis instances: export (session_export.lua, changes nothing), import (session_import.lua, only if this
/// location has neither the session nor a recent end of it), then removal from the source only if it is still the
/// exported version (session_migrate_drop.lua). Whatever ends a session here first leaves a tombstone (or, for a
/// user's revocation, a revocation mark) in the session's slot, so a mover holding an older export cannot bring the
/// session back. Two movers of one session are harmless: the second import finds it present, and only one removal
/// from the source succeeds.
/// </summary>
internal sealed partial class RedisSessionManager
{
    /// <summary>How long a tombstone or revocation mark lives: far longer than one move (see <see cref="MaxExportAge"/>).</summary>
    internal static readonly TimeSpan TombstoneLifetime = TimeSpan.FromMinutes(5);

    /// <summary>An export older than this is read again rather than imported, so every import lands well within a tombstone's lifetime.</summary>
    internal static readonly TimeSpan MaxExportAge = TimeSpan.FromMinutes(1);

    // A session key ends with the id's 22 random characters; nothing a session key can end with has this suffix.
    private const string TombstoneSuffix = ":ended";
    private const int MaxExportAttempts = 3;

    private SessionKeys? _sourceKeys;

    private SessionMigrationSource? Migration => _runtime.Migration;

    private SessionKeys SourceKeys => _sourceKeys ??= new SessionKeys(Migration!.KeyPrefix, Tenant);

    /// <summary>Before a call on one session (get, update, rotate): moves it here when this location does not have it.</summary>
    /// <exception cref="CoordinationUnavailableException">The source (or this location) cannot be reached.</exception>
    private async ValueTask MoveInBeforeUseAsync(string id, string random, string tag, CancellationToken cancellationToken)
    {
        if (Migration is null)
        {
            return;
        }

        bool here;
        try
        {
            here = await _runtime.Executor.ExecuteAsync(
                "session.migrate.check",
                idempotent: true,
                static (db, key) => db.KeyExistsAsync(key),
                (RedisKey)_keys.Session(tag, random),
                cancellationToken);
        }
        catch (CoordinationUnavailableException) when (_runtime.Store is not null)
        {
            // This location is down: the call meets the same failure and is served by the durable copy.
            return;
        }

        if (!here && (await MoveAsync(id, random, tag, sourceIndex: null, bulk: false, cancellationToken)).Outcome == SessionMoveOutcome.Moved)
        {
            SessionsLog.MovedOnUse(_runtime.Logger, Tenant);
        }
    }

    /// <summary>
    /// Moves one session from the source. <paramref name="sourceIndex"/>: the source index the id was found in (the
    /// bulk migration), whose entry is dropped when the session is gone; null to use the session's own.
    /// RemovedFromSource: whether this call removed the source's copy (exactly one mover does, which is what the bulk
    /// migration counts).
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">The source or this location cannot be reached.</exception>
    internal async ValueTask<(SessionMoveOutcome Outcome, bool RemovedFromSource)> MoveAsync(string id, string random, string tag, string? sourceIndex, bool bulk, CancellationToken cancellationToken)
    {
        var source = Migration ?? throw new InvalidOperationException("No migration source is configured.");
        var sourceKey = SourceKeys.Session(tag, random);
        for (var attempt = 1; ; attempt++)
        {
            var started = Stopwatch.GetTimestamp();
            var exported = await source.ExecuteAsync(
                "session.migrate.export",
                static (db, key) => RedisScript.SessionExport.EvaluateByShaAsync(db, [key], []),
                (RedisKey)sourceKey,
                cancellationToken);
            if (exported.IsNull)
            {
                if (sourceIndex is not null)
                {
                    await DropAtSourceAsync(sourceKey, sourceIndex, id, RedisValue.EmptyString, cancellationToken);
                }

                return (SessionMoveOutcome.Gone, false);
            }

            var pairs = (RedisResult[])exported!;
            var arguments = new RedisValue[pairs.Length + 1];
            arguments[0] = id;
            string? userId = null;
            var version = RedisValue.EmptyString;
            for (var n = 0; n < pairs.Length; n += 2)
            {
                var field = (string)pairs[n]!;
                arguments[n + 1] = field;
                arguments[n + 2] = (RedisValue)pairs[n + 1];
                if (field == "u")
                {
                    userId = (string)pairs[n + 1]!;
                }
                else if (field == "v")
                {
                    version = (RedisValue)pairs[n + 1];
                }
            }

            if (userId is null)
            {
                // Not a session hash: nothing to move.
                return (SessionMoveOutcome.Gone, false);
            }

            if (Stopwatch.GetElapsedTime(started) > MaxExportAge)
            {
                SessionsLog.ExportReread(_runtime.Logger, Tenant, MaxExportAge);
                if (attempt < MaxExportAttempts)
                {
                    continue;
                }

                throw new CoordinationUnavailableException($"A session could not be exported from the migration source and imported within {MaxExportAge}.", UnavailableReason.Timeout);
            }

            var imported = (string)(await _runtime.Executor.ExecuteAsync(
                "session.migrate.import",
                idempotent: true,
                static (db, s) => RedisScript.SessionImport.EvaluateByShaAsync(db, s.Keys, s.Arguments),
                (Keys: new RedisKey[] { _keys.Session(tag, random), _keys.Session(tag, random) + TombstoneSuffix, _keys.UserIndex(tag, userId), RevocationMark(tag, userId) }, Arguments: arguments),
                cancellationToken))!;
            var removed = await DropAtSourceAsync(sourceKey, sourceIndex ?? SourceKeys.UserIndex(tag, userId), id, version, cancellationToken);
            var outcome = imported switch
            {
                "moved" => SessionMoveOutcome.Moved,
                "present" => SessionMoveOutcome.Present,
                _ => SessionMoveOutcome.Ended,
            };
            if (outcome == SessionMoveOutcome.Moved)
            {
                _runtime.MigrationMetrics.RecordMoved(bulk);
            }

            return (outcome, removed);
        }
    }

    private async ValueTask<bool> DropAtSourceAsync(string sourceKey, string sourceIndex, string id, RedisValue version, CancellationToken cancellationToken) =>
        (long)await Migration!.ExecuteAsync(
            "session.migrate.drop",
            static (db, s) => RedisScript.SessionMigrateDrop.EvaluateByShaAsync(db, [s.Key, s.Index], [s.Id, s.Version]),
            (Key: (RedisKey)sourceKey, Index: (RedisKey)sourceIndex, Id: id, Version: version),
            cancellationToken) == 1;

    /// <summary>Before a session ends here (delete, rotation's old id): its tombstone, so no older export brings it back.</summary>
    private async ValueTask LeaveTombstoneAsync(string random, string tag, CancellationToken cancellationToken)
    {
        if (Migration is null)
        {
            return;
        }

        await _runtime.Executor.ExecuteAsync(
            "session.migrate.tombstone",
            idempotent: true,
            static (db, key) => db.StringSetAsync(key, 1, TombstoneLifetime),
            (RedisKey)(_keys.Session(tag, random) + TombstoneSuffix),
            cancellationToken);
    }

    /// <summary>Before a rotation: the session moved here, and a tombstone for the old id.</summary>
    private async ValueTask PrepareRotationAsync(string id, string random, string tag, CancellationToken cancellationToken)
    {
        await MoveInBeforeUseAsync(id, random, tag, cancellationToken);
        await LeaveTombstoneAsync(random, tag, cancellationToken);
    }

    /// <summary>After a delete here: the source's copy ends too. True when the source had it live.</summary>
    private async ValueTask<bool> DeleteAtSourceAsync(string id, string random, string tag, CancellationToken cancellationToken)
    {
        if (Migration is not { } source)
        {
            return false;
        }

        return (long)await source.ExecuteAsync(
            "session.migrate.delete",
            static (db, s) => RedisScript.SessionDelete.EvaluateByShaAsync(db, [s.Key], [s.Id, s.IndexPrefix]),
            (Key: (RedisKey)SourceKeys.Session(tag, random), Id: id, IndexPrefix: SourceKeys.UserIndexPrefix(tag)),
            cancellationToken) == 1;
    }

    /// <summary>Before a list of a user's sessions: the user's sessions at the source are moved here.</summary>
    private async ValueTask MoveUserInAsync(string userId, CancellationToken cancellationToken)
    {
        if (Migration is not { } source)
        {
            return;
        }

        var sourceIndex = SourceKeys.UserIndex(SourceKeys.TagOf(userId), userId);
        var ids = await source.ExecuteAsync(
            "session.migrate.list",
            static (db, key) => db.SortedSetRangeByRankAsync(key),
            (RedisKey)sourceIndex,
            cancellationToken);
        foreach (var id in ids)
        {
            if (SessionId.TryParse(id, out var random, out var tag))
            {
                await MoveAsync(id!, random, tag, sourceIndex, bulk: false, cancellationToken);
            }
        }
    }

    /// <summary>
    /// With a key prefix change, the sessions moved here keep their ids and so the tag of the source's prefix, which is
    /// not the user's tag under the current prefix: they are listed from the index of that tag here.
    /// </summary>
    private async ValueTask<IReadOnlyList<Session>> ListUnderSourceTagAsync(string userId, CancellationToken cancellationToken)
    {
        if (Migration is not { PrefixChanges: true })
        {
            return [];
        }

        var tag = SourceKeys.TagOf(userId);
        var result = (RedisResult[])(await _runtime.Executor.ExecuteAsync(
            "session.list",
            idempotent: true,
            static (db, s) => RedisScript.SessionList.EvaluateByShaAsync(db, [s.Index], [s.SessionPrefix]),
            (Index: (RedisKey)_keys.UserIndex(tag, userId), SessionPrefix: _keys.SessionPrefix(tag)),
            cancellationToken))!;
        var sessions = new List<Session>(result.Length);
        foreach (var entry in result)
        {
            var pair = (RedisResult[])entry!;
            sessions.Add(SessionData.Read((string)pair[0]!, (RedisResult[])pair[1]!));
        }

        return sessions;
    }

    /// <summary>Before a revocation here: the user's revocation marks, so no older export brings a revoked session back.</summary>
    private async ValueTask MarkUserRevokedAsync(string userId, CancellationToken cancellationToken)
    {
        if (Migration is null)
        {
            return;
        }

        foreach (var tag in TagsHere(userId))
        {
            await _runtime.Executor.ExecuteAsync(
                "session.migrate.tombstone",
                idempotent: true,
                static (db, key) => db.StringSetAsync(key, 1, TombstoneLifetime),
                (RedisKey)RevocationMark(tag, userId),
                cancellationToken);
        }
    }

    /// <summary>After a revocation here: the user's sessions under the source prefix's tag here, and at the source, end too.</summary>
    private async ValueTask<int> RevokeElsewhereAsync(string userId, CancellationToken cancellationToken)
    {
        if (Migration is not { } source)
        {
            return 0;
        }

        var ended = 0;
        var sourceTag = SourceKeys.TagOf(userId);
        if (source.PrefixChanges)
        {
            ended += (int)(long)await _runtime.Executor.ExecuteAsync(
                "session.revoke_all",
                idempotent: true,
                static (db, s) => RedisScript.SessionRevokeAll.EvaluateByShaAsync(db, [s.Index], [s.SessionPrefix]),
                (Index: (RedisKey)_keys.UserIndex(sourceTag, userId), SessionPrefix: _keys.SessionPrefix(sourceTag)),
                cancellationToken);
        }

        ended += (int)(long)await source.ExecuteAsync(
            "session.migrate.revoke",
            static (db, s) => RedisScript.SessionRevokeAll.EvaluateByShaAsync(db, [s.Index], [s.SessionPrefix]),
            (Index: (RedisKey)SourceKeys.UserIndex(sourceTag, userId), SessionPrefix: SourceKeys.SessionPrefix(sourceTag)),
            cancellationToken);
        return ended;
    }

    /// <summary>The tags a user's sessions have here: the user's own, and with a prefix change the source prefix's.</summary>
    private IEnumerable<string> TagsHere(string userId)
    {
        var own = _keys.TagOf(userId);
        yield return own;
        if (Migration is { PrefixChanges: true } && SourceKeys.TagOf(userId) is var sourceTag && sourceTag != own)
        {
            yield return sourceTag;
        }
    }

    /// <summary><c>{prefix}:{tenant}:session-revoked:{tag}:{userId}</c>: a revocation of the user here, in the slot of the tag.</summary>
    private string RevocationMark(string tag, string userId) =>
        string.Concat(_runtime.KeyPrefix, ":", Tenant, ":session-revoked:{", tag, "}:", userId);
}
