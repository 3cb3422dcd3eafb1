using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>
/// The mix through the library directly, as an application gets it: a host built with <c>AddCoordination</c> on the same
/// Redis and key prefix as the API, default options, the coordinator of tenant <see cref="Tenant"/> (so its data is not
/// the API's). Cache entries are a small record, locks are handles (<see cref="IDistributedLockManager.TryAcquireAsync"/>
/// without waiting, then <see cref="ILockHandle.ReleaseAsync"/>).
/// </summary>
internal sealed class LibraryMixClient : IMixClient, IAsyncDisposable
{
    public const string Tenant = "e2e-lib";

    private static readonly LockOptions LockOptions = new() { TimeToLive = Mix.LockTimeToLive };
    private static readonly CacheEntryOptions EntryOptions = new() { TimeToLive = Mix.EntryTimeToLive };

    private readonly IHost _host;
    private readonly IRedisCoordinator _coordinator;
    private readonly Item[] _values = [.. Enumerable.Range(0, Mix.CacheKeys).Select(Mix.Value)];
    private string[] _sessions = [];

    private LibraryMixClient(IHost host)
    {
        _host = host;
        _coordinator = host.Services.GetRequiredService<ICoordinatorFactory>().ForTenant(Tenant);
    }

    public string Name => "library";

    public string Description =>
        "in-process calls on the coordinator of a host built with AddCoordination (ICacheManager, IDistributedLockManager, ISessionManager, IRateLimitService), default options; latency of the awaited call";

    public bool RunsMix => true;

    public int RequestsPer(OperationKind kind) => 0;

    public static async Task<LibraryMixClient> StartAsync(string redisConnectionString, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(
        [
            new("ConnectionStrings:redis", redisConnectionString),
            new("Coordination:KeyPrefix", ApiReplica.KeyPrefix),
        ]);
        builder.AddCoordination();
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new LibraryMixClient(host);
    }

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        await _host.Services.GetRequiredService<IRateLimitPolicies>().SetAsync(Mix.Policy, Mix.PolicyDefinition, cancellationToken);
        for (var i = 0; i < Mix.CacheKeys; i++)
        {
            await _coordinator.Cache.SetAsync(Mix.CacheKey(i), _values[i], EntryOptions, cancellationToken);
        }

        var sessions = new string[Mix.Sessions];
        for (var i = 0; i < Mix.Sessions; i++)
        {
            var data = new Dictionary<string, JsonElement>
            {
                ["cart"] = JsonSerializer.SerializeToElement(i % 7),
                ["theme"] = JsonSerializer.SerializeToElement("dark"),
            };
            sessions[i] = (await _coordinator.Sessions.CreateAsync(Mix.SessionUser(i), data, cancellationToken: cancellationToken)).Id;
        }

        _sessions = sessions;
    }

    public async ValueTask<string?> RunAsync(OperationKind kind, int caller, long call, Random random, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case OperationKind.CacheGet:
            {
                var (written, key) = Mix.CacheReadKey(random);
                var cached = await _coordinator.Cache.GetAsync<Item>(key, cancellationToken);
                return cached.HasValue == written ? null : cached.HasValue ? "unexpected hit" : "unexpected miss";
            }

            case OperationKind.CachePut:
            {
                var index = random.Next(Mix.CacheKeys);
                await _coordinator.Cache.SetAsync(Mix.CacheKey(index), _values[index], EntryOptions, cancellationToken);
                return null;
            }

            case OperationKind.Lock:
            {
                var handle = await _coordinator.Locks.TryAcquireAsync(Mix.LockName(caller, random), LockOptions, cancellationToken);
                if (handle is null)
                {
                    return "not acquired";
                }

                await using (handle)
                {
                    await handle.ReleaseAsync(cancellationToken);
                }

                return null;
            }

            case OperationKind.SessionGet:
                return await _coordinator.Sessions.GetAsync(_sessions[random.Next(_sessions.Length)], cancellationToken) is null ? "not found" : null;

            case OperationKind.RateLimit:
                return (await _coordinator.RateLimits.AcquireAsync(Mix.Policy, Mix.RateLimitKey(random), cancellationToken: cancellationToken)).Allowed ? null : "refused";

            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None);
        _host.Dispose();
    }
}
