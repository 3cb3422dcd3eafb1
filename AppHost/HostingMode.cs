namespace Coordination.AppHost;

/// <summary>How the AppHost runs Redis (and, through <see cref="PostgresHosting"/>, PostgreSQL).</summary>
internal enum HostingMode
{
    /// <summary>Containers through Aspire's Redis and PostgreSQL integrations (Docker or Podman).</summary>
    Container,

    /// <summary>
    /// Executables on this machine: <c>redis-server</c> from PATH and PostgreSQL from its
    /// binaries, under the same resource names as in container mode.
    /// </summary>
    Local,

    /// <summary>
    /// Nothing from this machine: Redis is served by Garnet (Microsoft.Garnet) inside the AppHost's process, and there
    /// is no PostgreSQL fallback unless the PostgreSQL binaries exist (see <see cref="PostgresHosting"/>).
    /// </summary>
    Embedded,
}

/// <summary>How the AppHost runs PostgreSQL, the fallback store.</summary>
internal enum PostgresHosting
{
    /// <summary>A container through Aspire's PostgreSQL integration.</summary>
    Container,

    /// <summary>The PostgreSQL binaries of this machine, through <c>LocalResources/postgres-local.sh</c>.</summary>
    Local,

    /// <summary>
    /// No PostgreSQL: the api and the worker get no <c>ConnectionStrings__coordinationdb</c> and run without the
    /// fallback; the <c>postgres</c> resource only says so on the dashboard.
    /// </summary>
    None,
}
