using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// A Lua script embedded in the assembly, sent as EVALSHA by its precomputed SHA-1. When the server answers NOSCRIPT
/// (first use, restart, SCRIPT FLUSH, another node of a cluster): <see cref="EvaluateAsync"/> sends the source once
/// with EVAL, which also caches it on that server; <see cref="EvaluateByShaAsync"/> leaves it to its caller, which
/// loads every script and sends the call again with <see cref="LoadAllAndRunAgainAsync"/> (the executor does, for
/// every call it runs).
/// </summary>
internal sealed class RedisScript
{
    public static readonly RedisScript LockAcquire = Load("lock_acquire", LockCommon);
    public static readonly RedisScript LockRelease = Load("lock_release", LockCommon);
    public static readonly RedisScript LockExtend = Load("lock_extend", LockCommon);
    public static readonly RedisScript LockInspect = Load("lock_inspect", LockCommon);
    public static readonly RedisScript LockFastAcquire = Load("lock_fast_acquire");
    public static readonly RedisScript LockFastRelease = Load("lock_fast_release");
    public static readonly RedisScript LockDequeue = Load("lock_dequeue");
    public static readonly RedisScript LockGraphWait = Load("lock_graph_wait");
    public static readonly RedisScript LockGraphLeave = Load("lock_graph_leave");
    public static readonly RedisScript LockNameCount = Load("lock_name_count");
    public static readonly RedisScript LockServerIdentity = Load("lock_server_identity");
    public static readonly RedisScript GetWithTtl = Load("get_with_ttl");
    public static readonly RedisScript KeyQuotaCount = Load("kv_quota_count");
    public static readonly RedisScript KeyQuotaUndo = Load("kv_quota_undo");
    public static readonly RedisScript DurabilityCheck = Load("kv_durability_check");
    public static readonly RedisScript DurabilityDone = Load("kv_durability_done");
    public static readonly RedisScript KeyRestore = Load("kv_restore");
    public static readonly RedisScript KeyDeleteTombstoned = Load("kv_delete_tombstoned");
    public static readonly RedisScript KeyValueWriteBatch = Load("kv_write_batch");
    public static readonly RedisScript CacheSet = Load("cache_set");
    public static readonly RedisScript CacheSetBatch = Load("cache_set_batch");
    public static readonly RedisScript CacheTouch = Load("cache_touch");
    public static readonly RedisScript CacheStamp = Load("cache_stamp");
    public static readonly RedisScript CacheLogAppend = Load("cache_log_append");
    public static readonly RedisScript CacheLogRead = Load("cache_log_read");
    public static readonly RedisScript SessionCreate = Load("session_create", SessionCommon);
    public static readonly RedisScript SessionGet = Load("session_get");
    public static readonly RedisScript SessionUpdate = Load("session_update", SessionCommon);
    public static readonly RedisScript SessionDelete = Load("session_delete", SessionCommon);
    public static readonly RedisScript SessionList = Load("session_list", SessionCommon);
    public static readonly RedisScript SessionRevokeAll = Load("session_revoke_all", SessionCommon);
    public static readonly RedisScript SessionRotate = Load("session_rotate", SessionCommon);
    public static readonly RedisScript SessionSweep = Load("session_sweep");
    public static readonly RedisScript SessionRestore = Load("session_restore", SessionCommon);
    public static readonly RedisScript SessionReplay = Load("session_replay", SessionCommon);
    public static readonly RedisScript SessionQuotaCount = Load("session_quota_count");
    public static readonly RedisScript SessionQuotaRename = Load("session_quota_rename");
    public static readonly RedisScript SessionUpgrade = Load("session_upgrade", SessionCommon);
    public static readonly RedisScript SessionExport = Load("session_export");
    public static readonly RedisScript SessionImport = Load("session_import", SessionCommon);
    public static readonly RedisScript SessionMigrateDrop = Load("session_migrate_drop");
    public static readonly RedisScript RateLimitAcquire = Load("ratelimit_acquire");
    public static readonly RedisScript RateLimitRelease = Load("ratelimit_release");
    public static readonly RedisScript RateLimitPolicySet = Load("ratelimit_policy_set");
    public static readonly RedisScript DutyBegin = Load("duty_begin");
    public static readonly RedisScript DutyRecord = Load("duty_record");
    public static readonly RedisScript CacheHotReport = Load("cache_hot_report");
    public static readonly RedisScript AlertReport = Load("alert_report");
    public static readonly RedisScript NodeReport = Load("node_report");
    public static readonly RedisScript NodeRead = Load("node_read");

    // Lua has no include: the scripts on the general lock layout get the functions they share inserted.
    private const string LockCommon = "lock_common";
    private const string SessionCommon = "session_common";

    private readonly byte[] _sha1;

    private RedisScript(string name, string source)
    {
        Name = name;
        Source = source;
#pragma warning disable CA5350 // SHA-1 is how Redis names scripts, not a security measure.
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(source));
#pragma warning restore CA5350
    }

    public string Name { get; }

    public string Source { get; }

    public async Task<RedisResult> EvaluateAsync(IDatabase database, RedisKey[] keys, RedisValue[] arguments)
    {
        try
        {
            return await database.ScriptEvaluateAsync(_sha1, keys, arguments);
        }
        catch (RedisServerException ex) when (IsMissing(ex))
        {
            return await database.ScriptEvaluateAsync(Source, keys, arguments);
        }
    }

    /// <summary>
    /// EVALSHA alone: the client's own task, without an async frame around it (the hot lock paths pay for every
    /// frame). Fails with NOSCRIPT (<see cref="IsMissing"/>) when the server does not have the script.
    /// </summary>
    public Task<RedisResult> EvaluateByShaAsync(IDatabase database, RedisKey[] keys, RedisValue[] arguments) =>
        database.ScriptEvaluateAsync(_sha1, keys, arguments);

    /// <summary>Whether <paramref name="exception"/> is the server's NOSCRIPT answer: the script did not run.</summary>
    public static bool IsMissing(Exception exception) =>
        exception is RedisServerException server && server.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    /// <summary>
    /// After <paramref name="call"/> was answered NOSCRIPT (so it did not run): loads every script on each connected
    /// server of the database's connection (SCRIPT LOAD), replicas included, and runs the call once more.
    /// </summary>
    /// <remarks>
    /// Replicas too: a replica just promoted by a failover answers the call as the primary (its script cache is
    /// empty: SCRIPT LOAD is not replicated) while the client may still see it as a replica. A NOSCRIPT again is the
    /// server changing under the call, which did not run (the executor then throws <see cref="CoordinationUnavailableException"/>).
    /// </remarks>
    public static async Task<TResult> LoadAllAndRunAgainAsync<TState, TResult>(
        IDatabase database,
        Func<IDatabase, TState, Task<TResult>> call,
        TState state,
        CancellationToken cancellationToken)
    {
        var loads = database.Multiplexer.GetServers()
            .Where(server => server.IsConnected)
            .SelectMany(server => All.Select(script => server.ScriptLoadAsync(script.Source)));
        await Task.WhenAll(loads).WaitAsync(cancellationToken);
        return await call(database, state).WaitAsync(cancellationToken);
    }

    /// <summary>Every script of this class (its public static fields).</summary>
    public static IReadOnlyList<RedisScript> All => AllScripts.Value;

    private static readonly Lazy<RedisScript[]> AllScripts = new(() =>
    [
        .. typeof(RedisScript).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.FieldType == typeof(RedisScript))
            .Select(field => (RedisScript)field.GetValue(null)!),
    ]);

    /// <summary>The resources prepended to scripts rather than run on their own.</summary>
    public static IReadOnlyList<string> Preludes { get; } = [LockCommon, SessionCommon];

    private static RedisScript Load(string name, string? prelude = null)
    {
        var source = Read(name);
        if (prelude is null)
        {
            return new RedisScript(name, source);
        }

        // After the script's own header, so the source still opens with what the script takes and returns.
        var lines = source.Split('\n');
        var header = lines.TakeWhile(l => l.StartsWith("--", StringComparison.Ordinal)).Count();
        return new RedisScript(name, string.Join('\n', lines[..header]) + "\n" + Read(prelude) + string.Join('\n', lines[header..]));
    }

    private static string Read(string name)
    {
        var resource = $"Coordination.Scripts.{name}.lua";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The script resource '{resource}' is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
