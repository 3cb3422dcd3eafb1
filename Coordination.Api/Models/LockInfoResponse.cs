namespace Coordination.Api.Models;

/// <summary>The answer of <c>GET /v1/locks/{name}</c> while the lock is held (never the holder's token).</summary>
/// <param name="Name">The lock name.</param>
/// <param name="Held">Always <see langword="true"/>: a free lock answers 404.</param>
/// <param name="Owner">The holder: the owner named at acquisition, or the one generated for it.</param>
/// <param name="FencingToken">The fencing token of the hold.</param>
/// <param name="TtlMs">The time to live left on the hold, in milliseconds.</param>
public sealed record LockInfoResponse(string Name, bool Held, string Owner, long FencingToken, long TtlMs);
