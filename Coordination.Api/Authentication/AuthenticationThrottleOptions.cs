using System.ComponentModel.DataAnnotations;

namespace Coordination.Api.Authentication;

/// <summary>
/// Slows key guessing (section <c>Coordination:AuthenticationThrottle</c>): after <see cref="FailureLimit"/> failed
/// <c>X-Api-Key</c> attempts from one remote address within <see cref="Window"/>, every request from that address that
/// carries the header is answered 429 with <c>Retry-After</c> until the window ends.
/// </summary>
public sealed class AuthenticationThrottleOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:AuthenticationThrottle";

    /// <summary>Failed attempts from one address, within <see cref="Window"/>, after which it is answered 429.</summary>
    /// <value>The default value is 10.</value>
    [Range(1, 1_000_000)]
    public int FailureLimit { get; set; } = 10;

    /// <summary>The window, starting at an address's first failure, in which its failures are counted.</summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How many addresses are tracked at most (bounded memory); beyond it the address tracked longest is dropped.
    /// IPv6 addresses are tracked by their /64 prefix, so one host cannot escape by rotating through its own block.
    /// </summary>
    /// <value>The default value is 10000.</value>
    [Range(1, 10_000_000)]
    public int MaxTrackedAddresses { get; set; } = 10_000;
}
