using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>
/// The framework's own ceiling: a minimal ASP.NET Core application on Kestrel in this process whose one endpoint,
/// <c>GET /ping</c>, answers a small JSON body without touching anything else (no authentication, no limiter, no Redis).
/// </summary>
internal sealed class TrivialEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TrivialEndpoint(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public const string Path = "ping";

    public Uri BaseAddress { get; }

    public static async Task<TrivialEndpoint> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/" + Path, () => TypedResults.Ok(new Pong("pong", 42)));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new TrivialEndpoint(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    /// <summary>The answer: <c>{"status":"pong","value":42}</c>.</summary>
    internal sealed record Pong(string Status, int Value);
}
