using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>The cross-field rule of <see cref="NodeReportOptions"/>: a stopped node must be seen stale before its report expires.</summary>
internal sealed class NodeReportOptionsRules : IValidateOptions<NodeReportOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeReportOptions options)
    {
        var staleAfter = options.Interval * options.StaleAfterIntervals;
        if (options.Expiry <= staleAfter)
        {
            return ValidateOptionsResult.Fail(
                $"Coordination:Nodes:Expiry ({options.Expiry}) must be longer than Coordination:Nodes:StaleAfterIntervals ({options.StaleAfterIntervals}) times Coordination:Nodes:Interval ({options.Interval}), {staleAfter}: a node that stops reporting would vanish before it is shown stale.");
        }

        return ValidateOptionsResult.Success;
    }
}
