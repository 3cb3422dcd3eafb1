using Coordination.AppHost.LocalResources;
using Microsoft.Extensions.Configuration;

namespace Coordination.AppHost;

/// <summary>What the machine offers, as <see cref="HostingModeResolver"/> asks it (replaceable in tests).</summary>
internal interface IHostingProbes
{
    /// <summary>Whether a container runtime answers <c>info</c>.</summary>
    /// <param name="runtime">The runtime's program, <c>docker</c> or <c>podman</c>.</param>
    /// <param name="finding">Why not, when it does not.</param>
    /// <returns><see langword="true"/> when it answered.</returns>
    bool ContainerRuntimeAnswers(string runtime, out string finding);

    /// <summary>Whether a local Redis server program is there (<c>redis-server</c> or <c>valkey-server</c>, see <see cref="LocalRedisServer"/>).</summary>
    /// <returns><see langword="true"/> when it is.</returns>
    bool HasRedisServer();

    /// <summary>Whether the PostgreSQL server programs (<c>initdb</c>, <c>postgres</c>) were found.</summary>
    /// <returns><see langword="true"/> when they were.</returns>
    bool HasPostgresBinaries();
}

/// <summary>The probes of this machine.</summary>
/// <param name="configuration">The AppHost configuration (for <see cref="LocalHostingSettings.RedisServerKey"/> and <see cref="LocalHostingSettings.PostgresBinDirectoryKey"/>).</param>
internal sealed class MachineHostingProbes(IConfiguration configuration) : IHostingProbes
{
    // `docker info` against a missing daemon fails in milliseconds; a wedged daemon must not
    // hold the AppHost's start for long.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <inheritdoc/>
    public bool ContainerRuntimeAnswers(string runtime, out string finding)
    {
        var path = LocalExecutables.FindOnPath(runtime);
        if (path is null)
        {
            finding = "not on PATH";
            return false;
        }

        if (LocalExecutables.RunAndCapture(path, "info", ProbeTimeout, out var failure) is null)
        {
            finding = $"'info' {failure}";
            return false;
        }

        finding = string.Empty;
        return true;
    }

    /// <inheritdoc/>
    public bool HasRedisServer() => LocalRedisServer.Locate(configuration) is not null;

    /// <inheritdoc/>
    public bool HasPostgresBinaries() => PostgresBinaries.TryLocate(configuration) is not null;
}
