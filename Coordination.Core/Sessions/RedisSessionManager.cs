using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The Redis implementation of <see cref="ISessionManager"/> for one tenant: every call is one script on the keys of
/// one user's slot (session_*.lua); Redis's clock decides every time.
/// </summary>
internal sealed partial class RedisSessionManager : ISessionManager
{
    private readonly SessionRuntime _runtime;
    private readonly SessionKeys _keys;

    public RedisSessionManager(string tenant, SessionRuntime runtime)
    {
        Tenant = tenant;
        _runtime = runtime;
        _keys = new SessionKeys(runtime.KeyPrefix, tenant);
    }

    public string Tenant { get; }

    private SessionManagerOptions Options => _runtime.Options;

    public async ValueTask<Session> CreateAsync(string userId, IReadOnlyDictionary<string, JsonElement>? data = null, SessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(userId, nameof(userId));
        var (idle, absolute) = TimeoutsOf(options);
        var fields = SessionData.EncodeAll(data, Options, nameof(data));
        var tag = _keys.TagOf(userId);
        var id = SessionId.New(tag, out var random);
        using var activity = StartActivity("coordination session.create");
        _runtime.Replay.RunIfPending();

        RedisValue[] arguments =
        [
            id,
            userId,
            (long)idle.TotalMilliseconds,
            (long)absolute.TotalMilliseconds,
            Options.MaxSessionsPerUser,
            _keys.SessionPrefix(tag),
            .. fields,
            .. SchemaFieldOf(_runtime.Upgrades.CurrentVersion),
        ];
        RedisResult[] result;
        try
        {
            await CountAsync(id, absolute, cancellationToken);
            // Not idempotent: a retry after a lost answer would create a second session.
            result = (RedisResult[])(await _runtime.Executor.ExecuteAsync(
                "session.create",
                _keys.Session(tag, random),
                idempotent: false,
                static (db, s) => RedisScript.SessionCreate.EvaluateByShaAsync(db, s.Keys, s.Arguments),
                (Keys: new RedisKey[] { _keys.Session(tag, random), _keys.UserIndex(tag, userId) }, Arguments: arguments),
                cancellationToken))!;
        }
        catch (CoordinationUnavailableException ex) when (CanFallBack(ex))
        {
            return await CreateInCopyAsync(_keys.Session(tag, random), _keys.UserIndex(tag, userId), id, userId, data, idle, absolute, ex, cancellationToken);
        }

        var now = (long)result[0];
        var ended = (long)result[1];
        _runtime.Metrics.RecordCreated(ended);
        SessionsLog.Created(_runtime.Logger, Tenant, ended);
        var endedByCap = result.AsSpan(2).ToArray();
        await RemoveEndedByCapFromCopyAsync(tag, endedByCap, cancellationToken);
        await UncountAsync([.. endedByCap.Select(static r => (RedisValue)r)], cancellationToken);

        var stored = new Dictionary<string, JsonElement>(data?.Count ?? 0, StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i += 2)
        {
            using var document = JsonDocument.Parse((ReadOnlyMemory<byte>)fields[i + 1]);
            stored[((string)fields[i]!)[SessionData.FieldPrefix.Length..]] = document.RootElement.Clone();
        }

        var created = DateTimeOffset.FromUnixTimeMilliseconds(now);
        var session = new Session(id, userId, stored, 1, created, created, created + (idle < absolute ? idle : absolute));
        await PersistAsync(new StoredSession(_keys.Session(tag, random), _keys.UserIndex(tag, userId), session, idle, created + absolute, _runtime.Upgrades.CurrentVersion), "create", cancellationToken);
        return session;
    }

    public async ValueTask<Session?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!SessionId.TryParse(id, out var random, out var tag))
        {
            return null;
        }

        using var activity = StartActivity("coordination session.get");
        _runtime.Replay.RunIfPending();
        var key = _keys.Session(tag, random);
        (RedisResult Access, HashEntry[] Hash) read;
        try
        {
            await MoveInBeforeUseAsync(id, random, tag, cancellationToken);
            read = await _runtime.Executor.ExecuteAsync(
                "session.get",
                key,
                idempotent: true,
                static async (db, s) =>
                {
                    // Pipelined: both go out before either is awaited, and Redis runs them in this order.
                    var access = RedisScript.SessionGet.EvaluateByShaAsync(db, [s.Key], [s.FollowCopy]);
                    var hash = db.HashGetAllAsync(s.Key);
                    await Task.WhenAll(access, hash);
                    return (access.Result, hash.Result);
                },
                (Key: (RedisKey)key, FollowCopy: _runtime.Store is null ? "0" : "1"),
                cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (CanFallBack(ex))
        {
            return await ReadCopyAsync(key, id, ex, cancellationToken);
        }

        // A session ended between the two commands (deleted, rotated away) reads as absent.
        if (!read.Access.IsNull && read.Hash.Length > 0)
        {
            var session = SessionData.Read(id, read.Hash, out var schemaVersion);
            if (schemaVersion < _runtime.Upgrades.CurrentVersion)
            {
                session = await UpgradeAndWriteBackAsync(key, session, schemaVersion, cancellationToken);
            }

            if ((long)read.Access is var copyExpires and > 0)
            {
                await TouchCopyAsync(key, session.LastAccessAt, DateTimeOffset.FromUnixTimeMilliseconds(copyExpires), cancellationToken);
            }

            return session;
        }

        return _runtime.Store is null ? null : await RestoreAsync(key, id, tag, cancellationToken);
    }

    /// <summary>
    /// A session Redis does not have, put back from its durable copy when the copy holds it live (Redis lost it: a
    /// restart without persistence, a failover). A session that ended in Redis (idle, deleted, rotated) is not live in
    /// the copy: its expiry there is never later than in Redis (reads slide only Redis's), and deletes and rotations
    /// reach the copy before Redis.
    /// </summary>
    private async ValueTask<Session?> RestoreAsync(string key, string id, string tag, CancellationToken cancellationToken)
    {
        // The copy's row stays locked until Redis has it, so a change another node makes in the copy meanwhile (Redis
        // failing for it) comes after this restore instead of under it.
        RedisResult? result;
        try
        {
            result = await _runtime.Store!.RestoreLockedAsync(
                key,
                _ => id,
                copy => copy is null ? Task.FromResult<RedisResult?>(null) : RestoreInRedisAsync(key, id, tag, copy, cancellationToken),
                cancellationToken);
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            SessionsLog.PersistFailed(_runtime.Logger, Tenant, "read", ex);
            return null;
        }

        if (result is null || result.IsNull)
        {
            return null;
        }

        SessionsLog.Restored(_runtime.Logger, Tenant);
        return await ReadCurrentAsync(key, id, (RedisResult[])result!, cancellationToken);
    }

    private async Task<RedisResult?> RestoreInRedisAsync(string key, string id, string tag, StoredSession copy, CancellationToken cancellationToken)
    {
        var session = copy.Session;
        RedisValue[] arguments =
        [
            id,
            session.UserId,
            session.CreatedAt.ToUnixTimeMilliseconds(),
            (long)copy.IdleTimeout.TotalMilliseconds,
            copy.AbsoluteExpiresAt.ToUnixTimeMilliseconds(),
            session.Version,
            .. RestoredFieldsOf(copy),
        ];
        return await _runtime.Executor.ExecuteAsync(
            "session.restore",
            key,
            idempotent: true,
            static (db, s) => RedisScript.SessionRestore.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: new RedisKey[] { key, _keys.UserIndex(tag, session.UserId) }, Arguments: arguments),
            cancellationToken);
    }

    /// <summary>
    /// Writes a change Redis accepted to the durable copy. A failure is logged, not thrown: the change is made, and the
    /// copy catches up with the session's next change (its version only grows).
    /// </summary>
    private async ValueTask PersistAsync(StoredSession stored, string operation, CancellationToken cancellationToken)
    {
        if (_runtime.Store is not { } store)
        {
            return;
        }

        try
        {
            await store.UpsertAsync(stored, cancellationToken);
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            SessionsLog.PersistFailed(_runtime.Logger, Tenant, operation, ex);
        }
    }

    /// <summary>Moves the copy's expiry on with the reads (at most twice per idle timeout: session_get.lua); a failure is logged.</summary>
    private async ValueTask TouchCopyAsync(string key, DateTimeOffset lastAccessAt, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        try
        {
            await _runtime.Store!.TouchAsync(key, lastAccessAt, expiresAt, cancellationToken);
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            SessionsLog.PersistFailed(_runtime.Logger, Tenant, "read", ex);
        }
    }

    /// <summary>Applies a removal (delete, rotation, revocation) to the durable copy before Redis, so the copy never holds what Redis ended.</summary>
    private async ValueTask<T?> RemoveFromCopyAsync<T>(Func<PostgresSessionStore, Task<T>> removal, string operation)
    {
        if (_runtime.Store is not { } store)
        {
            return default;
        }

        try
        {
            return await removal(store);
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            // Refused rather than made in Redis alone: a later read that misses in Redis would put the session back.
            throw new CoordinationUnavailableException($"The session's durable copy in PostgreSQL could not be changed ({operation}); nothing was changed: {ex.Message}", UnavailableReason.ConnectionFailed, ex);
        }
    }

    public async ValueTask<Session?> UpdateAsync(string id, IReadOnlyDictionary<string, JsonElement?> patch, long? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(patch);
        var (sets, removes) = EncodePatch(patch);
        if (!SessionId.TryParse(id, out var random, out var tag))
        {
            return null;
        }

        using var activity = StartActivity("coordination session.update");
        _runtime.Replay.RunIfPending();
        RedisValue[] arguments =
        [
            id,
            _runtime.Upgrades.CurrentVersion,
            expectedVersion is { } expected ? expected : RedisValue.EmptyString,
            Options.MaxFields,
            Options.MaxDataBytes,
            sets.Count / 2,
            .. sets,
            .. removes,
        ];
        var key = _keys.Session(tag, random);
        RedisResult result;
        try
        {
            await MoveInBeforeUseAsync(id, random, tag, cancellationToken);
            result = await UpdateInRedisAsync(key, arguments, expectedVersion is not null, cancellationToken);
            if (result.IsNull && _runtime.Store is not null && await RestoreAsync(key, id, tag, cancellationToken) is not null)
            {
                // Redis had lost it and the copy put it back: the patch applies to the restored session.
                result = await UpdateInRedisAsync(key, arguments, expectedVersion is not null, cancellationToken);
            }
        }
        catch (CoordinationUnavailableException ex) when (CanFallBack(ex))
        {
            return await UpdateInCopyAsync(key, id, patch, expectedVersion, ex, cancellationToken);
        }

        if (result.IsNull)
        {
            return null;
        }

        var answer = (RedisResult[])result!;
        switch ((string)answer[0]!)
        {
            case "conflict":
                throw Conflict(expectedVersion ?? 0, (long)answer[1]);
            case "schema":
                await UpgradeInPlaceAsync(key, id, (RedisResult[])answer[1]!, cancellationToken);
                return await UpdateAsync(id, patch, expectedVersion, cancellationToken);
            case "fields":
                throw new ArgumentException($"A session holds at most {Options.MaxFields} fields (Coordination:Sessions:MaxFields); the update would make {(long)answer[1]}. Nothing changed.", nameof(patch));
            case "bytes":
                throw new ArgumentException($"A session's data holds at most {Options.MaxDataBytes} bytes (Coordination:Sessions:MaxDataBytes); the update would make {(long)answer[1]}. Nothing changed.", nameof(patch));
            default:
                var (session, idle, absoluteEnd) = SessionData.ReadWithTimes(id, (RedisResult[])answer[1]!, out var schemaVersion);
                return await PersistUpdateAsync(new StoredSession(_keys.Session(tag, random), _keys.UserIndex(tag, session.UserId), session, idle, absoluteEnd, schemaVersion), patch, expectedVersion, cancellationToken);
        }
    }

    // With an expected version a retry is refused as a conflict rather than applied twice; without one, a retry
    // would count the version up twice.
    private ValueTask<RedisResult> UpdateInRedisAsync(string key, RedisValue[] arguments, bool idempotent, CancellationToken cancellationToken) =>
        _runtime.Executor.ExecuteAsync(
            "session.update",
            key,
            idempotent,
            static (db, s) => RedisScript.SessionUpdate.EvaluateByShaAsync(db, [s.Key], s.Arguments),
            (Key: (RedisKey)key, Arguments: arguments),
            cancellationToken);

    private SessionVersionConflictException Conflict(long expected, long actual)
    {
        _runtime.Metrics.RecordConflict();
        SessionsLog.VersionConflict(_runtime.Logger, Tenant, expected, actual);
        return ExceptionFactory.SessionVersionConflict(expected, actual);
    }

    public async ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!SessionId.TryParse(id, out var random, out var tag))
        {
            return false;
        }

        using var activity = StartActivity("coordination session.delete");
        _runtime.Replay.RunIfPending();
        var key = _keys.Session(tag, random);
        await LeaveTombstoneAsync(random, tag, cancellationToken);
        var inCopy = await RemoveFromCopyAsync(store => store.DeleteAsync(key, cancellationToken), "delete");
        bool deleted;
        try
        {
            deleted = (long)await _runtime.Executor.ExecuteAsync(
                "session.delete",
                key,
                idempotent: true,
                static (db, s) => RedisScript.SessionDelete.EvaluateByShaAsync(db, [s.Key], [s.Id, s.IndexPrefix]),
                (Key: (RedisKey)key, Id: id, IndexPrefix: _keys.UserIndexPrefix(tag)),
                cancellationToken) == 1;
        }
        catch (CoordinationUnavailableException ex) when (CanFallBack(ex))
        {
            await EndInCopyAsync([key], "delete", ex, cancellationToken);
            deleted = inCopy;
        }

        deleted |= inCopy;
        deleted |= await DeleteAtSourceAsync(id, random, tag, cancellationToken);
        await UncountAsync([id], cancellationToken);
        if (deleted)
        {
            _runtime.Metrics.RecordDeleted();
        }

        return deleted;
    }

    public async ValueTask<IReadOnlyList<Session>> ListForUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(userId, nameof(userId));
        var tag = _keys.TagOf(userId);
        using var activity = StartActivity("coordination session.list");
        _runtime.Replay.RunIfPending();
        RedisResult[] result;
        try
        {
            await MoveUserInAsync(userId, cancellationToken);
            result = (RedisResult[])(await _runtime.Executor.ExecuteAsync(
                "session.list",
                idempotent: true,
                static (db, s) => RedisScript.SessionList.EvaluateByShaAsync(db, [s.Index], [s.SessionPrefix]),
                (Index: (RedisKey)_keys.UserIndex(tag, userId), SessionPrefix: _keys.SessionPrefix(tag)),
                cancellationToken))!;
        }
        catch (CoordinationUnavailableException ex) when (CanFallBack(ex))
        {
            return await ListCopyAsync(tag, userId, ex, cancellationToken);
        }

        var sessions = new List<Session>(result.Length);
        foreach (var entry in result)
        {
            var pair = (RedisResult[])entry!;
            sessions.Add(CurrentOf(SessionData.Read((string)pair[0]!, (RedisResult[])pair[1]!, out var schemaVersion), schemaVersion));
        }

        await RestoreListedFromCopyAsync(tag, userId, sessions, cancellationToken);
        sessions.AddRange(await ListUnderSourceTagAsync(userId, cancellationToken));

        // The index orders by absolute end; the caller is promised the soonest expiry (idle or absolute) first.
        sessions.Sort(static (a, b) => a.ExpiresAt.CompareTo(b.ExpiresAt));
        return sessions;
    }

    public async ValueTask<int> RevokeAllForUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(userId, nameof(userId));
        var tag = _keys.TagOf(userId);
        using var activity = StartActivity("coordination session.revoke_all");
        _runtime.Replay.RunIfPending();
        await MarkUserRevokedAsync(userId, cancellationToken);
        var inCopy = await RemoveFromCopyAsync(store => store.DeleteUserAsync(_keys.UserIndex(tag, userId), cancellationToken), "revoke") ?? [];
        int ended;
        try
        {
            var answer = (RedisResult[])(await _runtime.Executor.ExecuteAsync(
                "session.revoke_all",
                idempotent: true,
                static (db, s) => RedisScript.SessionRevokeAll.EvaluateByShaAsync(db, [s.Index], [s.SessionPrefix]),
                (Index: (RedisKey)_keys.UserIndex(tag, userId), SessionPrefix: _keys.SessionPrefix(tag)),
                cancellationToken))!;
            ended = (int)(long)answer[0];
            await UncountAsync([.. answer.Skip(1).Select(static r => (RedisValue)r)], cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (CanFallBack(ex))
        {
            await EndInCopyAsync(inCopy, "revoke", ex, cancellationToken);
            ended = inCopy.Count;
        }

        ended += await RevokeElsewhereAsync(userId, cancellationToken);
        _runtime.Metrics.RecordRevoked(ended);
        SessionsLog.Revoked(_runtime.Logger, Tenant, ended);
        return ended;
    }

    public async ValueTask<Session?> RotateAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!SessionId.TryParse(id, out var random, out var tag))
        {
            return null;
        }

        var newId = SessionId.New(tag, out var newRandom);
        using var activity = StartActivity("coordination session.rotate");
        _runtime.Replay.RunIfPending();
        var oldKey = _keys.Session(tag, random);
        var newKey = _keys.Session(tag, newRandom);
        try
        {
            await PrepareRotationAsync(id, random, tag, cancellationToken);
            await UpgradeBeforeRotateAsync(oldKey, id, cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (CanFallBack(ex))
        {
            // The rotation is made in the copy below (and upgraded there on read).
        }

        var renamedInCopy = await RemoveFromCopyAsync(store => store.RenameAsync(oldKey, newKey, cancellationToken), "rotate");
        Session? rotated;
        try
        {
            // Not idempotent: after a lost answer the old id is already gone, and a retry would answer null.
            var result = await _runtime.Executor.ExecuteAsync(
                "session.rotate",
                idempotent: false,
                static (db, s) => RedisScript.SessionRotate.EvaluateByShaAsync(db, [s.OldKey, s.NewKey], [s.OldId, s.NewId, s.IndexPrefix]),
                (OldKey: (RedisKey)oldKey, NewKey: (RedisKey)newKey, OldId: id, NewId: newId, IndexPrefix: _keys.UserIndexPrefix(tag)),
                cancellationToken);
            rotated = result.IsNull ? null : await ReadCurrentAsync(newKey, newId, (RedisResult[])result!, cancellationToken);
            if (rotated is null && renamedInCopy)
            {
                // Redis had lost it; the copy, already under the new id, puts it back there.
                rotated = await RestoreAsync(newKey, newId, tag, cancellationToken);
            }
        }
        catch (CoordinationUnavailableException ex) when (CanFallBack(ex))
        {
            rotated = renamedInCopy ? await RotateInCopyAsync(oldKey, newKey, newId, ex, cancellationToken) : null;
        }

        if (rotated is null)
        {
            return null;
        }

        await RecountRotatedAsync(id, newId, cancellationToken);
        _runtime.Metrics.RecordRotated();
        SessionsLog.Rotated(_runtime.Logger, Tenant);
        return rotated;
    }

    /// <summary>A failure of the durable copy in PostgreSQL (unreachable, timed out, or its schema not in place).</summary>
    private static bool IsCopyFailure(Exception exception) => exception is DbException or TimeoutException or InvalidOperationException;

    /// <summary>The session's idle and absolute timeouts: its own, else the defaults.</summary>
    /// <exception cref="ArgumentException">A timeout is outside 1 ms to 30 days, or the idle timeout is above the absolute one.</exception>
    private (TimeSpan Idle, TimeSpan Absolute) TimeoutsOf(SessionOptions? options)
    {
        var idle = options?.IdleTimeout ?? Options.DefaultIdleTimeout;
        var absolute = options?.AbsoluteTimeout ?? Options.DefaultAbsoluteTimeout;
        CoordinationLimits.ValidateTimeToLive(idle, "options.IdleTimeout");
        CoordinationLimits.ValidateTimeToLive(absolute, "options.AbsoluteTimeout");
        if (idle > absolute)
        {
            throw new ArgumentException($"The idle timeout ({idle}) must not be greater than the absolute timeout ({absolute}).", nameof(options));
        }

        return (idle, absolute);
    }

    /// <summary>The patch as 'd:' field, value pairs to set and 'd:' fields to remove.</summary>
    /// <exception cref="ArgumentException">A name is invalid, or the patch alone is over the data bounds.</exception>
    private (List<RedisValue> Sets, List<RedisValue> Removes) EncodePatch(IReadOnlyDictionary<string, JsonElement?> patch)
    {
        var sets = new List<RedisValue>();
        var removes = new List<RedisValue>();
        var bytes = 0L;
        foreach (var (name, value) in patch)
        {
            SessionData.ValidateFieldName(name, nameof(patch));
            if (value is { } element)
            {
                var encoded = SessionData.Encode(name, element, nameof(patch));
                bytes += SessionData.SizeOf(name, encoded);
                sets.Add(SessionData.FieldPrefix + name);
                sets.Add(encoded);
            }
            else
            {
                removes.Add(SessionData.FieldPrefix + name);
            }
        }

        // The script checks the data as the patch leaves it; what the patch alone breaks is refused without a call.
        if (sets.Count / 2 > Options.MaxFields)
        {
            throw new ArgumentException($"A session holds at most {Options.MaxFields} fields (Coordination:Sessions:MaxFields); the patch sets {sets.Count / 2}.", nameof(patch));
        }

        SessionData.ThrowIfTooLarge(bytes, Options, nameof(patch));
        return (sets, removes);
    }

    /// <summary>A span for a session call; it carries the tenant, never the session id (a bearer secret).</summary>
    private Activity? StartActivity(string spanName)
    {
        var activity = CoordinationMetrics.ActivitySource.StartActivity(spanName, ActivityKind.Internal);
        activity?.SetTag("coordination.tenant", Tenant);
        return activity;
    }
}
