using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Data schema versions: a session records the schema its data is in (hash field <c>s</c>, absent meaning 1; the copy's
/// <c>schema_version</c>), and every read answers the data in the current schema (<see cref="SessionUpgrades"/>), so
/// callers only ever see one form. Get, rotate, update and restore write the upgrade back (session_upgrade.lua, only
/// over the state it was computed from); list and reads served by the durable copy upgrade in memory only (a list
/// records no access, and while Redis is down there is nowhere to write).
/// </summary>
internal sealed partial class RedisSessionManager
{
    // How often an update's upgrade is computed again because the session changed before its write-back. Only writers
    // that do not check the schema (nodes without the upgraders, during a rolling deployment) can make it lose twice.
    private const int MaxUpgradeAttemptsForUpdate = 8;

    /// <summary>The <c>s</c> field, value pair a new or restored session's hash carries; none for version 1 (absent means 1), so without upgraders a hash is as it always was.</summary>
    private static RedisValue[] SchemaFieldOf(int schemaVersion) => schemaVersion > 1 ? ["s", schemaVersion] : [];

    /// <summary>A session from its hash in Redis, in the current schema: upgraded and written back when its data is older.</summary>
    /// <exception cref="SessionUpgradeFailedException">An upgrader failed; nothing stored changed.</exception>
    private ValueTask<Session> ReadCurrentAsync(string key, string id, RedisResult[] hash, CancellationToken cancellationToken)
    {
        var session = SessionData.Read(id, hash, out var schemaVersion);
        // The path of every read without upgraders, or of a session already upgraded: no work, no allocation.
        return schemaVersion < _runtime.Upgrades.CurrentVersion
            ? UpgradeAndWriteBackAsync(key, session, schemaVersion, cancellationToken)
            : ValueTask.FromResult(session);
    }

    private async ValueTask<Session> UpgradeAndWriteBackAsync(string key, Session session, int schemaVersion, CancellationToken cancellationToken)
    {
        var (upgraded, fields) = Upgrade(session, schemaVersion);
        RedisResult result;
        try
        {
            result = await WriteBackAsync(key, session.Version, schemaVersion, fields, cancellationToken);
        }
        catch (CoordinationUnavailableException ex)
        {
            // The read itself succeeded; the upgrade is only not kept, and the next read makes it again.
            _runtime.Metrics.RecordUpgrade("not_written");
            SessionsLog.UpgradeWriteBackFailed(_runtime.Logger, Tenant, ex);
            return upgraded;
        }

        RecordWriteBack(result, schemaVersion);
        return upgraded;
    }

    /// <summary>
    /// Brings a session in an older schema to the current one in Redis before a change: an update that
    /// session_update.lua refused for its old schema (sent again, it merges its patch, written in the current schema,
    /// into current data; upgrading the update's result instead would run the upgraders over the patch's fields too,
    /// which are in the new form already), or a rotation.
    /// </summary>
    /// <param name="key">The session key.</param>
    /// <param name="id">The session id.</param>
    /// <param name="hash">The session's hash as read (for an update, as the refusal answered it).</param>
    /// <param name="cancellationToken">Cancels the write-back.</param>
    /// <exception cref="SessionUpgradeFailedException">An upgrader failed (nothing stored changed), or the session kept changing before each write-back.</exception>
    private async ValueTask UpgradeInPlaceAsync(string key, string id, RedisResult[] hash, CancellationToken cancellationToken)
    {
        var schemaVersion = 1;
        for (var attempt = 0; attempt < MaxUpgradeAttemptsForUpdate; attempt++)
        {
            var session = SessionData.Read(id, hash, out schemaVersion);
            if (schemaVersion >= _runtime.Upgrades.CurrentVersion)
            {
                return;
            }

            var (_, fields) = Upgrade(session, schemaVersion);
            var result = await WriteBackAsync(key, session.Version, schemaVersion, fields, cancellationToken);
            if (RecordWriteBack(result, schemaVersion) is not { } current)
            {
                // Written, or the session ended: the update sent again applies, or answers null.
                return;
            }

            hash = current;
        }

        throw ExceptionFactory.SessionUpgradeFailed(
            $"The session changed {MaxUpgradeAttemptsForUpdate} times between reading it for its upgrade and writing the upgrade back (writers without the upgraders?), so the update could not be applied to current data.",
            schemaVersion,
            _runtime.Upgrades.CurrentVersion,
            null);
    }

    /// <summary>
    /// Before a rotation (with upgraders registered): a session in an older schema is upgraded and written back first,
    /// so that an upgrader's failure refuses the rotation with nothing changed, rather than failing after the session
    /// moved to an id the caller never learns. One HGETALL more per rotation, only when there are upgraders.
    /// </summary>
    /// <exception cref="SessionUpgradeFailedException">An upgrader failed; nothing stored changed.</exception>
    private async ValueTask UpgradeBeforeRotateAsync(string key, string id, CancellationToken cancellationToken)
    {
        if (_runtime.Upgrades.CurrentVersion == 1)
        {
            return;
        }

        var entries = await _runtime.Executor.ExecuteAsync(
            "session.read",
            idempotent: true,
            static (db, k) => db.HashGetAllAsync(k),
            (RedisKey)key,
            cancellationToken);
        if (entries.Length == 0)
        {
            return;
        }

        var hash = new RedisResult[entries.Length * 2];
        for (var i = 0; i < entries.Length; i++)
        {
            hash[2 * i] = RedisResult.Create(entries[i].Name);
            hash[(2 * i) + 1] = RedisResult.Create(entries[i].Value);
        }

        await UpgradeInPlaceAsync(key, id, hash, cancellationToken);
    }

    /// <summary>A session's data as session_restore.lua puts it back from the copy: upgraded first when older, with its schema version.</summary>
    /// <exception cref="SessionUpgradeFailedException">An upgrader failed; nothing was restored.</exception>
    private List<RedisValue> RestoredFieldsOf(StoredSession copy)
    {
        if (copy.SchemaVersion >= _runtime.Upgrades.CurrentVersion)
        {
            var fields = SessionData.EncodeAll(copy.Session.Data, Options, "data");
            fields.AddRange(SchemaFieldOf(copy.SchemaVersion));
            return fields;
        }

        var (_, upgraded) = Upgrade(copy.Session, copy.SchemaVersion);
        upgraded.AddRange(SchemaFieldOf(_runtime.Upgrades.CurrentVersion));
        _runtime.Metrics.RecordUpgrade("written");
        return upgraded;
    }

    /// <summary>A session in the current schema without writing it back: what list and reads served by the copy answer.</summary>
    /// <exception cref="SessionUpgradeFailedException">An upgrader failed.</exception>
    private Session CurrentOf(Session session, int schemaVersion)
    {
        if (schemaVersion >= _runtime.Upgrades.CurrentVersion)
        {
            return session;
        }

        var (upgraded, _) = Upgrade(session, schemaVersion);
        _runtime.Metrics.RecordUpgrade("not_written");
        return upgraded;
    }

    private (Session Session, List<RedisValue> Fields) Upgrade(Session session, int schemaVersion)
    {
        try
        {
            var (data, fields) = _runtime.Upgrades.Apply(session.Data, schemaVersion, Options);
            return (session with { Data = data }, fields);
        }
        catch (SessionUpgradeFailedException ex)
        {
            _runtime.Metrics.RecordUpgrade("failed");
            SessionsLog.UpgradeFailed(_runtime.Logger, Tenant, schemaVersion, ex);
            throw;
        }
    }

    /// <summary>
    /// session_upgrade.lua: replaces the data and sets <c>s</c> if <c>v</c> and <c>s</c> are still what was read.
    /// Idempotent: a retry after a lost answer finds <c>s</c> moved on and writes nothing.
    /// </summary>
    private ValueTask<RedisResult> WriteBackAsync(string key, long version, int schemaVersion, List<RedisValue> fields, CancellationToken cancellationToken)
    {
        RedisValue[] arguments = [version, schemaVersion, _runtime.Upgrades.CurrentVersion, .. fields];
        return _runtime.Executor.ExecuteAsync(
            "session.upgrade",
            idempotent: true,
            static (db, s) => RedisScript.SessionUpgrade.EvaluateByShaAsync(db, [s.Key], s.Arguments),
            (Key: (RedisKey)key, Arguments: arguments),
            cancellationToken);
    }

    /// <summary>Counts and logs a write-back's answer; returns the session's hash when a concurrent change came first.</summary>
    private RedisResult[]? RecordWriteBack(RedisResult result, int schemaVersion)
    {
        if (result.IsNull)
        {
            return null;
        }

        var answer = (RedisResult[])result!;
        if ((long)answer[0] == 1)
        {
            _runtime.Metrics.RecordUpgrade("written");
            SessionsLog.Upgraded(_runtime.Logger, Tenant, schemaVersion, _runtime.Upgrades.CurrentVersion);
            return null;
        }

        _runtime.Metrics.RecordUpgrade("superseded");
        SessionsLog.UpgradeSuperseded(_runtime.Logger, Tenant, schemaVersion);
        return (RedisResult[])answer[1]!;
    }
}
