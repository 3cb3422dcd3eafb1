namespace Coordination;

/// <summary>Why a held lock was reported lost.</summary>
public enum LockLostReason
{
    /// <summary>A renewal reached Redis, which no longer had the hold (it expired, or was released by token elsewhere).</summary>
    RenewalRejected,

    /// <summary>No renewal reached Redis before the local validity estimate (time to live minus the drift margin) ran out.</summary>
    ValidityExpired,

    /// <summary>The client saw the Redis primary change (failover or restart); the new primary may not know the hold.</summary>
    PrimaryChanged,
}
