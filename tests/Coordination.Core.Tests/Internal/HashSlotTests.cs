namespace Coordination.Core.Tests.Internal;

public class HashSlotTests
{
    [Theory]
    [InlineData("123456789", 12739)] // CRC16-XMODEM check value 0x31C3
    [InlineData("foo", 12182)]
    [InlineData("somekey", 11058)]
    [InlineData("{user1000}.following", 3443)]
    [InlineData("{user1000}.followers", 3443)]
    [InlineData("foo{bar}{zap}", 5061)] // the first tag only
    [InlineData("foo{{bar}}zap", 4015)] // "{bar": from the first '{' to the first '}' after it
    public void Of_KeysFromTheClusterSpecification_SlotsRedisComputes(string key, int slot) =>
        Assert.Equal(slot, HashSlot.Of(key));

    [Theory]
    [InlineData("foo{}{bar}", 8363)] // an empty first tag: the whole key is hashed (the spec's example)
    [InlineData("foo{bar", 15278)]
    [InlineData("foo}bar{", 11073)]
    public void Of_NoUsableTag_HashesTheWholeKey(string key, int slot) =>
        Assert.Equal(slot, HashSlot.Of(key));

    [Fact]
    public void TagFor_EverySlot_ATagOfThatSlot()
    {
        for (var slot = 0; slot < HashSlot.Count; slot++)
        {
            var tag = HashSlot.TagFor(slot);
            Assert.Equal(slot, HashSlot.Of(tag));
            Assert.Equal(slot, HashSlot.Of("prefix:{" + tag + "}:anything"));
        }
    }

    [Theory]
    [InlineData("coord:default:kv:plain")]
    [InlineData("coord:default:kv:{tagged}name")]
    [InlineData("coord:default:kv:odd}name{")]
    [InlineData("coord:default:kv:{}empty")]
    [InlineData("coord:default:kv:ünïcødé")]
    public void TombstoneKey_AnyKey_SameSlotAsTheKeyAndNoKeyValueScanMatch(string key)
    {
        var tombstone = (string)KeyValueRepair.TombstoneKey("coord", key)!;

        Assert.Equal(HashSlot.Of(key), HashSlot.Of(tombstone));
        Assert.StartsWith("coord:#kv-deleted:{", tombstone, StringComparison.Ordinal);
        Assert.DoesNotContain(":kv:", tombstone, StringComparison.Ordinal);
    }
}
