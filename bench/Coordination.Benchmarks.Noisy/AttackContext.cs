using System.Net;
using System.Net.Sockets;

namespace Coordination.Benchmarks.Noisy;

/// <summary>
/// Tenant A's side of one attack phase: its HTTP clients, the count of its answers, and fresh numbers for fresh names.
/// A's connections leave from another loopback address (<see cref="AttackerAddress"/>) than B's, as two clients on
/// two hosts would: the API's authentication throttle counts failures per remote address.
/// </summary>
internal sealed class AttackContext(Uri baseAddress, NoisySettings settings) : IDisposable
{
    public static readonly IPAddress AttackerAddress = IPAddress.Parse("127.0.0.2");

    private long _sequence;
    private long _sent;

    public NoisySettings Settings { get; } = settings;

    /// <summary>With tenant A's key.</summary>
    public HttpClient Client { get; } = CreateClient(baseAddress, NoisyApiHost.AttackerKey);

    /// <summary>Without a key, from the same address.</summary>
    public HttpClient Anonymous { get; } = CreateClient(baseAddress, apiKey: null);

    public Outcomes Outcomes { get; } = new();

    /// <summary>Requests sent, answered or not (a lock waiter still waiting when the attack stops is sent, not answered).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    public long Next() => Interlocked.Increment(ref _sequence);

    /// <summary>Runs <paramref name="workers"/> loops of <paramref name="step"/> back to back until <paramref name="stop"/>.</summary>
    public Task FloodAsync(int workers, Func<long, CancellationToken, Task> step, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await step(Next(), stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
                {
                    Outcomes.Record(ex);
                }
            }
        })));

    /// <summary>Sends the request, counts its status, and returns the response (the caller disposes it).</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            Interlocked.Increment(ref _sent);
            var response = await client.SendAsync(request, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            Outcomes.Record((int)response.StatusCode);
            return response;
        }
    }

    /// <summary>Sends the request, counts its status, and drops the response.</summary>
    public async Task SendAndForgetAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken) =>
        (await SendAsync(client, request, cancellationToken)).Dispose();

    public void Dispose()
    {
        Client.Dispose();
        Anonymous.Dispose();
    }

    private static HttpClient CreateClient(Uri baseAddress, string? apiKey)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = int.MaxValue,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(AttackerAddress, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }
}
