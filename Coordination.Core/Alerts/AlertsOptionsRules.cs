using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>The rules of <see cref="AlertsOptions"/> that span fields or items, each failure naming its setting.</summary>
internal sealed class AlertsOptionsRules : IValidateOptions<AlertsOptions>
{
    public const int MaxWebhooks = 16;

    public ValidateOptionsResult Validate(string? name, AlertsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.RepeatInterval < options.EvaluationInterval)
        {
            failures.Add($"Coordination:Alerts:RepeatInterval ({options.RepeatInterval}) must be at least Coordination:Alerts:EvaluationInterval ({options.EvaluationInterval}).");
        }

        if (options.NodeTimeout < 2 * options.EvaluationInterval)
        {
            failures.Add($"Coordination:Alerts:NodeTimeout ({options.NodeTimeout}) must be at least twice Coordination:Alerts:EvaluationInterval ({options.EvaluationInterval}), or a live node's incident would be resolved between two of its reports.");
        }

        if (options.Webhooks.Count > MaxWebhooks)
        {
            failures.Add($"Coordination:Alerts:Webhooks holds {options.Webhooks.Count} webhooks; at most {MaxWebhooks} are allowed.");
        }

        for (var i = 0; i < options.Webhooks.Count; i++)
        {
            var url = options.Webhooks[i]?.Url;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"Coordination:Alerts:Webhooks:{i}:Url must be an absolute http or https URL.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
