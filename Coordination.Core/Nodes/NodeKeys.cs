using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The node reports' keys, platform-wide under names no tenant can form (a tenant cannot contain '#'), with one hash
/// tag so the report script runs on one slot: <c>{prefix}:#nodes:{{prefix}:#nodes}:reports</c> (hash) and
/// <c>...:seen</c> (sorted set). The duties' state, written by the Worker, is <c>{prefix}:#duties:{{prefix}:#duties}:state</c>.
/// </summary>
internal sealed class NodeKeys(string keyPrefix)
{
    private readonly string _root = string.Concat(keyPrefix, ":#nodes:{", keyPrefix, ":#nodes}");

    public RedisKey Reports => _root + ":reports";

    public RedisKey Seen => _root + ":seen";

    public RedisKey Duties { get; } = string.Concat(keyPrefix, ":#duties:{", keyPrefix, ":#duties}:state");
}
