namespace Coordination;

/// <summary>The kinds of hold the lock scripts know, with their mode letter in Redis.</summary>
internal enum LockKind
{
    /// <summary>Exclusive lock or write side of a read/write lock ('w').</summary>
    Exclusive,

    /// <summary>Read side of a read/write lock ('r').</summary>
    Read,

    /// <summary>One permit of a counting semaphore ('s').</summary>
    Semaphore,
}
