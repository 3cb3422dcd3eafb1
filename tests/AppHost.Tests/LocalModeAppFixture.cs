using System.Security.Cryptography;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.AppHost.Tests;

/// <summary>
/// Starts the whole AppHost once for the <see cref="SharedLocalModeApp"/> in local hosting mode (redis-server and
/// PostgreSQL executables, no container runtime), with an admin API key and a PostgreSQL
/// password chosen by the test, so nothing is generated into user secrets.
/// </summary>
public class LocalModeAppFixture : IAsyncLifetime
{
    /// <summary>The resources the AppHost defines, by their fixed names.</summary>
    public static readonly IReadOnlyList<string> ResourceNames = ["redis", "postgres", "coordinationdb", "api", "worker"];

    // Building the model and starting DCP takes seconds; initdb on a fresh machine a few more.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    // Shutting down stops five processes (three .NET, two servers).
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    // A data folder of its own (created by the AppHost, removed afterwards), so the tests never
    // share PostgreSQL's folder with an AppHost a developer runs from the same checkout.
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"apphost-tests-{Guid.NewGuid():N}");

    private readonly string _hostingMode;

    private DistributedApplication? _app;

    /// <summary>Starts the AppHost in local hosting mode.</summary>
    public LocalModeAppFixture()
        : this("local")
    {
    }

    /// <summary>Starts the AppHost in the given hosting mode (<c>Coordination:HostingMode</c>).</summary>
    /// <param name="hostingMode">The hosting mode to force.</param>
    protected LocalModeAppFixture(string hostingMode)
    {
        _hostingMode = hostingMode;
    }

    /// <summary>The admin API key the api accepts (header <c>X-Api-Key</c>).</summary>
    public string AdminApiKey { get; } = NewSecret();

    /// <summary>The local redis-server's password (parameter <c>redis-password</c>).</summary>
    public string RedisPassword { get; } = NewSecret();

    /// <summary>The running application.</summary>
    public DistributedApplication App => _app ?? throw new InvalidOperationException("The application has not started.");

    /// <inheritdoc/>
    public async ValueTask InitializeAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(StartTimeout);

        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [
                $"--Coordination:HostingMode={_hostingMode}",
                $"--Coordination:Local:DataDirectory={_dataDirectory}",
                $"--Parameters:admin-api-key={AdminApiKey}",
                $"--Parameters:postgres-password={NewSecret()}",
                $"--Parameters:redis-password={RedisPassword}",
                // COORDINATION_TEST_REDIS_SERVER=valkey runs the suite on Valkey, the local mode's server included.
                $"--Coordination:Local:RedisServer={(string.Equals(Environment.GetEnvironmentVariable("COORDINATION_TEST_REDIS_SERVER"), "valkey", StringComparison.OrdinalIgnoreCase) ? "valkey-server" : "redis-server")}",
            ],
            timeout.Token);

        _app = await appHost.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
    }

    /// <summary>Waits, bounded, until the named resource is Running and its health checks pass.</summary>
    /// <param name="resourceName">The resource's name.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellationToken">The test's cancellation token.</param>
    /// <returns>The resource's state once healthy (of one of its replicas, if it has several).</returns>
    public async Task<ResourceEvent> WaitForHealthyAsync(string resourceName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancellation.CancelAfter(timeout);
        return await App.ResourceNotifications.WaitForResourceHealthyAsync(resourceName, cancellation.Token);
    }

    /// <summary>
    /// Waits, bounded, until <paramref name="replicas"/> replicas of the named project are Running and each answers
    /// <c>/health</c> itself, and returns the address each one listens on (<c>ASPNETCORE_URLS</c>), bypassing Aspire's
    /// proxy, which picks a replica per connection.
    /// </summary>
    /// <remarks>
    /// The resource's health check goes through the proxy, so a replica can be reported healthy while it is not
    /// listening yet: each one is asked directly.
    /// </remarks>
    /// <param name="resourceName">The project resource's name.</param>
    /// <param name="replicas">How many replicas it has.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellationToken">The test's cancellation token.</param>
    /// <returns>One address per replica, ordered by replica id.</returns>
    public async Task<IReadOnlyList<Uri>> GetReplicaAddressesAsync(string resourceName, int replicas, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancellation.CancelAfter(timeout);
        var addresses = new SortedDictionary<string, Uri>(StringComparer.Ordinal);
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellation.Token))
        {
            var snapshot = resourceEvent.Snapshot;
            if (resourceEvent.Resource.Name != resourceName
                || snapshot.State?.Text != KnownResourceStates.Running
                || snapshot.HealthStatus != HealthStatus.Healthy)
            {
                continue;
            }

            var urls = snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value;
            var http = urls?.Split(';').FirstOrDefault(u => u.StartsWith("http://", StringComparison.Ordinal));
            if (http is not null)
            {
                addresses[resourceEvent.ResourceId] = new Uri(http);
            }

            if (addresses.Count == replicas)
            {
                foreach (var address in addresses.Values)
                {
                    await WaitUntilAnswersAsync(new Uri(address, "/health"), cancellation.Token);
                }

                return [.. addresses.Values];
            }
        }

        throw new OperationCanceledException(cancellation.Token);
    }

    private static async Task WaitUntilAnswersAsync(Uri health, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(health, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not listening yet, or too busy starting to answer within the attempt's timeout.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        try
        {
            if (_app is not null)
            {
                using var timeout = new CancellationTokenSource(StopTimeout);
                try
                {
                    await _app.StopAsync(timeout.Token);
                }
                finally
                {
                    await _app.DisposeAsync();
                }
            }
        }
        finally
        {
            if (Directory.Exists(_dataDirectory))
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
        }
    }

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
}
