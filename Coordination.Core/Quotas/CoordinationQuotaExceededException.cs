namespace Coordination;

/// <summary>
/// The call would create more state than the tenant's quota allows (<see cref="QuotaOptions"/>). Nothing was stored.
/// Retrying does not help until the tenant deletes some of its state or some of it expires.
/// </summary>
public sealed class CoordinationQuotaExceededException : CoordinationException
{
    internal CoordinationQuotaExceededException(string message, string quota, long limit)
        : base(message)
    {
        Quota = quota;
        Limit = limit;
    }

    /// <summary>
    /// The quota that refused the call: <c>keys</c> (<see cref="QuotaOptions.MaxKeysPerTenant"/>) or <c>lock-names</c>
    /// (<see cref="QuotaOptions.MaxLockNamesPerTenant"/>).
    /// </summary>
    public string Quota { get; }

    /// <summary>The quota's limit for the tenant.</summary>
    public long Limit { get; }
}
