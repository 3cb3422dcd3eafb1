namespace Coordination.Api.Models;

/// <summary>The body of <c>POST /v1/locks/{name}</c>, bound by the endpoint and validated by it.</summary>
/// <param name="TtlMs">How long the hold lasts unless extended or released, in milliseconds (1 .. 2592000000). Required.</param>
/// <param name="WaitMs">
/// How long to wait for the lock, in milliseconds (0 .. 2592000000); absent, null or 0 tries once. The request stays
/// open while it waits; a client that disconnects stops waiting.
/// </param>
/// <param name="Owner">
/// The logical holder (1..512 UTF-8 bytes, no control characters), for deadlock detection between clients. A request
/// naming the owner of the current hold re-enters it (same token and fencing token; release it as many times) only
/// when it also carries that hold's <c>token</c>; without it, or with another token, the hold blocks the request like
/// anyone else's (409 <c>lock-not-acquired</c> once <c>waitMs</c> runs out) and nothing of the hold is disclosed.
/// Absent: every request is its own owner.
/// </param>
/// <param name="Token">
/// With <c>owner</c>: the token this owner's earlier acquisition of the lock returned, to re-enter (and extend) that
/// hold. Optional; ignored without <c>owner</c>. Owners are visible to every caller of <c>GET /v1/locks/{name}</c>,
/// tokens only to the caller that acquired the hold.
/// </param>
public sealed record AcquireLockRequest(long? TtlMs, long? WaitMs = null, string? Owner = null, string? Token = null);
