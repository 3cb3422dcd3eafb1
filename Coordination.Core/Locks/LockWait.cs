namespace Coordination;

/// <summary>One edge of a deadlock cycle: <see cref="Owner"/> waits for the lock <see cref="Name"/>.</summary>
/// <param name="Owner">The waiting owner.</param>
/// <param name="Name">The lock it waits for, held by the owner of the next edge (the last edge's lock by the first owner).</param>
public sealed record LockWait(string Owner, string Name);
