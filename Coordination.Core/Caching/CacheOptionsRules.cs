using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>The cross-field rules of <see cref="CacheOptions"/> that data annotations cannot express.</summary>
internal sealed class CacheOptionsRules : IValidateOptions<CoordinationOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinationOptions options)
    {
        var cache = options.Cache;
        if (cache.FactorySoftTimeout is { } soft && cache.FactoryHardTimeout is { } hard && soft > hard)
        {
            return ValidateOptionsResult.Fail("Coordination:Cache:FactorySoftTimeout must not be greater than Coordination:Cache:FactoryHardTimeout.");
        }

        // One call would fold its own stamps into the floor: every entry of the tenant invalidated at each call.
        if (cache.MaxTagsPerInvalidation > cache.MaxStampsPerTenant)
        {
            return ValidateOptionsResult.Fail("Coordination:Cache:MaxTagsPerInvalidation must not be greater than Coordination:Cache:MaxStampsPerTenant.");
        }

        return ValidateOptionsResult.Success;
    }
}
