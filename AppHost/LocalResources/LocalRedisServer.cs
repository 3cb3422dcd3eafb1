using Microsoft.Extensions.Configuration;

namespace Coordination.AppHost.LocalResources;

/// <summary>The Redis-compatible server program the local hosting mode runs.</summary>
internal static class LocalRedisServer
{
    /// <summary>
    /// Finds the program: <see cref="LocalHostingSettings.RedisServerKey"/> when set (a path, or a name on PATH), else
    /// <c>redis-server</c> on PATH, else <c>valkey-server</c> on PATH (Valkey is the open-source continuation of Redis
    /// 7.2 and reads the same configuration).
    /// </summary>
    /// <param name="configuration">The AppHost configuration.</param>
    /// <returns>The full path, or <see langword="null"/> when none was found.</returns>
    public static string? Locate(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        if (configuration[LocalHostingSettings.RedisServerKey] is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : LocalExecutables.FindOnPath(configured);
        }

        return LocalExecutables.FindOnPath("redis-server") ?? LocalExecutables.FindOnPath("valkey-server");
    }
}
