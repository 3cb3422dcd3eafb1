using StackExchange.Redis;

namespace Coordination.Core.Tests.Locks;

public class LockKeysTests
{
    [Fact]
    public void Keys_NameIsTheHashTagOfEveryKey()
    {
        var keys = new LockKeys("coord", "acme", "lock", "orders");

        Assert.Equal("coord:acme:lock:{orders}", keys.Base);
        Assert.Equal(6, keys.All.Length);
        Assert.All(keys.All, key => Assert.Equal("orders", HashTag(key)));
        Assert.Equal(6, keys.All.Distinct().Count());
        Assert.Equal("orders", keys.Name);

        // The fast path's scripts take the holds and the fencing counter of the same lock (one slot).
        Assert.Equal([keys.All[0], keys.All[2]], keys.FastAcquire);
        Assert.Equal([keys.All[0]], keys.FastRelease);
    }

    [Fact]
    public void Cache_SameNameAndKind_SameKeys_OtherwiseTheirOwn()
    {
        var cache = new LockKeysCache("coord", "acme");
        var orders = cache.Get("lock", "orders");

        Assert.Same(orders, cache.Get("lock", "orders"));
        Assert.Equal("coord:acme:lock:{orders}", orders.Base);
        Assert.Equal("coord:acme:semaphore:{orders}", cache.Get("semaphore", "orders").Base);

        // Far more names than slots: every answer is still the keys of the name asked for.
        for (var i = 0; i < 5000; i++)
        {
            var name = $"n{i}";
            Assert.Equal($"coord:acme:lock:{{{name}}}", cache.Get("lock", name).Base);
        }

        Assert.Equal("coord:acme:lock:{orders}", cache.Get("lock", "orders").Base);
    }

    [Theory]
    [InlineData("}starts-with-close")]
    [InlineData("}")]
    [InlineData("a}b")]
    [InlineData("{x}")]
    [InlineData("{")]
    [InlineData("a{b")]
    [InlineData("plain name with spaces")]
    public void Keys_NamesWithBraces_StillShareOneNonEmptyTag(string name)
    {
        var keys = new LockKeys("p", "t", "lock", name);
        var tags = keys.All.Select(HashTag).Distinct().ToArray();

        var tag = Assert.Single(tags);
        Assert.False(string.IsNullOrEmpty(tag));
    }

    [Fact]
    public void Keys_DistinctNames_DistinctKeys()
    {
        string[] names = ["}x", "\u0001}x", "x", "{x}", "x}"];

        var bases = names.Where(n => !n.Contains('\u0001', StringComparison.Ordinal)).Select(n => new LockKeys("p", "t", "lock", n).Base).ToArray();

        Assert.Equal(bases.Length, bases.Distinct().Count());
    }

    [Fact]
    public void Graph_TenantLevelTagAndChannelPerPrefix()
    {
        var keys = LockKeys.Graph("coord", "acme", "lockgraph");
        Assert.Equal(["coord:acme:lockgraph:{coord:acme}", "coord:acme:lockgraph:{coord:acme}:w", "coord:acme:lockgraph:{coord:acme}:o"], keys.Select(k => (string)k!));
        Assert.All(keys, k => Assert.Equal("coord:acme", HashTag(k)));
        Assert.Equal("coord:lock-released", LockKeys.Channel("coord"));
    }

    // Redis Cluster's rule: the part between the first '{' and the next '}', when not empty; else the whole key.
    private static string HashTag(RedisKey key)
    {
        var text = (string)key!;
        var open = text.IndexOf('{', StringComparison.Ordinal);
        if (open >= 0)
        {
            var close = text.IndexOf('}', open + 1);
            if (close > open + 1)
            {
                return text[(open + 1)..close];
            }
        }

        return text;
    }
}
