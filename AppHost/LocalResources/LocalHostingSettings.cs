namespace Coordination.AppHost.LocalResources;

/// <summary>Configuration keys of the local hosting mode (all optional).</summary>
internal static class LocalHostingSettings
{
    /// <summary>
    /// The server program of the local mode: a path or a name on PATH (for example <c>valkey-server</c>); when unset,
    /// <c>redis-server</c> on PATH, else <c>valkey-server</c>.
    /// </summary>
    public const string RedisServerKey = "Coordination:Local:RedisServer";

    /// <summary>Loopback port of the local redis-server; a free port is chosen when unset.</summary>
    public const string RedisPortKey = "Coordination:Local:RedisPort";

    /// <summary>
    /// The local Redis server's <c>maxmemory</c> (redis-server syntax, e.g. <c>256mb</c>); it runs with
    /// <c>maxmemory-policy noeviction</c>, so a full server refuses writes instead of silently dropping locks or
    /// sessions. The default is <see cref="DefaultRedisMaxMemory"/>.
    /// </summary>
    public const string RedisMaxMemoryKey = "Coordination:Local:RedisMaxMemory";

    /// <summary>The default of <see cref="RedisMaxMemoryKey"/>.</summary>
    public const string DefaultRedisMaxMemory = "256mb";

    /// <summary>Loopback port of the local PostgreSQL server; a free port is chosen when unset.</summary>
    public const string PostgresPortKey = "Coordination:Local:PostgresPort";

    /// <summary>
    /// Folder holding <c>initdb</c> and <c>postgres</c>; when unset the newest
    /// <c>/usr/lib/postgresql/*/bin</c>, then <c>pg_config --bindir</c>, then PATH are tried.
    /// </summary>
    public const string PostgresBinDirectoryKey = "Coordination:Local:PostgresBinDirectory";

    /// <summary>
    /// Root folder of the local servers' data; by default a folder per checkout under the
    /// system temporary folder, kept between runs so PostgreSQL is initialised only once.
    /// </summary>
    public const string DataDirectoryKey = "Coordination:Local:DataDirectory";

    /// <summary>The address the local servers listen on and the connection strings name.</summary>
    public const string LoopbackAddress = "127.0.0.1";
}
