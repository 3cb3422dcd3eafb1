using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.AppHost.LocalResources;

/// <summary>
/// Healthy when the Redis server accepts the password (<c>AUTH</c>) and answers <c>PING</c> with
/// <c>+PONG</c> (so not while it is still loading its data set, when it answers <c>-LOADING</c>).
/// </summary>
/// <param name="port">The server's loopback port, or <see langword="null"/> while it is not allocated yet.</param>
/// <param name="password">The server's password parameter.</param>
internal sealed class RedisPingHealthCheck(Func<int?> port, ParameterResource password) : IHealthCheck
{
    /// <summary>Probes a local redis-server resource.</summary>
    /// <param name="resource">The local Redis resource to probe.</param>
    public RedisPingHealthCheck(LocalRedisResource resource)
        : this(() => resource.PrimaryEndpoint.IsAllocated ? resource.PrimaryEndpoint.Port : null, resource.PasswordParameter)
    {
    }

    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (port() is not { } serverPort)
        {
            return HealthCheckResult.Unhealthy("The Redis endpoint is not allocated yet.");
        }

        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Parse(LocalHostingSettings.LoopbackAddress), serverPort, cancellationToken);
            var secret = await password.GetValueAsync(cancellationToken);
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
            // RESP arrays, not inline commands: Garnet (the embedded mode) reads only the former.
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"*2\r\n$4\r\nAUTH\r\n${Encoding.ASCII.GetByteCount(secret ?? string.Empty)}\r\n{secret}\r\n*1\r\n$4\r\nPING\r\n"), cancellationToken);

            // The AUTH reply is not echoed: it could only say the password was refused.
            var auth = await reader.ReadLineAsync(cancellationToken);
            if (auth != "+OK")
            {
                return HealthCheckResult.Unhealthy("Redis refused the password.");
            }

            var reply = await reader.ReadLineAsync(cancellationToken);
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
