using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>The rules of the policies defined in configuration (<see cref="RateLimitingOptions.Policies"/>): names and definitions.</summary>
internal sealed class RateLimitingOptionsRules : IValidateOptions<CoordinationOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinationOptions options)
    {
        var failures = new List<string>();
        foreach (var (policy, definition) in options.RateLimiting.Policies)
        {
            var setting = $"{RateLimitingOptions.SectionName}:Policies:{policy}";
            if (!CoordinationLimits.IsValidSegment(policy))
            {
                failures.Add($"{setting}: a policy name must be 1..64 characters of letters, digits, '.', '_' or '-'.");
            }

            if (RateLimitPolicyRules.FindProblem(definition) is { } problem)
            {
                failures.Add($"{setting}: {problem}");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
