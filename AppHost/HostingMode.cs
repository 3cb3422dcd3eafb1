namespace Coordination.AppHost;

/// <summary>How the AppHost runs Redis and PostgreSQL.</summary>
internal enum HostingMode
{
    /// <summary>Containers through Aspire's Redis and PostgreSQL integrations (Docker or Podman).</summary>
    Container,

    /// <summary>
    /// Executables on this machine: <c>redis-server</c> from PATH and PostgreSQL from its
    /// binaries, under the same resource names as in container mode.
    /// </summary>
    Local,
}
