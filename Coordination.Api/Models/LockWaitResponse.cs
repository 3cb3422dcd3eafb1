namespace Coordination.Api.Models;

/// <summary>One edge of the <c>cycle</c> of a <c>deadlock-detected</c> problem: <paramref name="Owner"/> waits for the lock <paramref name="Name"/>.</summary>
/// <param name="Owner">The waiting owner (the first edge's is the caller).</param>
/// <param name="Name">The lock it waits for, held by the owner of the next edge (the last edge's lock by the caller).</param>
public sealed record LockWaitResponse(string Owner, string Name);
