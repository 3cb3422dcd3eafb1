using System.Globalization;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Duties;

/// <summary>duty_begin.lua and duty_record.lua on a real redis-server: the state JSON, its dates and the shared schedule.</summary>
public sealed class DutyStateScriptTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(0L)] // 1970-01-01T00:00:00.000Z
    [InlineData(951_782_400_000L)] // 2000-02-29, a leap day of a century leap year
    [InlineData(1_709_251_199_999L)] // 2024-02-29T23:59:59.999Z
    [InlineData(1_735_689_600_001L)] // 2025-01-01T00:00:00.001Z
    [InlineData(4_107_542_400_000L)] // 2100-03-01, after a century that is not a leap year
    public async Task Record_WritesIsoUtcDates_AsDotNetFormatsThem(long startedMs)
    {
        var prefix = TestKeys.NewPrefix();
        var db = (await redis.GetAdminAsync()).GetDatabase();

        await RecordAsync(db, prefix, "probe", startedMs, intervalMs: 1000, failed: false);

        using var state = JsonDocument.Parse((string)(await db.HashGetAsync(DutyKeys.State(prefix), "probe"))!);
        var expected = DateTimeOffset.FromUnixTimeMilliseconds(startedMs).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        Assert.Equal(expected, state.RootElement.GetProperty("lastRunStartedAt").GetString());
    }

    [Fact]
    public async Task BeginAndRecord_ShareTheScheduleAndCountOverCalls()
    {
        var prefix = TestKeys.NewPrefix();
        var db = (await redis.GetAdminAsync()).GetDatabase();
        var schedule = $"{prefix}:#duties:{{{prefix}:#duties}}:schedule";

        var (now, due) = await BeginAsync(db, schedule);
        Assert.Equal(0, due); // never ran: due at once

        var recorded = (long[])(await RecordAsync(db, prefix, "probe", now, intervalMs: 60_000, failed: true))!;
        Assert.Equal(now + 60_000, recorded[1]);
        Assert.Equal([1L, 1L], recorded[2..]);
        (_, due) = await BeginAsync(db, schedule);
        Assert.Equal(now + 60_000, due);

        recorded = (long[])(await RecordAsync(db, prefix, "probe", now, intervalMs: 60_000, failed: false))!;
        Assert.Equal([2L, 1L], recorded[2..]);
        using var state = JsonDocument.Parse((string)(await db.HashGetAsync(DutyKeys.State(prefix), "probe"))!);
        Assert.Equal("ok", state.RootElement.GetProperty("result").GetString());
        Assert.Equal(2, state.RootElement.GetProperty("runs").GetInt64());
        Assert.Equal(1, state.RootElement.GetProperty("failures").GetInt64());

        // Both hashes expire (30 days after the last run), so a prefix that is no longer used leaves nothing behind.
        Assert.InRange((await db.KeyTimeToLiveAsync(DutyKeys.State(prefix)))!.Value, TimeSpan.FromDays(29), TimeSpan.FromDays(30));
        Assert.InRange((await db.KeyTimeToLiveAsync(schedule))!.Value, TimeSpan.FromDays(29), TimeSpan.FromDays(30));
    }

    [Fact]
    public void StateKey_IsInThePlatformNamespace_AndRejectsBadPrefixes()
    {
        Assert.Equal("app:#duties:{app:#duties}:state", DutyKeys.State("app"));
        Assert.Throws<ArgumentException>(() => DutyKeys.State("a:b"));
    }

    private static async Task<(long Now, long Due)> BeginAsync(IDatabase db, string schedule)
    {
        var values = (long[])(await RedisScript.DutyBegin.EvaluateAsync(db, [schedule], ["probe"]))!;
        return (values[0], values[1]);
    }

    private static Task<RedisResult> RecordAsync(IDatabase db, string prefix, string name, long startedMs, long intervalMs, bool failed) =>
        RedisScript.DutyRecord.EvaluateAsync(
            db,
            [DutyKeys.State(prefix), $"{prefix}:#duties:{{{prefix}:#duties}}:schedule"],
            [name, JsonSerializer.Serialize(name), "\"node-1\"", startedMs, intervalMs, failed ? "failed" : "ok", failed ? "\"InvalidOperationException\"" : "null", (long)TimeSpan.FromDays(30).TotalMilliseconds]);
}
