using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests;

/// <summary>Key/value calls of <see cref="IRedisCoordinator"/> against a real Redis.</summary>
public sealed class RedisCoordinatorTests(SharedRedisFixture redis) : IAsyncLifetime
{
    private const int MaxValueBytes = 4096;
    private CoordinationTestHost _host = null!;

    private IRedisCoordinator Coordinator => _host.Coordinator;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            settings: [new("Coordination:MaxValueBytes", MaxValueBytes.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task SetAsync_ThenGetAsync_ReturnsTheValueStoredUnderTheNamespacedKey()
    {
        await Coordinator.SetAsync("greeting", "hello", cancellationToken: Token);

        var read = await Coordinator.GetAsync<string>("greeting", Token);

        Assert.True(read.HasValue);
        Assert.Equal("hello", read.Value);
        Assert.False(read.FromFallback);
        Assert.Null(read.TimeToLive);

        var admin = (await redis.GetAdminAsync()).GetDatabase();
        Assert.Equal("\"hello\"", (string?)await admin.StringGetAsync(_host.RedisKey("greeting")));
        Assert.Null(await admin.KeyTimeToLiveAsync(_host.RedisKey("greeting")));
    }

    [Fact]
    public async Task GetAsync_MissingKey_ReturnsNoValue()
    {
        var read = await Coordinator.GetAsync<string>("never-written", Token);

        Assert.False(read.HasValue);
        Assert.Null(read.Value);
    }

    [Fact]
    public async Task SetAsync_WithTimeToLive_ExpiresAndReportsRemainingTtl()
    {
        // Warm the paths up (JIT, script load) so that the 200 ms are not spent on the first call.
        await Coordinator.SetAsync("warm-up", 0, TimeSpan.FromSeconds(5), Token);
        await Coordinator.GetWithTimeToLiveAsync<int>("warm-up", Token);

        var written = System.Diagnostics.Stopwatch.StartNew();
        await Coordinator.SetAsync("short-lived", 42, TimeSpan.FromMilliseconds(200), Token);
        var fresh = await Coordinator.GetWithTimeToLiveAsync<int>("short-lived", Token);
        var elapsed = written.Elapsed;

        Assert.True(fresh.HasValue, $"gone {elapsed.TotalMilliseconds} ms after a 200 ms TTL write");
        Assert.Equal(42, fresh.Value);
        Assert.NotNull(fresh.TimeToLive);
        var lowest = TimeSpan.FromMilliseconds(Math.Max(1, 200 - elapsed.TotalMilliseconds - 5));
        Assert.InRange(fresh.TimeToLive!.Value, lowest, TimeSpan.FromMilliseconds(200));

        await Task.Delay(TimeSpan.FromMilliseconds(400), Token);

        Assert.False((await Coordinator.GetAsync<int>("short-lived", Token)).HasValue);
        Assert.False((await Coordinator.GetWithTimeToLiveAsync<int>("short-lived", Token)).HasValue);
    }

    [Fact]
    public async Task GetWithTimeToLiveAsync_KeyWithoutTtl_ReportsNullTtl()
    {
        await Coordinator.SetAsync("forever", "x", cancellationToken: Token);

        var read = await Coordinator.GetWithTimeToLiveAsync<string>("forever", Token);

        Assert.True(read.HasValue);
        Assert.Equal("x", read.Value);
        Assert.Null(read.TimeToLive);
    }

    [Fact]
    public async Task SetAsync_ExistingKey_OverwritesValueAndTtl()
    {
        await Coordinator.SetAsync("counter", 1, TimeSpan.FromMilliseconds(300), Token);
        await Coordinator.SetAsync("counter", 2, cancellationToken: Token);

        var read = await Coordinator.GetWithTimeToLiveAsync<int>("counter", Token);
        Assert.Equal(2, read.Value);
        Assert.Null(read.TimeToLive);

        // The second write dropped the first one's TTL: the key outlives it.
        await Task.Delay(TimeSpan.FromMilliseconds(450), Token);
        Assert.Equal(2, (await Coordinator.GetAsync<int>("counter", Token)).Value);
    }

    [Fact]
    public async Task DeleteAsync_ReturnsWhetherTheKeyExisted()
    {
        await Coordinator.SetAsync("doomed", "bye", cancellationToken: Token);

        Assert.True(await Coordinator.DeleteAsync("doomed", Token));
        Assert.False((await Coordinator.GetAsync<string>("doomed", Token)).HasValue);
        Assert.False(await Coordinator.DeleteAsync("doomed", Token));
        Assert.False(await Coordinator.DeleteAsync("never-existed", Token));
    }

    [Fact]
    public async Task SetAsync_ValuesOfSeveralTypes_RoundTripUnchanged()
    {
        var order = new Order(Guid.NewGuid(), "widget ✓ ünïcödé", 3, 19.99m, new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)), ["a", "b"]);
        var map = new Dictionary<string, int> { ["one"] = 1, ["two"] = 2 };
        byte[] blob = [0, 1, 2, 254, 255];

        await Coordinator.SetAsync("int", int.MinValue, cancellationToken: Token);
        await Coordinator.SetAsync("long", long.MaxValue, cancellationToken: Token);
        await Coordinator.SetAsync("double", 3.141592653589793, cancellationToken: Token);
        await Coordinator.SetAsync("bool", true, cancellationToken: Token);
        await Coordinator.SetAsync("empty-string", string.Empty, cancellationToken: Token);
        await Coordinator.SetAsync("guid", order.Id, cancellationToken: Token);
        await Coordinator.SetAsync("record", order, cancellationToken: Token);
        await Coordinator.SetAsync("map", map, cancellationToken: Token);
        await Coordinator.SetAsync("blob", blob, cancellationToken: Token);
        await Coordinator.SetAsync<string?>("null", null, cancellationToken: Token);

        Assert.Equal(int.MinValue, (await Coordinator.GetAsync<int>("int", Token)).Value);
        Assert.Equal(long.MaxValue, (await Coordinator.GetAsync<long>("long", Token)).Value);
        Assert.Equal(3.141592653589793, (await Coordinator.GetAsync<double>("double", Token)).Value);
        Assert.True((await Coordinator.GetAsync<bool>("bool", Token)).Value);
        Assert.Equal(string.Empty, (await Coordinator.GetAsync<string>("empty-string", Token)).Value);
        Assert.Equal(order.Id, (await Coordinator.GetAsync<Guid>("guid", Token)).Value);
        var readOrder = (await Coordinator.GetAsync<Order>("record", Token)).Value;
        Assert.NotNull(readOrder);
        Assert.Equal(order with { Tags = readOrder.Tags }, readOrder);
        Assert.Equal(order.Tags, readOrder.Tags);
        Assert.Equal(map, (await Coordinator.GetAsync<Dictionary<string, int>>("map", Token)).Value);
        Assert.Equal(blob, (await Coordinator.GetAsync<byte[]>("blob", Token)).Value);
        var readNull = await Coordinator.GetAsync<string?>("null", Token);
        Assert.True(readNull.HasValue);
        Assert.Null(readNull.Value);
    }

    [Fact]
    public async Task GetAsync_StoredValueOfAnotherType_ThrowsSerializationExceptionAndKeepsValue()
    {
        await Coordinator.SetAsync("text", "not a number", cancellationToken: Token);

        await Assert.ThrowsAsync<CoordinationSerializationException>(async () => await Coordinator.GetAsync<int>("text", Token));
        Assert.Equal("not a number", (await Coordinator.GetAsync<string>("text", Token)).Value);
    }

    public static TheoryData<string, string> InvalidKeys => new()
    {
        { string.Empty, "empty" },
        { new string('k', 513), "513 ASCII bytes" },
        { new string('é', 257), "514 UTF-8 bytes in 257 characters" },
        { "line\nbreak", "control character LF" },
        { "nul\0byte", "control character NUL" },
        { "bell\u0007", "control character BEL" },
        { "half\uD800surrogate", "unpaired surrogate" },
    };

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task AllCalls_InvalidKey_ThrowArgumentExceptionAndStoreNothing(string key, string why)
    {
        Assert.NotNull(why);
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Coordinator.SetAsync(key, "v", cancellationToken: Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Coordinator.GetAsync<string>(key, Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Coordinator.GetWithTimeToLiveAsync<string>(key, Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Coordinator.DeleteAsync(key, Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Coordinator.LockAsync(key, cancellationToken: Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Coordinator.UnlockAsync(key, Token));

        Assert.Empty(await KeysOfThisTestAsync());
    }

    [Fact]
    public async Task SetAsync_KeyOfExactly512Bytes_IsAccepted()
    {
        var key = new string('k', 512);

        await Coordinator.SetAsync(key, "edge", cancellationToken: Token);

        Assert.Equal("edge", (await Coordinator.GetAsync<string>(key, Token)).Value);
    }

    [Fact]
    public async Task SetAsync_ValueOverMaxValueBytes_ThrowsArgumentExceptionAndKeepsExistingValue()
    {
        await Coordinator.SetAsync("bounded", "original", TimeSpan.FromMinutes(5), Token);
        var tooLarge = new string('x', MaxValueBytes); // serialized with quotes: MaxValueBytes + 2 bytes

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Coordinator.SetAsync("bounded", tooLarge, cancellationToken: Token));

        Assert.Equal("value", error.ParamName);
        var read = await Coordinator.GetWithTimeToLiveAsync<string>("bounded", Token);
        Assert.Equal("original", read.Value);
        Assert.NotNull(read.TimeToLive);

        // A value exactly at the limit is accepted.
        var atLimit = new string('y', MaxValueBytes - 2);
        await Coordinator.SetAsync("bounded", atLimit, cancellationToken: Token);
        Assert.Equal(atLimit, (await Coordinator.GetAsync<string>("bounded", Token)).Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task SetAsync_TimeToLiveBelowOneMillisecond_ThrowsAndStoresNothing(int milliseconds)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await Coordinator.SetAsync("ttl", "v", TimeSpan.FromMilliseconds(milliseconds), Token));

        Assert.Empty(await KeysOfThisTestAsync());
    }

    [Fact]
    public async Task ForTenant_DifferentTenants_CannotSeeEachOthersKeys()
    {
        var a = _host.Factory.ForTenant("a");
        var b = _host.Factory.ForTenant("b");
        Assert.Same(a, _host.Factory.ForTenant("a"));

        await b.SetAsync("shared-name", "b's secret", cancellationToken: Token);

        Assert.False((await a.GetAsync<string>("shared-name", Token)).HasValue);
        Assert.False(await a.DeleteAsync("shared-name", Token));
        Assert.Equal("b's secret", (await b.GetAsync<string>("shared-name", Token)).Value);

        await a.SetAsync("shared-name", "a's own", cancellationToken: Token);
        Assert.Equal("b's secret", (await b.GetAsync<string>("shared-name", Token)).Value);
        Assert.Equal("a's own", (await a.GetAsync<string>("shared-name", Token)).Value);

        // A name that looks like another tenant's full key stays inside the caller's namespace.
        await a.SetAsync($"..:{_host.KeyPrefix}:b:kv:shared-name", "escape attempt", cancellationToken: Token);
        Assert.Equal("b's secret", (await b.GetAsync<string>("shared-name", Token)).Value);

        // The key quota is off by default, so the values are all there is (KeyQuotaTests covers the tenants' ledgers).
        var keys = await KeysOfThisTestAsync();
        Assert.All(keys, k => Assert.True(
            k.StartsWith($"{_host.KeyPrefix}:a:kv:", StringComparison.Ordinal) || k.StartsWith($"{_host.KeyPrefix}:b:kv:", StringComparison.Ordinal), k));
        Assert.Equal(3, keys.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has:colon")]
    [InlineData("has space")]
    public void ForTenant_InvalidTenant_ThrowsArgumentException(string tenant) =>
        Assert.ThrowsAny<ArgumentException>(() => _host.Factory.ForTenant(tenant));

    private Task<List<string>> KeysOfThisTestAsync() => redis.KeysAsync(_host.KeyPrefix + ":*");

    private sealed record Order(Guid Id, string Name, int Quantity, decimal Price, DateTimeOffset PlacedAt, IReadOnlyList<string> Tags);
}
