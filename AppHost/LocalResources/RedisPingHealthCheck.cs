using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.AppHost.LocalResources;

/// <summary>
/// Healthy when the Redis server answers <c>PING</c> with <c>+PONG</c> (so not while it is
/// still loading its data set, when it answers <c>-LOADING</c>).
/// </summary>
/// <param name="resource">The local Redis resource to probe.</param>
internal sealed class RedisPingHealthCheck(LocalRedisResource resource) : IHealthCheck
{
    private static readonly byte[] Ping = "PING\r\n"u8.ToArray();

    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var endpoint = resource.PrimaryEndpoint;
        if (!endpoint.IsAllocated)
        {
            return HealthCheckResult.Unhealthy("The Redis endpoint is not allocated yet.");
        }

        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Parse(LocalHostingSettings.LoopbackAddress), endpoint.Port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync(Ping, cancellationToken);

            var buffer = new byte[128];
            var read = await stream.ReadAsync(buffer, cancellationToken);
            var reply = Encoding.ASCII.GetString(buffer, 0, read).TrimEnd();
            return reply == "+PONG"
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"PING was answered with '{reply}'.");
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return HealthCheckResult.Unhealthy("Redis did not answer PING.", ex);
        }
    }
}
