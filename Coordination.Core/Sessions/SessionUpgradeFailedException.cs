namespace Coordination;

/// <summary>
/// A session was read in an older data schema and its upgrade failed: an <see cref="ISessionDataUpgrader"/> threw or
/// returned <see langword="null"/>, or the upgraded data is not valid session data (over
/// <see cref="SessionManagerOptions.MaxFields"/> or <see cref="SessionManagerOptions.MaxDataBytes"/>, or a bad field
/// name). The read failed and nothing stored was changed; the cause, if any, is the inner exception.
/// </summary>
public sealed class SessionUpgradeFailedException : CoordinationException
{
    internal SessionUpgradeFailedException(string message, int fromSchemaVersion, int toSchemaVersion, Exception? innerException)
        : base(message, innerException)
    {
        FromSchemaVersion = fromSchemaVersion;
        ToSchemaVersion = toSchemaVersion;
    }

    /// <summary>The schema version the failed part of the upgrade started from (a step's <see cref="ISessionDataUpgrader.FromVersion"/>, or the session's version when the result was refused).</summary>
    public int FromSchemaVersion { get; }

    /// <summary>The schema version the failed part of the upgrade was to reach.</summary>
    public int ToSchemaVersion { get; }
}
