using System.Text;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Redis Cluster's hash slots: which slot a key maps to (CRC16 of its hash tag, or of the whole key when it has none),
/// and a short tag that maps to a given slot, so that a key of ours can be put in the slot of any caller's key (whose
/// name may hold braces of its own) and a script may touch both.
/// </summary>
internal static class HashSlot
{
    public const int Count = 16384;

    private static readonly Lazy<string[]> Tags = new(BuildTags);

    /// <summary>The slot of <paramref name="key"/>, by the cluster specification's rule.</summary>
    public static int Of(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        ReadOnlySpan<byte> hashed = bytes;
        var open = hashed.IndexOf((byte)'{');
        if (open >= 0)
        {
            var close = hashed[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                hashed = hashed.Slice(open + 1, close);
            }
        }

        return Crc16(hashed) % Count;
    }

    /// <summary>A tag (digits and letters only) whose slot is <paramref name="slot"/>.</summary>
    public static string TagFor(int slot) => Tags.Value[slot];

    /// <summary>
    /// The slots' owners as <paramref name="multiplexer"/> last read them from a connected Redis Cluster node; null on
    /// one server or a Sentinel group, or while no node is connected. Read, not asked for: looking a key's server up
    /// would make the client connect to a node it has not seen.
    /// </summary>
    public static ClusterConfiguration? KnownConfiguration(IConnectionMultiplexer multiplexer) =>
        multiplexer.GetServers().FirstOrDefault(static s => s.IsConnected && s.ServerType == ServerType.Cluster)?.ClusterConfiguration;

    // CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis Cluster uses.
    private static int Crc16(ReadOnlySpan<byte> bytes)
    {
        var crc = 0;
        foreach (var b in bytes)
        {
            crc ^= b << 8;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }

            crc &= 0xFFFF;
        }

        return crc;
    }

    // Counts up in base 36 until every slot has a tag: about 170,000 CRCs of 3-4 bytes, once per process.
    private static string[] BuildTags()
    {
        var tags = new string[Count];
        var found = 0;
        for (var n = 0L; found < Count; n++)
        {
            var tag = ToBase36(n);
            var slot = Crc16(Encoding.ASCII.GetBytes(tag)) % Count;
            if (tags[slot] is null)
            {
                tags[slot] = tag;
                found++;
            }
        }

        return tags;
    }

    private static string ToBase36(long value)
    {
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        if (value == 0)
        {
            return "0";
        }

        var text = new StringBuilder();
        while (value > 0)
        {
            text.Insert(0, Digits[(int)(value % 36)]);
            value /= 36;
        }

        return text.ToString();
    }
}
