using Garnet;
using Microsoft.Extensions.Logging;

namespace Coordination.AppHost.EmbeddedResources;

/// <summary>
/// Owns the Garnet server of the embedded hosting mode: started once when the <c>redis</c> resource is initialised,
/// disposed with the AppHost's service provider (so stopping the AppHost, or a test disposing it, frees the port).
/// </summary>
internal sealed class EmbeddedGarnetServer : IDisposable
{
    /// <summary>What serves <c>redis</c> in embedded mode, as the log and the dashboard name it.</summary>
    public const string ServerDescription = "Microsoft.Garnet 2.2.12 in the AppHost process (Lua in transaction mode)";

    private readonly Lock _gate = new();
    private GarnetServer? _server;
    private DirectoryInfo? _directory;
    private bool _disposed;

    /// <summary>Starts Garnet on 127.0.0.1:<paramref name="port"/> with a password, Lua scripting and atomic scripts.</summary>
    /// <remarks>
    /// <c>--lua-transaction-mode</c> is not optional: without it Garnet runs a script's commands without isolation from
    /// other clients, and two callers can both win a lock. <c>-m</c> bounds the in-memory log, <c>--index</c> the hash
    /// index. <c>--storage-tier</c> is not optional either: without it Garnet is a pure in-memory store that drops the
    /// oldest records once its memory is full (a lock or a session would vanish without an error); with it they go to
    /// a folder of this run (<c>--device-type RandomAccess</c>: .NET's own file I/O, no libaio needed), removed when the
    /// server stops. Nothing survives a restart, like a fresh container each run.
    /// </remarks>
    /// <param name="port">The loopback port.</param>
    /// <param name="password">The password clients must give (<c>AUTH</c>).</param>
    /// <param name="memory">Garnet's log memory size (Garnet syntax, e.g. <c>256m</c>).</param>
    /// <param name="loggerFactory">Where Garnet logs (warnings and above reach the AppHost's console).</param>
    /// <exception cref="InvalidOperationException">It was started already.</exception>
    public void Start(int port, string password, string memory, ILoggerFactory loggerFactory)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        ArgumentException.ThrowIfNullOrEmpty(memory);
        ArgumentNullException.ThrowIfNull(loggerFactory);

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_server is not null)
            {
                throw new InvalidOperationException("The embedded Garnet server was started already.");
            }

            _directory = Directory.CreateTempSubdirectory("coordination-garnet-");
            string[] arguments =
            [
                "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--bind", LocalResources.LocalHostingSettings.LoopbackAddress,
                "--lua", "--lua-transaction-mode",
                "--auth", "Password", "--password", password,
                "-m", memory,
                "--index", "16m",
                "--storage-tier", "--logdir", _directory.FullName, "--device-type", "RandomAccess",
                "-q",
            ];
            var server = new GarnetServer(arguments, loggerFactory);
            try
            {
                server.Start();
            }
            catch
            {
                server.Dispose();
                throw;
            }

            _server = server;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _server?.Dispose();
            _server = null;
            try
            {
                _directory?.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A file still held: it lives in the temporary folder, which the system cleans.
            }

            _directory = null;
        }
    }
}
