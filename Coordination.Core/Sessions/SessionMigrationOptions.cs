using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>
/// Where sessions are moved from (section <c>Coordination:Sessions:MigrateFrom</c>): another Redis, another key prefix,
/// or both. While either property is set, every node reads through: the current location decides, and a session it
/// does not have is first moved from this source; the bulk migration (<see cref="ISessionMigration"/>) drains the rest.
/// Both empty (the default) turns migration off.
/// </summary>
public sealed class SessionMigrationOptions
{
    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string of the source (for example <c>old-redis:6379</c>);
    /// empty means the source is the current connection (a key prefix change on the same Redis).
    /// </summary>
    /// <value>The default value is empty.</value>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Gets or sets the key prefix the sessions have at the source; empty means the current key prefix.</summary>
    /// <value>The default value is empty.</value>
    [RegularExpression(CoordinationLimits.SegmentPattern, ErrorMessage = "Coordination:Sessions:MigrateFrom:KeyPrefix must be empty or 1..64 characters of letters, digits, '.', '_' or '-'.")]
    public string KeyPrefix { get; set; } = string.Empty;

    /// <summary>Gets whether a source is configured (either property set).</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(ConnectionString) || !string.IsNullOrEmpty(KeyPrefix);
}
