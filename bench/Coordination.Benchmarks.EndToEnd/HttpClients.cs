namespace Coordination.Benchmarks.EndToEnd;

/// <summary>The load generator's HTTP clients: one connection pool per server, as many connections as callers, no timeout but the run's.</summary>
internal static class HttpClients
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public static HttpClient Create(Uri baseAddress, string? apiKey)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = int.MaxValue,
            UseCookies = false,
            UseProxy = false,
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = RequestTimeout };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }
}
