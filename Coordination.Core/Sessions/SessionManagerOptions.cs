using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>Options of the sessions (<see cref="ISessionManager"/>), bound from <see cref="SectionName"/>.</summary>
public sealed class SessionManagerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Sessions";

    /// <summary>Gets or sets how long a session lives without being accessed, unless its own options say otherwise.</summary>
    /// <value>The default value is 30 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "30.00:00:00")]
    public TimeSpan DefaultIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Gets or sets how long a session lives at most after its creation, unless its own options say otherwise.</summary>
    /// <value>The default value is 1 day.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "30.00:00:00")]
    public TimeSpan DefaultAbsoluteTimeout { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Gets or sets how many live sessions one user may have; creating one more ends the user's oldest. A bound, so that
    /// no caller can grow a user's index without limit.
    /// </summary>
    /// <value>The default value is 100.</value>
    [Range(1, 100_000)]
    public int MaxSessionsPerUser { get; set; } = 100;

    /// <summary>Gets or sets the most bytes a session's data may hold (field names and their JSON values).</summary>
    /// <value>The default value is 64 KiB (65536).</value>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxDataBytes { get; set; } = 64 * 1024;

    /// <summary>Gets or sets the most fields a session's data may hold.</summary>
    /// <value>The default value is 256.</value>
    [Range(1, 100_000)]
    public int MaxFields { get; set; } = 256;

    /// <summary>
    /// Gets or sets where sessions are moved from while a migration runs (section
    /// <c>Coordination:Sessions:MigrateFrom</c>); see docs/sessions.md, "Moving sessions".
    /// </summary>
    /// <value>The default value has both settings empty: no migration.</value>
    [Required]
    [ValidateObjectMembers]
    public SessionMigrationOptions MigrateFrom { get; set; } = new();
}
