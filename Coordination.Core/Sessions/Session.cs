using System.Text.Json;

namespace Coordination;

/// <summary>A session as read from the store.</summary>
/// <param name="Id">Its id: unguessable, URL-safe.</param>
/// <param name="UserId">The user it belongs to.</param>
/// <param name="Data">Its fields.</param>
/// <param name="Version">Starts at 1 and goes up by one with every update (for <see cref="ISessionManager.UpdateAsync"/>'s expected version).</param>
/// <param name="CreatedAt">When it was created (Redis's clock).</param>
/// <param name="LastAccessAt">When it was last read or updated (Redis's clock).</param>
/// <param name="ExpiresAt">When it expires unless accessed again: the idle expiry, capped by the absolute one.</param>
public sealed record Session(
    string Id,
    string UserId,
    IReadOnlyDictionary<string, JsonElement> Data,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastAccessAt,
    DateTimeOffset ExpiresAt);
