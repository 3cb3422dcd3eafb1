namespace Coordination.Chaos;

/// <summary>
/// The API replicas requests are spread over, as a load balancer would: round robin over the replicas in rotation; a
/// replica that refuses a connection leaves the rotation (a health check would take it out), a new one joins it.
/// </summary>
internal sealed class ApiPool : IAsyncDisposable
{
    private readonly List<Replica> _rotation = [];
    private readonly List<Replica> _all = [];
    private int _next;

    public Replica Add(ChaosApiHost host)
    {
        var replica = new Replica(host);
        lock (_rotation)
        {
            _rotation.Add(replica);
            _all.Add(replica);
        }

        return replica;
    }

    public Replica? Next()
    {
        lock (_rotation)
        {
            return _rotation.Count == 0 ? null : _rotation[_next++ % _rotation.Count];
        }
    }

    public void TakeOut(Replica replica)
    {
        lock (_rotation)
        {
            _rotation.Remove(replica);
        }
    }

    public Replica First()
    {
        lock (_rotation)
        {
            return _rotation[0];
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _all)
        {
            await replica.DisposeAsync();
        }
    }

    internal sealed class Replica(ChaosApiHost host) : IAsyncDisposable
    {
        private int _stopped;

        public ChaosApiHost Host { get; } = host;

        public string Name => Host.Name;

        public HttpClient Client { get; } = CreateClient(host.BaseAddress);

        /// <summary>A graceful stop, as SIGTERM gives one: Kestrel stops accepting, requests in flight finish, the host stops.</summary>
        public async Task StopAsync()
        {
            if (Interlocked.Exchange(ref _stopped, 1) == 0)
            {
                await Host.DisposeAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            Client.Dispose();
        }

        private static HttpClient CreateClient(Uri baseAddress)
        {
            var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
            client.DefaultRequestHeaders.Add("X-Api-Key", ChaosApiHost.MemberKey);
            return client;
        }
    }
}
