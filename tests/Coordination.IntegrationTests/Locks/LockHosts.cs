using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Locks;

/// <summary>
/// Hosts with their own connections on one key prefix: as far as Redis can tell, separate processes taking the same
/// locks. Disposing stops them all.
/// </summary>
internal sealed class LockHosts : IAsyncDisposable
{
    private LockHosts(CoordinationTestHost[] hosts) => Hosts = hosts;

    public CoordinationTestHost[] Hosts { get; }

    public CoordinationTestHost this[int index] => Hosts[index];

    public static async Task<LockHosts> StartAsync(string redis, int count = 2, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var prefix = TestKeys.NewPrefix();
        var hosts = new CoordinationTestHost[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                hosts[i] = await CoordinationTestHost.StartAsync(redis, prefix, settings, hostName: $"host{i}");
            }
        }
        catch
        {
            foreach (var host in hosts.Where(h => h is not null))
            {
                await host.DisposeAsync();
            }

            throw;
        }

        return new LockHosts(hosts);
    }

    public IDistributedLockManager Locks(int index) => Hosts[index].Services.GetRequiredService<IDistributedLockManager>();

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Hosts)
        {
            await host.DisposeAsync();
        }
    }
}
