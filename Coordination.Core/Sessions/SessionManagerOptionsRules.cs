using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>The cross-field rules of <see cref="SessionManagerOptions"/> that data annotations cannot express.</summary>
internal sealed class SessionManagerOptionsRules : IValidateOptions<CoordinationOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinationOptions options)
    {
        var sessions = options.Sessions;
        // A longer idle timeout could never take effect: the absolute expiry ends every session first.
        if (sessions.DefaultIdleTimeout > sessions.DefaultAbsoluteTimeout)
        {
            return ValidateOptionsResult.Fail(
                $"Coordination:Sessions:DefaultIdleTimeout ({sessions.DefaultIdleTimeout}) must not be greater than Coordination:Sessions:DefaultAbsoluteTimeout ({sessions.DefaultAbsoluteTimeout}).");
        }

        return ValidateOptionsResult.Success;
    }
}
