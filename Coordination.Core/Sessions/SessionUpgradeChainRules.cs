using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>
/// Fails the host's start when the registered <see cref="ISessionDataUpgrader"/> steps do not form the chain
/// 1→2→…→N (a gap, a duplicate, a step out of range), with a message that names the problem.
/// </summary>
internal sealed class SessionUpgradeChainRules(IEnumerable<ISessionDataUpgrader> upgraders) : IValidateOptions<CoordinationOptions>
{
    private readonly ISessionDataUpgrader[] _upgraders = [.. upgraders];

    public ValidateOptionsResult Validate(string? name, CoordinationOptions options) =>
        SessionUpgrades.FindChainProblem(_upgraders) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
