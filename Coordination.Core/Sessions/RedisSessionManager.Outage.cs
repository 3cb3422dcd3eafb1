using System.Text.Json;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Sessions while Redis is unavailable, when the durable copy in PostgreSQL is configured: reads and writes are made
/// there, each change marked pending, and <see cref="SessionReplay"/> applies them to Redis once it answers again.
/// Times then come from PostgreSQL's clock. A user's session cap is not enforced on sessions created then; the next
/// creation in Redis enforces it. Without the copy, or when Redis refuses for lack of memory, calls fail as before.
/// </summary>
internal sealed partial class RedisSessionManager
{
    /// <summary>Whether a call that failed in Redis with <paramref name="unavailable"/> is made in the durable copy instead.</summary>
    private bool CanFallBack(CoordinationUnavailableException unavailable) =>
        _runtime.Store is not null && unavailable.Reason != UnavailableReason.OutOfMemory;

    private async ValueTask<Session> CreateInCopyAsync(string key, string userKey, string id, string userId, IReadOnlyDictionary<string, JsonElement>? data, TimeSpan idle, TimeSpan absolute, CoordinationUnavailableException unavailable, CancellationToken cancellationToken)
    {
        var stored = await InCopyAsync(
            store => store.CreatePendingAsync(key, userKey, userId, id, data ?? new Dictionary<string, JsonElement>(), _runtime.Upgrades.CurrentVersion, idle, absolute, cancellationToken),
            "create",
            unavailable);
        _runtime.Metrics.RecordCreated(0);
        return stored.Session;
    }

    /// <summary>
    /// A read while Redis is unavailable: the copy's live session. The access is recorded there (pending replay) when
    /// the copy's expiry is more than half an idle timeout behind, so a session in use outlives a long outage.
    /// </summary>
    private async ValueTask<Session?> ReadCopyAsync(string key, string id, CoordinationUnavailableException unavailable, CancellationToken cancellationToken)
    {
        try
        {
            var read = await _runtime.Store!.ReadAndTouchAsync(key, id, cancellationToken);
            _runtime.Metrics.RecordFallback(write: false);
            SessionsLog.ServedFromCopy(_runtime.Logger, Tenant, unavailable);
            if (read is not { } found)
            {
                return null;
            }

            if (found.Touched)
            {
                _runtime.Replay.NotePending();
            }

            return CurrentOf(found.Session.Session, found.Session.SchemaVersion);
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            throw BothUnavailable("read", unavailable, ex);
        }
    }

    /// <summary>
    /// An update while Redis is unavailable: the patch merged into the copy's data, checked against the same bounds
    /// and version as in Redis, and written only if the copy is still at the version it was merged into (otherwise
    /// merged again into the newer one), so concurrent patches of different fields all survive here too.
    /// </summary>
    private async ValueTask<Session?> UpdateInCopyAsync(string key, string id, IReadOnlyDictionary<string, JsonElement?> patch, long? expectedVersion, CoordinationUnavailableException unavailable, CancellationToken cancellationToken)
    {
        var store = _runtime.Store!;
        while (true)
        {
            var current = await InCopyAsync(store => store.GetAsync(key, id, cancellationToken), "update", unavailable);
            if (current is null)
            {
                return null;
            }

            var version = current.Session.Version;
            if (expectedVersion is { } expected && expected != version)
            {
                throw Conflict(expected, version);
            }

            // Merged into data in the current schema, so the patch (written in it) lands in its own form.
            var merged = Merge(CurrentOf(current.Session, current.SchemaVersion).Data, patch);
            var updated = await InCopyAsync(store => store.UpdatePendingAsync(key, id, version, merged, _runtime.Upgrades.CurrentVersion, cancellationToken), "update", unavailable);
            if (updated is not null)
            {
                return updated.Session;
            }
        }
    }

    /// <summary>
    /// Writes an update made in Redis through to the copy. When the copy holds a change Redis has not seen (made there
    /// while Redis calls failed, not yet replayed) or a different state at the same version, the update was made on a
    /// state that lacked that change: the patch is applied again on top of the copy's state, one version above both,
    /// and the replay brings the result to Redis. With an expected version the update no longer matches: the copy's
    /// state is what stays (one version up, so the replay replaces Redis's) and the caller gets a conflict.
    /// </summary>
    private async ValueTask<Session> PersistUpdateAsync(StoredSession stored, IReadOnlyDictionary<string, JsonElement?> patch, long? expectedVersion, CancellationToken cancellationToken)
    {
        if (_runtime.Store is not { } store)
        {
            return stored.Session;
        }

        Exception? refusal = null;
        var conflicted = false;
        StoredSession? rebased;
        try
        {
            rebased = await store.PersistUpdateAsync(
                stored,
                copy =>
                {
                    if (expectedVersion is not null)
                    {
                        conflicted = true;
                        return null;
                    }

                    try
                    {
                        return Merge(CurrentOf(copy.Session, copy.SchemaVersion).Data, patch);
                    }
                    catch (ArgumentException ex)
                    {
                        refusal = ex;
                        return null;
                    }
                },
                _runtime.Upgrades.CurrentVersion,
                cancellationToken);
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            SessionsLog.PersistFailed(_runtime.Logger, Tenant, "update", ex);
            return stored.Session;
        }

        if (rebased is null)
        {
            return stored.Session;
        }

        SessionsLog.UpdateRebased(_runtime.Logger, Tenant, stored.Session.Version, rebased.Session.Version);
        _runtime.Metrics.RecordRebased();
        _runtime.Replay.NotePending();
        _runtime.Replay.RunIfPending();
        if (conflicted)
        {
            throw Conflict(expectedVersion!.Value, rebased.Session.Version);
        }

        return refusal is null ? CurrentOf(rebased.Session, rebased.SchemaVersion) : throw refusal;
    }

    /// <summary>The data after the patch (null removes a field), checked against MaxFields and MaxDataBytes as session_update.lua checks it.</summary>
    private Dictionary<string, JsonElement> Merge(IReadOnlyDictionary<string, JsonElement> data, IReadOnlyDictionary<string, JsonElement?> patch)
    {
        var merged = new Dictionary<string, JsonElement>(data, StringComparer.Ordinal);
        foreach (var (name, value) in patch)
        {
            if (value is { } element)
            {
                merged[name] = element.Clone();
            }
            else
            {
                merged.Remove(name);
            }
        }

        if (merged.Count > Options.MaxFields)
        {
            throw new ArgumentException($"A session holds at most {Options.MaxFields} fields (Coordination:Sessions:MaxFields); the update would make {merged.Count}. Nothing changed.", nameof(patch));
        }

        var bytes = 0L;
        foreach (var (name, value) in merged)
        {
            bytes += SessionData.SizeOf(name, SessionData.Encode(name, value, nameof(patch)));
        }

        SessionData.ThrowIfTooLarge(bytes, Options, nameof(patch));
        return merged;
    }

    /// <summary>Leaves tombstones in the copy for sessions ended while Redis is unavailable (their copies are already removed).</summary>
    private async ValueTask EndInCopyAsync(IReadOnlyCollection<string> keys, string operation, CoordinationUnavailableException unavailable, CancellationToken cancellationToken) =>
        await InCopyAsync(async store => { await store.EndAsync(keys, cancellationToken); return true; }, operation, unavailable);

    /// <summary>A rotation while Redis is unavailable: the copy (already under the new key) pending, and a tombstone for the old key.</summary>
    private async ValueTask<Session?> RotateInCopyAsync(string oldKey, string newKey, string newId, CoordinationUnavailableException unavailable, CancellationToken cancellationToken)
    {
        await EndInCopyAsync([oldKey], "rotate", unavailable, cancellationToken);
        var stored = await InCopyAsync(store => store.MarkPendingAsync(newKey, newId, cancellationToken), "rotate", unavailable);
        return stored is null ? null : CurrentOf(stored.Session, stored.SchemaVersion);
    }

    /// <summary>A user's live sessions as the copy holds them, while Redis is unavailable.</summary>
    private async ValueTask<IReadOnlyList<Session>> ListCopyAsync(string tag, string userId, CoordinationUnavailableException unavailable, CancellationToken cancellationToken)
    {
        try
        {
            var stored = await _runtime.Store!.ListForUserAsync(_keys.UserIndex(tag, userId), static key => SessionKeys.Parse(key).Id, cancellationToken);
            _runtime.Metrics.RecordFallback(write: false);
            SessionsLog.ServedFromCopy(_runtime.Logger, Tenant, unavailable);
            return [.. stored.Select(s => CurrentOf(s.Session, s.SchemaVersion))];
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            throw BothUnavailable("list", unavailable, ex);
        }
    }

    /// <summary>
    /// Completes a listing with the user's sessions the copy holds live and Redis does not (Redis lost them), putting
    /// each back into Redis as a read would. Without the copy, or when it cannot be read, the listing is Redis's alone.
    /// </summary>
    private async ValueTask RestoreListedFromCopyAsync(string tag, string userId, List<Session> sessions, CancellationToken cancellationToken)
    {
        if (_runtime.Store is not { } store)
        {
            return;
        }

        IReadOnlyList<StoredSession> copies;
        try
        {
            copies = await store.ListForUserAsync(_keys.UserIndex(tag, userId), static key => SessionKeys.Parse(key).Id, cancellationToken);
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            SessionsLog.PersistFailed(_runtime.Logger, Tenant, "list", ex);
            return;
        }

        if (copies.Count == 0)
        {
            return;
        }

        var listed = new HashSet<string>(sessions.Select(static s => s.Id), StringComparer.Ordinal);
        foreach (var copy in copies)
        {
            if (!listed.Contains(copy.Session.Id) && await RestoreAsync(copy.Key, copy.Session.Id, tag, cancellationToken) is { } restored)
            {
                sessions.Add(restored);
            }
        }
    }

    /// <summary>Removes the durable copies of the sessions the cap ended, so that no read puts them back; a failure is logged.</summary>
    private async ValueTask RemoveEndedByCapFromCopyAsync(string tag, RedisResult[] endedIds, CancellationToken cancellationToken)
    {
        if (_runtime.Store is not { } store || endedIds.Length == 0)
        {
            return;
        }

        try
        {
            foreach (var ended in endedIds)
            {
                var endedId = (string)ended!;
                await store.DeleteAsync(_keys.Session(tag, endedId[..SessionId.RandomLength]), cancellationToken);
            }
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            SessionsLog.PersistFailed(_runtime.Logger, Tenant, "cap", ex);
        }
    }

    /// <summary>A change made in the copy because Redis is unavailable: counted, logged, and noted for the replay.</summary>
    private async ValueTask<T> InCopyAsync<T>(Func<PostgresSessionStore, Task<T>> change, string operation, CoordinationUnavailableException unavailable)
    {
        T result;
        try
        {
            result = await change(_runtime.Store!);
        }
        catch (Exception ex) when (IsCopyFailure(ex))
        {
            throw BothUnavailable(operation, unavailable, ex);
        }

        _runtime.Replay.NotePending();
        _runtime.Metrics.RecordFallback(write: true);
        SessionsLog.WrittenToCopy(_runtime.Logger, Tenant, operation, unavailable);
        return result;
    }

    private static CoordinationUnavailableException BothUnavailable(string operation, CoordinationUnavailableException unavailable, Exception copyFailure) =>
        new($"Redis is unavailable for the session {operation} and its durable copy in PostgreSQL could not be used either: {copyFailure.Message}", unavailable.Reason, unavailable);
}
