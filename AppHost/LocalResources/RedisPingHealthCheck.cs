using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.AppHost.LocalResources;

/// <summary>
/// Healthy when the Redis server accepts the password (<c>AUTH</c>) and answers <c>PING</c> with
/// <c>+PONG</c> (so not while it is still loading its data set, when it answers <c>-LOADING</c>).
/// </summary>
/// <param name="resource">The local Redis resource to probe.</param>
internal sealed class RedisPingHealthCheck(LocalRedisResource resource) : IHealthCheck
{
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
            var password = await resource.PasswordParameter.GetValueAsync(cancellationToken);
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTH {password}\r\nPING\r\n"), cancellationToken);

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
