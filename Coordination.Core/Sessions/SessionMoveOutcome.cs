namespace Coordination;

/// <summary>What a move of one session from the migration source found.</summary>
internal enum SessionMoveOutcome
{
    /// <summary>The source has no live session under the id (never had, ended, or another mover took it).</summary>
    Gone,

    /// <summary>The session was written here from the source.</summary>
    Moved,

    /// <summary>The session is here already; the current location decides, the source's copy is stale.</summary>
    Present,

    /// <summary>The session ended here (deleted, rotated, revoked) or by its own expiry; it is not brought back.</summary>
    Ended,
}
