using StackExchange.Redis;

namespace Coordination.Core.Tests.Caching;

/// <summary>How a batch of combined reads is cut into MGETs: one per hash slot, in arrival order, bounded in size.</summary>
public class RedisReadCombinerGroupingTests
{
    private static List<RedisReadCombiner.Pending> Reads(params string[] keys) => [.. keys.Select(k => new RedisReadCombiner.Pending(k, k))];

    [Fact]
    public void Group_NoSlots_OneCommandInArrivalOrder()
    {
        var groups = RedisReadCombiner.Group(Reads("a", "b", "c"), _ => -1);

        var group = Assert.Single(groups);
        Assert.Equal(["a", "b", "c"], group.Select(r => (string)r.Key!));
    }

    [Fact]
    public void Group_SeveralSlots_OneCommandPerSlot_KeepingArrivalOrderWithinEach()
    {
        var slots = new Dictionary<string, int> { ["a1"] = 7, ["b1"] = 3, ["a2"] = 7, ["c1"] = 9, ["b2"] = 3 };

        var groups = RedisReadCombiner.Group(Reads("a1", "b1", "a2", "c1", "b2"), key => slots[(string)key!]);

        Assert.Equal(3, groups.Count);
        Assert.Equal(["b1", "b2"], groups[0].Select(r => (string)r.Key!));
        Assert.Equal(["a1", "a2"], groups[1].Select(r => (string)r.Key!));
        Assert.Equal(["c1"], groups[2].Select(r => (string)r.Key!));
    }

    [Fact]
    public void Group_LargeBatch_SplitIntoCommandsOfAtMost512Keys()
    {
        var keys = Enumerable.Range(0, 1_100).Select(i => $"k{i}").ToArray();

        var groups = RedisReadCombiner.Group(Reads(keys), _ => -1);

        Assert.Equal([512, 512, 76], groups.Select(g => g.Count));
        Assert.Equal(keys, groups.SelectMany(g => g).Select(r => (string)r.Key!));
    }
}
