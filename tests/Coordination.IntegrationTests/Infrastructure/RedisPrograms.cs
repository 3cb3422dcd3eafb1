namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// The server and command-line programs the tests run, chosen by <see cref="RedisServer.ServerVariable"/>: unset or
/// <c>redis</c>, <c>redis-server</c> and <c>redis-cli</c>; <c>valkey</c>, <c>valkey-server</c> and <c>valkey-cli</c>
/// (Valkey 8, the open-source continuation of Redis 7.2); <c>garnet</c> runs the standalone servers as Garnet
/// (<see cref="RedisServer"/>) and everything else with redis-server.
/// </summary>
public static class RedisPrograms
{
    /// <summary>Gets whether the tests run on Valkey.</summary>
    public static bool IsValkey =>
        string.Equals(Environment.GetEnvironmentVariable(RedisServer.ServerVariable), "valkey", StringComparison.OrdinalIgnoreCase);

    /// <summary>Gets the server program (also run with <c>--sentinel</c> for sentinels).</summary>
    public static string Server => IsValkey ? "valkey-server" : "redis-server";

    /// <summary>Gets the command-line client.</summary>
    public static string Cli => IsValkey ? "valkey-cli" : "redis-cli";
}
