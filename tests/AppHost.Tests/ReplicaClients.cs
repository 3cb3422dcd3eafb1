namespace Coordination.AppHost.Tests;

/// <summary>One HTTP client per api replica, each talking to its replica directly (not through Aspire's proxy), with the admin key.</summary>
internal sealed class ReplicaClients : IDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan HealthyTimeout = TimeSpan.FromMinutes(2);

    private readonly HttpClient[] _clients;

    private ReplicaClients(IEnumerable<Uri> addresses, string apiKey)
    {
        _clients = [.. addresses.Select(address => Create(address, apiKey))];
    }

    public HttpClient this[int replica] => _clients[replica];

    /// <summary>Waits for both api replicas to answer, then gives a client for each.</summary>
    public static async Task<ReplicaClients> CreateAsync(LocalModeAppFixture fixture, CancellationToken cancellationToken)
    {
        await fixture.WaitForHealthyAsync("api", HealthyTimeout, cancellationToken);
        var addresses = await fixture.GetReplicaAddressesAsync("api", replicas: 2, HealthyTimeout, cancellationToken);
        Assert.Equal(2, addresses.Distinct().Count());
        return new ReplicaClients(addresses, fixture.AdminApiKey);
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private static HttpClient Create(Uri address, string apiKey)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = RequestTimeout };
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }
}
