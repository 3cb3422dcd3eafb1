using System.Net;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>The framework's ceiling: every operation is one <c>GET /ping</c> of <see cref="TrivialEndpoint"/>, its body read.</summary>
internal sealed class TrivialClient(Uri baseAddress) : IMixClient, IDisposable
{
    private readonly HttpClient _client = HttpClients.Create(baseAddress, apiKey: null);

    public string Name => "trivial endpoint";

    public string Description =>
        "HTTP/1.1 over loopback to a minimal ASP.NET Core application on Kestrel in the same process: GET /ping answers {\"status\":\"pong\",\"value\":42} (no authentication, limiter or Redis); one request per operation, whatever the mix's kind";

    public bool RunsMix => false;

    public int RequestsPer(OperationKind kind) => 1;

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask<string?> RunAsync(OperationKind kind, int caller, long call, Random random, CancellationToken cancellationToken)
    {
        using var response = await _client.GetAsync(TrivialEndpoint.Path, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        return response.StatusCode == HttpStatusCode.OK ? null : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => _client.Dispose();
}
