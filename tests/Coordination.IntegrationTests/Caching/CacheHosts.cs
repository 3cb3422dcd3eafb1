using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Caching;

/// <summary>Several hosts (like several processes) on one key prefix, each with its own cache runtime.</summary>
public sealed class CacheHosts : IAsyncDisposable
{
    private readonly List<CoordinationTestHost> _hosts = [];

    public string KeyPrefix { get; } = TestKeys.NewPrefix();

    public int Count => _hosts.Count;

    public CoordinationTestHost this[int index] => _hosts[index];

    public static async Task<CacheHosts> StartAsync(string connectionString, int count, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var hosts = new CacheHosts();
        try
        {
            for (var i = 0; i < count; i++)
            {
                await hosts.AddAsync(connectionString, settings);
            }
        }
        catch
        {
            await hosts.DisposeAsync();
            throw;
        }

        return hosts;
    }

    public async Task<CoordinationTestHost> AddAsync(string connectionString, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var defaults = new Dictionary<string, string?> { ["Coordination:Cache:InvalidationLogPollInterval"] = "00:00:00.200" };
        foreach (var (key, value) in settings ?? [])
        {
            defaults[key] = value;
        }

        var host = await CoordinationTestHost.StartAsync(connectionString, KeyPrefix, defaults, hostName: $"cache{_hosts.Count}");
        _hosts.Add(host);
        // The backplane is ready once its first log read has set the offset.
        var cache = Cache(_hosts.Count - 1);
        await ProcessUtil.WaitUntilAsync(() => cache.Runtime.OffsetOf(cache.Tenant) is not null, TimeSpan.FromSeconds(10), "the cache backplane to start", TestContext.Current.CancellationToken);
        return host;
    }

    internal RedisCacheManager Cache(int index) => (RedisCacheManager)_hosts[index].Services.GetRequiredService<ICacheManager>();

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }
}
