namespace Coordination;

/// <summary>
/// The Redis keys of one tenant's sessions. Prefix and tenant hold no braces, so the first <c>{...}</c> of each key
/// is the user's slot tag, whatever the user id holds.
/// </summary>
internal sealed class SessionKeys(string prefix, string tenant)
{
    /// <summary><c>{prefix}:{tenant}:session:{tag}:</c>; a session's key is this plus its id's random part.</summary>
    public string SessionPrefix(string tag) => string.Concat(prefix, ":", tenant, ":session:{", tag, "}:");

    /// <summary><c>{prefix}:{tenant}:session-user:{tag}:</c>; a user's index is this plus the user id.</summary>
    public string UserIndexPrefix(string tag) => string.Concat(prefix, ":", tenant, ":session-user:{", tag, "}:");

    /// <summary>The tenant's session ledger (session_quota_count.lua), in a slot of its own.</summary>
    public string Ledger => CoordinationKey.TenantTagged(prefix, tenant, LedgerCapability);

    public const string LedgerCapability = "session-ledger";

    public string Session(string tag, string random) => SessionPrefix(tag) + random;

    public string UserIndex(string tag, string userId) => UserIndexPrefix(tag) + userId;

    /// <summary>The tag of <paramref name="userId"/>'s sessions in this tenant.</summary>
    public string TagOf(string userId) => SessionId.TagOf(prefix, tenant, userId);

    /// <summary>
    /// The id and user index prefix of a session key (<see cref="Session(string, string)"/> of any tenant and prefix):
    /// the key's first <c>{...}</c> is its tag, its last <see cref="SessionId.RandomLength"/> characters the random part.
    /// </summary>
    public static (string Id, string UserIndexPrefix) Parse(string sessionKey)
    {
        var tagStart = sessionKey.IndexOf('{', StringComparison.Ordinal);
        var tagEnd = sessionKey.IndexOf('}', tagStart + 1);
        var tag = sessionKey[(tagStart + 1)..tagEnd];
        var random = sessionKey[^SessionId.RandomLength..];
        // "{prefix}:{tenant}:session:" -> "{prefix}:{tenant}:session-user:"
        var indexPrefix = string.Concat(sessionKey.AsSpan(0, tagStart - 1), "-user:{", tag, "}:");
        return (random + "." + tag, indexPrefix);
    }
}
