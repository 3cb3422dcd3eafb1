namespace Coordination;

/// <summary>An acquisition or release named a rate-limit policy that does not exist (over HTTP: 404).</summary>
public sealed class RateLimitPolicyNotFoundException : CoordinationException
{
    /// <summary>Initializes a new instance of the <see cref="RateLimitPolicyNotFoundException"/> class.</summary>
    /// <param name="policy">The policy's name.</param>
    public RateLimitPolicyNotFoundException(string policy)
        : base($"No rate-limit policy is named '{policy}'.")
    {
        Policy = policy;
    }

    /// <summary>Gets the name that was asked for.</summary>
    public string Policy { get; }
}
