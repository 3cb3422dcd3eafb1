using System.Security.Cryptography;
using System.Text;

namespace Coordination.AppHost.LocalResources;

/// <summary>Where the local servers keep their files.</summary>
internal static class LocalDirectories
{
    // rwxr-xr-x: PostgreSQL runs as the "postgres" user when the AppHost runs as root and
    // must be able to walk down to its data folder.
    private const UnixFileMode Traversable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Creates (when missing) and returns the folder of one local resource.</summary>
    /// <param name="builder">The AppHost builder.</param>
    /// <param name="resourceName">The resource's name, used as the folder name.</param>
    /// <returns>The folder's full path.</returns>
    /// <exception cref="PlatformNotSupportedException">On Windows, where local mode is not supported.</exception>
    public static string ForResource(IDistributedApplicationBuilder builder, string resourceName)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(
                "The local hosting mode runs Linux/macOS servers; use a container runtime on Windows.");
        }

        var root = builder.Configuration[LocalHostingSettings.DataDirectoryKey];
        if (string.IsNullOrWhiteSpace(root))
        {
            // One folder per checkout, so two clones (or CI beside a developer) never share data.
            var checkout = SHA256.HashData(Encoding.UTF8.GetBytes(builder.AppHostDirectory));
            root = Path.Combine(Path.GetTempPath(), "coordination-apphost-" + Convert.ToHexStringLower(checkout)[..12]);
        }

        var directory = Path.GetFullPath(Path.Combine(root, resourceName));
        Directory.CreateDirectory(root, Traversable);
        Directory.CreateDirectory(directory, Traversable);
        return directory;
    }
}
