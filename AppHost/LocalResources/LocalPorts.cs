using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace Coordination.AppHost.LocalResources;

/// <summary>Ports of the local servers.</summary>
internal static class LocalPorts
{
    /// <summary>
    /// Returns the port configured under <paramref name="key"/>, or a loopback port that is free
    /// right now.
    /// </summary>
    /// <remarks>
    /// The local servers' endpoints are not proxied by Aspire (clients see the real server, so a
    /// stopped or hung server looks like one), and DCP does not allocate ports for unproxied
    /// endpoints: the AppHost picks one. Another process could take it before the server binds;
    /// the server then fails to start with "Address already in use" and a rerun picks another.
    /// </remarks>
    /// <param name="configuration">The AppHost configuration.</param>
    /// <param name="key">The configuration key of a fixed port.</param>
    /// <returns>A TCP port number.</returns>
    /// <exception cref="InvalidOperationException">The configured value is not a port number.</exception>
    public static int ConfiguredOrFree(IConfiguration configuration, string key)
    {
        var configured = configuration[key];
        if (string.IsNullOrWhiteSpace(configured))
        {
            return GetFreeLoopbackPort();
        }

        if (int.TryParse(configured, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            && port is > 0 and <= IPEndPoint.MaxPort)
        {
            return port;
        }

        throw new InvalidOperationException($"{key} must be a TCP port number (1-65535), not '{configured}'.");
    }

    private static int GetFreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
