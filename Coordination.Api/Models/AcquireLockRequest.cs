namespace Coordination.Api.Models;

/// <summary>The body of <c>POST /v1/locks/{name}</c>, bound by the endpoint and validated by it.</summary>
/// <param name="TtlMs">How long the hold lasts unless extended or released, in milliseconds (1 .. 2592000000). Required.</param>
/// <param name="WaitMs">
/// How long to wait for the lock, in milliseconds (0 .. 2592000000); absent, null or 0 tries once. The request stays
/// open while it waits; a client that disconnects stops waiting.
/// </param>
/// <param name="Owner">
/// The logical holder (1..512 UTF-8 bytes, no control characters), for deadlock detection between clients. Two
/// requests of the same owner re-enter one hold (same token; release it as many times). Absent: every request is
/// its own owner.
/// </param>
public sealed record AcquireLockRequest(long? TtlMs, long? WaitMs = null, string? Owner = null);
