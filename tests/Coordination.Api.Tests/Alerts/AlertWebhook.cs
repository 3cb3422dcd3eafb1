using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Coordination.Api.Tests.Alerts;

/// <summary>
/// A real HTTP endpoint on a free loopback port (<see cref="HttpListener"/>) that records every notification posted
/// to it and answers <see cref="StatusCode"/> (200 unless a test makes it fail).
/// </summary>
internal sealed class AlertWebhook : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private AlertWebhook(int port)
    {
        Url = $"http://127.0.0.1:{port}/alerts/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(RunAsync);
    }

    public string Url { get; }

    /// <summary>The answer to every post.</summary>
    public HttpStatusCode StatusCode { get; set; } = HttpStatusCode.OK;

    /// <summary>Every post received, in order, answered or not.</summary>
    public ConcurrentQueue<Received> Posts { get; } = new();

    public static AlertWebhook Start()
    {
        // A port the kernel just handed out and released: free unless another process takes it in between (retried).
        for (var attempt = 0; ; attempt++)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            try
            {
                return new AlertWebhook(port);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }
    }

    public IReadOnlyList<Received> For(string rule, string? state = null) =>
        [.. Posts.Where(p => p.Rule == rule && (state is null || p.State == state))];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or OperationCanceledException or TimeoutException)
        {
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using (var reader = new StreamReader(context.Request.InputStream))
            {
                var body = await reader.ReadToEndAsync();
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                Posts.Enqueue(new Received(
                    root.GetProperty("rule").GetString()!,
                    root.GetProperty("state").GetString()!,
                    root.GetProperty("node").GetString()!,
                    root.GetProperty("since").GetDateTimeOffset(),
                    root.GetProperty("details").ValueKind == JsonValueKind.Null ? null : root.GetProperty("details").GetString(),
                    root.GetProperty("incident").GetString()!,
                    root.GetProperty("repeat").GetBoolean(),
                    context.Request.ContentType,
                    DateTimeOffset.UtcNow));
            }

            context.Response.StatusCode = (int)StatusCode;
            context.Response.Close();
        }
    }

    internal sealed record Received(string Rule, string State, string Node, DateTimeOffset Since, string? Details, string Incident, bool Repeat, string? ContentType, DateTimeOffset At);
}
