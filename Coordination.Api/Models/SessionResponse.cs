using System.Text.Json;

namespace Coordination.Api.Models;

/// <summary>A session (its <c>version</c> also in the <c>ETag</c> header).</summary>
/// <param name="Id">Its id: unguessable and URL-safe.</param>
/// <param name="UserId">The user it belongs to.</param>
/// <param name="Data">Its fields.</param>
/// <param name="Version">Goes up by one with every update; send it back in <c>If-Match</c> to update only an unchanged session.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="LastAccessAt">When it was last read or updated.</param>
/// <param name="ExpiresAt">When it expires unless accessed again.</param>
public sealed record SessionResponse(
    string Id,
    string UserId,
    IReadOnlyDictionary<string, JsonElement> Data,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastAccessAt,
    DateTimeOffset ExpiresAt)
{
    /// <summary>The response for <paramref name="session"/>.</summary>
    public static SessionResponse From(Session session) =>
        new(session.Id, session.UserId, session.Data, session.Version, session.CreatedAt, session.LastAccessAt, session.ExpiresAt);
}
