using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The hot keys every node of a key prefix reports, in the platform's namespace (<c>#</c> is not allowed in a tenant, so
/// no tenant can form these keys), all in one slot: <c>{prefix}:#hotkeys:{{prefix}:#hotkeys}:tenants</c> (tenant to
/// last report), <c>...:halved</c> (tenant to last halving) and <c>...:tenant:{tenant}</c> (cache key to count).
/// Written by cache_hot_report.lua only.
/// </summary>
internal sealed class HotKeyReports
{
    private readonly RedisExecutor _executor;
    private readonly HotKeyWarmingOptions _options;
    private readonly string _base;

    public HotKeyReports(RedisExecutor executor, string keyPrefix, HotKeyWarmingOptions options)
    {
        CoordinationKey.ValidateSegment(keyPrefix, nameof(keyPrefix));
        _executor = executor;
        _options = options;
        _base = $"{keyPrefix}:#hotkeys:{{{keyPrefix}:#hotkeys}}";
        TenantsKey = _base + ":tenants";
        HalvedKey = _base + ":halved";
    }

    public string TenantsKey { get; }

    public string HalvedKey { get; }

    public string TenantKey(string tenant) => _base + ":tenant:" + tenant;

    /// <summary>Adds <paramref name="counts"/> (at most <see cref="HotKeyWarmingOptions.KeysPerTenant"/> are read); -1 when the tenant list is full.</summary>
    public async Task<long> ReportAsync(string tenant, IReadOnlyList<KeyValuePair<string, long>> counts, CancellationToken cancellationToken)
    {
        var pairs = Math.Min(counts.Count, _options.KeysPerTenant);
        var args = new RedisValue[5 + (2 * pairs)];
        args[0] = tenant;
        args[1] = (long)_options.KeepFor.TotalMilliseconds;
        args[2] = _options.KeysPerTenant;
        args[3] = _options.MaxTenants;
        args[4] = (long)_options.HalfLife.TotalMilliseconds;
        for (var i = 0; i < pairs; i++)
        {
            args[5 + (2 * i)] = counts[i].Key;
            args[6 + (2 * i)] = counts[i].Value;
        }

        var result = await _executor.ExecuteAsync(
            "cache.hot.report",
            idempotent: false,
            static (db, s) => RedisScript.CacheHotReport.EvaluateByShaAsync(db, [s.Tenants, s.Halved, s.Tenant], s.Args),
            (Tenants: (RedisKey)TenantsKey, Halved: (RedisKey)HalvedKey, Tenant: (RedisKey)TenantKey(tenant), Args: args),
            cancellationToken);
        return (long)result;
    }

    /// <summary>The <paramref name="count"/> most recently reporting tenants, most recent first.</summary>
    public async Task<string[]> TenantsAsync(int count, CancellationToken cancellationToken) =>
        await _executor.ExecuteAsync(
            "cache.hot.tenants",
            idempotent: true,
            static async (db, s) => (await db.SortedSetRangeByRankAsync(s.Key, 0, s.Count - 1, Order.Descending)).Select(static v => v.ToString()).ToArray(),
            (Key: (RedisKey)TenantsKey, Count: (long)count),
            cancellationToken);

    /// <summary>The <paramref name="count"/> hottest keys of <paramref name="tenant"/>, hottest first.</summary>
    public async Task<string[]> HottestAsync(string tenant, int count, CancellationToken cancellationToken) =>
        await _executor.ExecuteAsync(
            "cache.hot.keys",
            idempotent: true,
            static async (db, s) => (await db.SortedSetRangeByRankAsync(s.Key, 0, s.Count - 1, Order.Descending)).Select(static v => v.ToString()).ToArray(),
            (Key: (RedisKey)TenantKey(tenant), Count: (long)count),
            cancellationToken);
}
