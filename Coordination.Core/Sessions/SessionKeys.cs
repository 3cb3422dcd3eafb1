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

    public string Session(string tag, string random) => SessionPrefix(tag) + random;

    public string UserIndex(string tag, string userId) => UserIndexPrefix(tag) + userId;

    /// <summary>The tag of <paramref name="userId"/>'s sessions in this tenant.</summary>
    public string TagOf(string userId) => SessionId.TagOf(prefix, tenant, userId);
}
