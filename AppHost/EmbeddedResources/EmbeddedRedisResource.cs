using System.Globalization;
using Coordination.AppHost.LocalResources;

namespace Coordination.AppHost.EmbeddedResources;

/// <summary>
/// A Redis-compatible server (Garnet) run inside the AppHost's own process, for machines with neither a container
/// runtime nor <c>redis-server</c>. Its connection string is <c>127.0.0.1:port,password=..</c>, as for a local
/// redis-server, so the services cannot tell the difference in configuration.
/// </summary>
/// <param name="name">The resource name (also the connection string name).</param>
/// <param name="port">The loopback port the server listens on.</param>
/// <param name="password">The secret parameter holding the server's password.</param>
internal sealed class EmbeddedRedisResource(string name, int port, ParameterResource password)
    : Resource(name), IResourceWithConnectionString, IResourceWithWaitSupport
{
    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; } = port;

    /// <summary>The server's password; it has no special characters (see AppHost.cs).</summary>
    public ParameterResource PasswordParameter { get; } = password ?? throw new ArgumentNullException(nameof(password));

    /// <summary>The connection string: <c>127.0.0.1:port,password=..</c>.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create(
            $"{LocalHostingSettings.LoopbackAddress}:{Port.ToString(CultureInfo.InvariantCulture)},password={PasswordParameter}");
}
