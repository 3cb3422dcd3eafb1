using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Coordination.AppHost.LocalResources;

/// <summary>Finds the folder of PostgreSQL's server programs (<c>initdb</c>, <c>postgres</c>).</summary>
internal static class PostgresBinaries
{
    // Debian and Ubuntu install each major version under /usr/lib/postgresql/<major>/bin and put
    // only the client wrappers on PATH.
    private const string DebianRoot = "/usr/lib/postgresql";

    private static readonly TimeSpan PgConfigTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Returns the configured folder, else the newest <c>/usr/lib/postgresql/*/bin</c>, else
    /// <c>pg_config --bindir</c>, else the folder of <c>initdb</c> on PATH.
    /// </summary>
    /// <param name="configuration">The AppHost configuration.</param>
    /// <returns>The folder holding <c>initdb</c> and <c>postgres</c>.</returns>
    /// <exception cref="DistributedApplicationException">No such folder was found.</exception>
    public static string Locate(IConfiguration configuration) =>
        TryLocate(configuration)
        ?? throw new DistributedApplicationException(
            "Local hosting mode needs the PostgreSQL server programs (Debian: apt-get install postgresql); "
            + $"set {LocalHostingSettings.PostgresBinDirectoryKey} to their folder if they are elsewhere, "
            + $"or use a container runtime with {HostingModeResolver.ConfigurationKey}=container.");

    /// <summary>Like <see cref="Locate"/>, but <see langword="null"/> when no folder was found.</summary>
    /// <param name="configuration">The AppHost configuration.</param>
    /// <returns>The folder holding <c>initdb</c> and <c>postgres</c>, or <see langword="null"/>.</returns>
    /// <exception cref="DistributedApplicationException">The configured folder holds no server programs.</exception>
    public static string? TryLocate(IConfiguration configuration)
    {
        var configured = configuration[LocalHostingSettings.PostgresBinDirectoryKey];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return HasServerPrograms(configured)
                ? configured
                : throw new DistributedApplicationException(
                    $"{LocalHostingSettings.PostgresBinDirectoryKey}='{configured}' holds no initdb and postgres.");
        }

        if (Directory.Exists(DebianRoot))
        {
            var newest = Directory.EnumerateDirectories(DebianRoot)
                .Select(version => (Bin: Path.Combine(version, "bin"), Major: ParseMajor(Path.GetFileName(version))))
                .Where(candidate => HasServerPrograms(candidate.Bin))
                .OrderByDescending(candidate => candidate.Major)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        if (LocalExecutables.FindOnPath("pg_config") is { } pgConfig
            && LocalExecutables.RunAndCapture(pgConfig, "--bindir", PgConfigTimeout, out _)?.Trim() is { Length: > 0 } bindir
            && HasServerPrograms(bindir))
        {
            return bindir;
        }

        if (LocalExecutables.FindOnPath("initdb") is { } initdb
            && Path.GetDirectoryName(initdb) is { } directory
            && HasServerPrograms(directory))
        {
            return directory;
        }

        return null;
    }

    private static bool HasServerPrograms(string directory) =>
        File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "postgres"));

    private static int ParseMajor(string? folderName) =>
        int.TryParse(folderName, NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : -1;
}
