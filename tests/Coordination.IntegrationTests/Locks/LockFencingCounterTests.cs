using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Locks;

/// <summary>
/// The fencing counter of a lock name against a real redis-server: it expires (a tenant's lock names do not pile up
/// for ever), yet the tokens of a name keep increasing. The rule (docs/locks.md, "Fencing tokens"): every increment
/// sets the counter to expire 62 days plus however far its value is ahead of Redis's clock in seconds, and a missing
/// counter starts from that clock. So the counter can only expire once the clock is 62 days past its value, and the
/// restart is above every token it gave. The expiry is written only when fewer than 31 days plus the counter's lead on
/// the clock are left. Redis's clock cannot be moved forward, so the tests check the invariant (expiry time >= last
/// token + 31 days, and at least 31 days left) after each acquisition, and the restart after an expiry.
/// </summary>
public sealed class LockFencingCounterTests(SharedRedisFixture redis) : IAsyncLifetime
{
    private static readonly TimeSpan CounterLifetime = TimeSpan.FromDays(62);

    private static readonly TimeSpan LeastLifeLeft = TimeSpan.FromDays(31);

    private LockHosts _hosts = null!;
    private IDatabase _admin = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _hosts = await LockHosts.StartAsync(redis.ConnectionString, count: 1);
        _admin = (await redis.GetAdminAsync()).GetDatabase();
    }

    public async ValueTask DisposeAsync() => await _hosts.DisposeAsync();

    public static TheoryData<bool> Layouts => new() { false, true };

    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task NewName_CounterStartsAtRedisClockAndOutlivesAnyHold(bool general)
    {
        var name = Name("new", general);
        var before = await RedisSecondsAsync();
        var fence = await AcquireAndReleaseAsync(name, general);
        var after = await RedisSecondsAsync();

        Assert.InRange(fence, before, after);
        await AssertExpiresFarBeyondAsync(name, fence);

        // Counted by one from there, each increment pushing the expiry on.
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(fence + i, await AcquireAndReleaseAsync(name, general));
            await AssertExpiresFarBeyondAsync(name, fence + i);
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task CounterAheadOfTheClock_ExpiresOnlyAfterTheClockPassesItsValue(bool general)
    {
        // A hot lock (more than one acquisition a second on average) runs its counter ahead of the clock.
        const long Ahead = 1_000_000;
        var name = Name("ahead", general);
        var start = await RedisSecondsAsync() + Ahead;
        await _admin.StringSetAsync(Counter(name), start);

        Assert.Equal(start + 1, await AcquireAndReleaseAsync(name, general));
        Assert.Equal(start + 2, await AcquireAndReleaseAsync(name, general));
        var ttl = await _admin.KeyTimeToLiveAsync(Counter(name));
        Assert.NotNull(ttl);
        Assert.True(ttl >= CounterLifetime + TimeSpan.FromSeconds(Ahead - 5), $"The counter {Ahead} s ahead of the clock expires in {ttl}.");
        await AssertExpiresFarBeyondAsync(name, start + 2);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task CounterWithoutExpiry_GainsOneAndRestartsAboveItsTokensAfterExpiring(bool general)
    {
        // What earlier versions left: a counter that never expires, with a small value.
        var name = Name("old", general);
        await _admin.StringSetAsync(Counter(name), 1000);
        Assert.Null(await _admin.KeyTimeToLiveAsync(Counter(name)));

        Assert.Equal(1001, await AcquireAndReleaseAsync(name, general));
        await AssertExpiresFarBeyondAsync(name, 1001);

        // Its 62 days run out (the expiry brought forward: Redis's clock cannot be moved on).
        await _admin.KeyExpireAsync(Counter(name), TimeSpan.FromMilliseconds(1));
        await ProcessUtil.WaitUntilAsync(async () => !await _admin.KeyExistsAsync(Counter(name)), TimeSpan.FromSeconds(5), "the counter to expire", Token, TimeSpan.FromMilliseconds(5));

        var before = await RedisSecondsAsync();
        var restarted = await AcquireAndReleaseAsync(name, general);
        Assert.True(restarted > 1001, $"The counter restarted at {restarted}, not above the token 1001 it gave before expiring.");
        Assert.InRange(restarted, before, await RedisSecondsAsync());
        await AssertExpiresFarBeyondAsync(name, restarted);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task CounterWithMoreThan31DaysLeft_IsNotRewritten_UnderIsPushedBackTo62(bool general)
    {
        var name = Name("left", general);
        var first = await AcquireAndReleaseAsync(name, general);
        await _admin.KeyExpireAsync(Counter(name), TimeSpan.FromDays(40));
        Assert.Equal(first + 1, await AcquireAndReleaseAsync(name, general));
        var kept = await _admin.KeyTimeToLiveAsync(Counter(name));
        Assert.InRange(kept!.Value, TimeSpan.FromDays(40) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(40));

        await _admin.KeyExpireAsync(Counter(name), TimeSpan.FromDays(30));
        Assert.Equal(first + 2, await AcquireAndReleaseAsync(name, general));
        var pushed = await _admin.KeyTimeToLiveAsync(Counter(name));
        Assert.InRange(pushed!.Value, CounterLifetime - TimeSpan.FromMinutes(1), CounterLifetime + TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task AlternatingLayouts_EveryIncrementKeepsTheExpiryBeyondItsToken()
    {
        var name = Name("mixed", general: false);
        var last = 0L;
        for (var i = 0; i < 8; i++)
        {
            var fence = await AcquireAndReleaseAsync(name, general: i % 2 == 1);
            Assert.True(fence > last, $"Token {fence} after {last}.");
            await AssertExpiresFarBeyondAsync(name, fence);
            last = fence;
        }
    }

    private static string Name(string what, bool general) => what + (general ? "-general" : "-fast");

    private RedisKey Counter(string name) => _hosts[0].RedisKey(name, "lock") + ":fence";

    private async Task<long> AcquireAndReleaseAsync(string name, bool general)
    {
        // A fair acquisition always runs lock_acquire.lua (the general layout); a plain one on a free lock, the fast path.
        await using var handle = await _hosts.Locks(0).AcquireAsync(name, new LockOptions { Fair = general }, Token);
        Assert.Equal(general ? RedisType.Hash : RedisType.String, await _admin.KeyTypeAsync(_hosts[0].RedisKey(name, "lock")));
        return handle.FencingToken;
    }

    /// <summary>
    /// The counter expires no earlier than 31 days after the clock passes <paramref name="fence"/> (a restart from the
    /// clock after it is gone is above every token given), and not within the longest hold's life from now.
    /// </summary>
    private async Task AssertExpiresFarBeyondAsync(string name, long fence)
    {
        var expiresAt = (long)await _admin.ExecuteAsync("EXPIRETIME", Counter(name));
        Assert.True(expiresAt > 0, $"The fencing counter of '{name}' has no expiry ({expiresAt}).");
        Assert.True(expiresAt >= fence + (long)LeastLifeLeft.TotalSeconds, $"The counter expires at {expiresAt} s, before 31 days past its token {fence}.");
        Assert.True(expiresAt - await RedisSecondsAsync() >= (long)LeastLifeLeft.TotalSeconds - 5, "The counter expires sooner than 31 days from now, within a hold's longest life.");
    }

    private async Task<long> RedisSecondsAsync() => (long)((RedisResult[])(await _admin.ExecuteAsync("TIME"))!)[0];
}
