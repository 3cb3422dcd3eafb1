using System.Globalization;
using Coordination.Benchmarks;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.Chaos;

/// <summary>Faults on the run's redis-server: signals to its process (pid from INFO), commands through redis-cli.</summary>
internal sealed class RedisControl(RedisServerProcess server)
{
    private int _life;

    /// <summary>Which server life answered: incremented when the server is killed, so counts of a lost life are kept apart.</summary>
    public int Life => Volatile.Read(ref _life);

    public RedisServerProcess Server => server;

    public Task<string> CliAsync(params string[] arguments) =>
        ProcessUtil.RunAsync("redis-cli", ["-h", "127.0.0.1", "-p", server.Port.ToString(CultureInfo.InvariantCulture), .. arguments], TimeSpan.FromSeconds(10));

    public async Task<Dictionary<string, string>> InfoServerAsync() =>
        (await CliAsync("INFO", "server")).Split('\n')
            .Select(line => line.Trim().Split(':', 2))
            .Where(field => field.Length == 2)
            .GroupBy(field => field[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);

    /// <summary>The server's process id, from <c>INFO server</c> (read before a SIGSTOP: a stopped server answers nothing).</summary>
    public async Task<int> ProcessIdAsync() => int.Parse((await InfoServerAsync())["process_id"], CultureInfo.InvariantCulture);

    /// <summary>kill -9: the server dies at once, nothing persisted (the run's server has no persistence).</summary>
    public void Kill()
    {
        server.Kill();
        Interlocked.Increment(ref _life);
    }

    public Task RestartAsync(CancellationToken cancellationToken) => server.RestartAsync(cancellationToken);
}
