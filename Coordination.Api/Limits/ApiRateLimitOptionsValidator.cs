using Microsoft.Extensions.Options;

namespace Coordination.Api.Limits;

/// <summary>Checks at start that the request policy is a valid name defined in configuration, naming the setting.</summary>
internal sealed class ApiRateLimitOptionsValidator(IOptions<CoordinationOptions> coordination) : IValidateOptions<ApiRateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiRateLimitOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        if (!CoordinationLimits.IsValidSegment(options.Policy))
        {
            return ValidateOptionsResult.Fail($"{ApiRateLimitOptions.SectionName}:Policy must be 1..64 characters of letters, digits, '.', '_' or '-'.");
        }

        return coordination.Value.RateLimiting.Policies.ContainsKey(options.Policy)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{ApiRateLimitOptions.SectionName}:Policy names '{options.Policy}', which is not defined under {RateLimitingOptions.SectionName}:Policies: " +
                $"define it there (Algorithm, Limit, Period, Burst) or set {ApiRateLimitOptions.SectionName}:Enabled to false.");
    }
}
