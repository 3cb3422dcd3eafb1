using System.Diagnostics;
using StackExchange.Redis;

namespace Coordination;

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
        for (var attempt = 1; ; attempt++)
        {
            if (await ExportAsync(id, random, tag, sourceIndex, cancellationToken) is not { } export)
            {
                return (SessionMoveOutcome.Gone, false);
            }

            if (await ImportAsync(export, bulk, cancellationToken) is { } moved)
            {
                return moved;
            }

            if (attempt == MaxExportAttempts)
            {
                throw new CoordinationUnavailableException($"A session could not be exported from the migration source and imported within {MaxExportAge}.", UnavailableReason.Timeout);
            }
        }
    }

    /// <summary>
    /// Step 1 of a move: the session as the source has it, or null when the source has no live session under the id
    /// (then the id's entry in <paramref name="sourceIndex"/>, when given, is dropped).
    /// </summary>
    internal async ValueTask<SessionExport?> ExportAsync(string id, string random, string tag, string? sourceIndex, CancellationToken cancellationToken)
    {
        var source = Migration ?? throw new InvalidOperationException("No migration source is configured.");
        var sourceKey = SourceKeys.Session(tag, random);
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

            return null;
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

        // Not a session hash (no user): nothing to move.
        return userId is null ? null : new SessionExport(id, random, tag, userId, version, arguments, sourceIndex ?? SourceKeys.UserIndex(tag, userId), started);
    }

    /// <summary>
    /// Steps 2 and 3 of a move: the import here, then the removal from the source if it still has the exported
    /// version. Null, having done nothing, when the export is older than <see cref="MaxExportAge"/>: export again.
    /// </summary>
    internal async ValueTask<(SessionMoveOutcome Outcome, bool RemovedFromSource)?> ImportAsync(SessionExport export, bool bulk, CancellationToken cancellationToken)
    {
        if (Stopwatch.GetElapsedTime(export.StartedTimestamp) > MaxExportAge)
        {
            SessionsLog.ExportReread(_runtime.Logger, Tenant, MaxExportAge);
            return null;
        }

        var key = _keys.Session(export.Tag, export.Random);
        var imported = (string)(await _runtime.Executor.ExecuteAsync(
            "session.migrate.import",
            idempotent: true,
            static (db, s) => RedisScript.SessionImport.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: new RedisKey[] { key, key + TombstoneSuffix, _keys.UserIndex(export.Tag, export.UserId), RevocationMark(export.Tag, export.UserId) }, Arguments: export.Arguments),
            cancellationToken))!;
        var removed = await DropAtSourceAsync(SourceKeys.Session(export.Tag, export.Random), export.SourceIndex, export.Id, export.Version, cancellationToken);
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
            ended += EndedBy(await _runtime.Executor.ExecuteAsync(
                "session.revoke_all",
                idempotent: true,
                static (db, s) => RedisScript.SessionRevokeAll.EvaluateByShaAsync(db, [s.Index], [s.SessionPrefix]),
                (Index: (RedisKey)_keys.UserIndex(sourceTag, userId), SessionPrefix: _keys.SessionPrefix(sourceTag)),
                cancellationToken));
        }

        ended += EndedBy(await source.ExecuteAsync(
            "session.migrate.revoke",
            static (db, s) => RedisScript.SessionRevokeAll.EvaluateByShaAsync(db, [s.Index], [s.SessionPrefix]),
            (Index: (RedisKey)SourceKeys.UserIndex(sourceTag, userId), SessionPrefix: SourceKeys.SessionPrefix(sourceTag)),
            cancellationToken));
        return ended;
    }

    /// <summary>How many live sessions session_revoke_all.lua ended (the first element of its answer).</summary>
    private static int EndedBy(RedisResult revoked) => (int)(long)((RedisResult[])revoked!)[0];

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
