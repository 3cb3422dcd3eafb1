namespace Coordination.Core.Tests.Caching;

public class InvalidationStampsTests
{
    private const long Now = 1_800_000_000_000;
    private static readonly long MaxEntryAgeMs = (long)InvalidationStamps.MaxEntryAge.TotalMilliseconds;
    private static readonly long RetentionMs = (long)InvalidationStamps.StampRetention.TotalMilliseconds;

    [Fact]
    public void IsInvalidated_TagStamp_CoversEntriesCreatedUpToIt()
    {
        var stamps = new InvalidationStamps(10);
        stamps.Apply("t", isPrefix: false, Now, Now);

        Assert.True(stamps.IsInvalidated("k", Now - 1, ["other", "t"], Now));
        Assert.True(stamps.IsInvalidated("k", Now, ["t"], Now));
        Assert.False(stamps.IsInvalidated("k", Now + 1, ["t"], Now));
        Assert.False(stamps.IsInvalidated("k", Now - 1, ["other"], Now));
        Assert.False(stamps.IsInvalidated("k", Now - 1, [], Now));
    }

    [Fact]
    public void IsInvalidated_PrefixStamps_MatchByPrefixOfEveryLength()
    {
        var stamps = new InvalidationStamps(10);
        stamps.Apply("orders/", isPrefix: true, Now, Now);
        stamps.Apply("o", isPrefix: true, Now - 10, Now);
        stamps.Apply("users/42/", isPrefix: true, Now, Now);

        Assert.True(stamps.IsInvalidated("orders/1", Now - 1, [], Now));
        Assert.True(stamps.IsInvalidated("orders/", Now - 1, [], Now));
        Assert.True(stamps.IsInvalidated("other", Now - 11, [], Now)); // 'o', older stamp
        Assert.False(stamps.IsInvalidated("other", Now - 5, [], Now));
        Assert.False(stamps.IsInvalidated("order", Now - 5, [], Now));
        Assert.False(stamps.IsInvalidated("users/4", Now - 1, [], Now));
        Assert.True(stamps.IsInvalidated("users/42/x", Now - 1, [], Now));
        Assert.False(stamps.IsInvalidated("orders/1", Now + 1, [], Now));
    }

    [Fact]
    public void Apply_BeyondCapacity_FoldsTheOldestIntoTheFloorAndStaysBounded()
    {
        var stamps = new InvalidationStamps(3);
        var folded = 0;
        for (var i = 0; i < 10; i++)
        {
            folded += stamps.Apply($"t{i}", isPrefix: i % 2 == 0, Now + i, Now);
        }

        Assert.Equal(7, folded);
        Assert.Equal(3, stamps.Count);
        Assert.Equal(Now + 6, stamps.Floor);
        // The folded stamps still invalidate what they covered (and the floor a little more): nothing comes back.
        Assert.True(stamps.IsInvalidated("k", Now, ["t0"], Now));
        Assert.True(stamps.IsInvalidated("t2-key", Now + 2, [], Now));
        Assert.True(stamps.IsInvalidated("k", Now + 6, [], Now));
        Assert.True(stamps.IsInvalidated("k", Now + 8, ["t9"], Now));
        Assert.False(stamps.IsInvalidated("k", Now + 7, ["t1"], Now));
        // A stamp the floor covers adds nothing.
        Assert.Equal(0, stamps.Apply("late", isPrefix: false, Now + 5, Now));
        Assert.Equal(3, stamps.Count);
    }

    [Fact]
    public void Apply_SameNamesAgainAndAgain_KeepsOneStampEachAndFoldsNothing()
    {
        var stamps = new InvalidationStamps(4);
        for (var i = 0; i < 10_000; i++)
        {
            Assert.Equal(0, stamps.Apply($"t{i % 4}", isPrefix: false, Now + i, Now));
        }

        stamps.Apply("t0", isPrefix: false, Now, Now); // Older than its stamp: ignored.

        Assert.Equal(4, stamps.Count);
        Assert.Equal(0, stamps.Floor);
        Assert.True(stamps.IsInvalidated("k", Now + 9_996, ["t0"], Now));
        Assert.False(stamps.IsInvalidated("k", Now + 9_997, ["t0"], Now));

        // The arrivals were rebuilt in stamp order: the next fold takes the oldest live stamp (t0's).
        Assert.Equal(1, stamps.Apply("new", isPrefix: false, Now + 20_000, Now));
        Assert.Equal(Now + 9_996, stamps.Floor);
    }

    [Fact]
    public void Apply_StampsPastRetention_AreDroppedWithoutRaisingTheFloor()
    {
        var stamps = new InvalidationStamps(10);
        Assert.Equal(0, stamps.Apply("ancient", isPrefix: false, Now - RetentionMs, Now));
        stamps.Apply("old", isPrefix: false, Now - RetentionMs + 1, Now);
        Assert.Equal(1, stamps.Count);

        // A day later the stamp is past retention: the next write drops it.
        var later = Now + TimeSpan.FromDays(1).Ticks / TimeSpan.TicksPerMillisecond;
        Assert.Equal(0, stamps.Apply("new", isPrefix: true, later, later));

        Assert.Equal(1, stamps.Count);
        Assert.Equal(0, stamps.Floor);
    }

    [Fact]
    public void IsInvalidated_EntryOlderThanTheLongestLife_CountsAsInvalidated()
    {
        var stamps = new InvalidationStamps(10);

        Assert.True(stamps.IsInvalidated("k", Now - MaxEntryAgeMs, [], Now));
        Assert.False(stamps.IsInvalidated("k", Now - MaxEntryAgeMs + 1, [], Now));
        Assert.True(InvalidationStamps.StampRetention > InvalidationStamps.MaxEntryAge);
        Assert.True(InvalidationStamps.MaxEntryAge >= CoordinationLimits.MaxTimeToLive * 2);
    }

    [Fact]
    public void ApplyFloor_RaisesOnly()
    {
        var stamps = new InvalidationStamps(10);
        stamps.ApplyFloor(Now);
        stamps.ApplyFloor(Now - 1);

        Assert.Equal(Now, stamps.Floor);
        Assert.True(stamps.IsInvalidated("k", Now, [], Now));
        Assert.False(stamps.IsInvalidated("k", Now + 1, [], Now));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InvalidationStamps(0));
    }

    [Fact]
    public async Task IsInvalidated_WhileAnotherThreadFolds_NeverMissesAnAppliedStamp()
    {
        // Once Apply(t{i}) returned, an entry of tag t{i} created before it is invalid for good: through the stamp, or
        // through the floor after the stamp was folded, even to a reader racing the fold.
        var stamps = new InvalidationStamps(8);
        var applied = -1;
        var misses = 0;
        var checks = 0;
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < 200_000; i++)
            {
                stamps.Apply($"t{i}", isPrefix: false, Now + i, Now);
                Volatile.Write(ref applied, i);
            }
        }, TestContext.Current.CancellationToken);
        var reader = Task.Run(() =>
        {
            while (!writer.IsCompleted)
            {
                var last = Volatile.Read(ref applied);
                if (last >= 0)
                {
                    checks++;
                    if (!stamps.IsInvalidated("k", Now + last, [$"t{last}"], Now))
                    {
                        misses++;
                    }
                }
            }
        }, TestContext.Current.CancellationToken);

        await Task.WhenAll(writer, reader);
        Assert.True(checks > 0);
        Assert.Equal(0, misses);
        Assert.Equal(8, stamps.Count);
    }

    [Fact]
    public void StampKeys_ShareTheSlotOfTheLegacyHash()
    {
        // Cluster hashes a key with no '{' whole, and a key with a tag by the tag alone: the legacy name as the tag
        // puts all three keys of cache_stamp.lua in one slot.
        var keys = RedisCacheManager.StampKeys("coord", "acme").Select(k => (string)k!).ToArray();

        Assert.Equal("coord:acme:cache-stamps", keys[2]);
        Assert.DoesNotContain('{', keys[2]);
        Assert.Equal(["{coord:acme:cache-stamps}:stamps", "{coord:acme:cache-stamps}:floor"], keys[..2]);
    }
}
