using System.Globalization;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>A snapshot of the server's own counters: commands processed and CPU seconds used.</summary>
internal readonly record struct RedisStats(long Commands, double CpuSeconds)
{
    public static async Task<RedisStats> ReadAsync(IServer server)
    {
        var info = (await server.InfoAsync()).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return new RedisStats(
            long.Parse(info["total_commands_processed"], CultureInfo.InvariantCulture),
            double.Parse(info["used_cpu_user"], CultureInfo.InvariantCulture) + double.Parse(info["used_cpu_sys"], CultureInfo.InvariantCulture));
    }

    public RedisStats Since(RedisStats before) => new(Commands - before.Commands, CpuSeconds - before.CpuSeconds);

    public RedisStats Add(RedisStats other) => new(Commands + other.Commands, CpuSeconds + other.CpuSeconds);
}
