using Coordination.Api.Authentication;

namespace Coordination.Api.Tests.Authentication;

public sealed class ApiKeysOptionsValidatorTests
{
    private const string First = "first-key-0123456789abcdefghijklmn";
    private const string Second = "second-key-0123456789abcdefghijklm";

    [Fact]
    public void Validate_NoKeys_FailsNamingTheSetting()
    {
        var result = new ApiKeysOptionsValidator().Validate(null, new ApiKeysOptions());

        Assert.True(result.Failed);
        Assert.Contains("Coordination:ApiKeys is empty", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "t", "member", "Coordination:ApiKeys:1:Key must not be empty.")]
    [InlineData(" ", "t", "member", "Coordination:ApiKeys:1:Key must not be empty.")]
    [InlineData(First, "t", "member", "Coordination:ApiKeys:1:Key repeats an earlier key")]
    [InlineData("short-key", "t", "member", "Coordination:ApiKeys:1:Key is too short: an API key must be at least 32 characters")]
    [InlineData("0123456789abcdef0123456789abcde", "t", "member", "Coordination:ApiKeys:1:Key is too short")]
    [InlineData(Second, "bad tenant!", "member", "Coordination:ApiKeys:1:Tenant must be")]
    [InlineData(Second, "", "member", "Coordination:ApiKeys:1:Tenant must be")]
    [InlineData(Second, "t", "owner", "Coordination:ApiKeys:1:Role must be")]
    [InlineData(Second, "default", "member", "Coordination:ApiKeys:1:Tenant is the tenant the Worker uses for itself (Coordination:ReservedTenant)")]
    [InlineData(Second, "Default", "admin", "Coordination:ApiKeys:1:Tenant is the tenant the Worker uses for itself")]
    public void Validate_ABrokenEntry_FailsNamingIt(string key, string tenant, string role, string expected)
    {
        var options = new ApiKeysOptions
        {
            ApiKeys =
            [
                new ApiKeyEntry { Key = First, Tenant = "t", Role = "admin" },
                new ApiKeyEntry { Key = key, Tenant = tenant, Role = role },
            ],
        };

        var result = new ApiKeysOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
        if (key.Trim().Length > 0)
        {
            // Never a key in the message.
            Assert.DoesNotContain(key, result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_AKeyOfExactlyTheMinimumLength_Succeeds()
    {
        var options = new ApiKeysOptions { ApiKeys = [new ApiKeyEntry { Key = new string('k', 32), Tenant = "t", Role = "member" }] };

        Assert.True(new ApiKeysOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_ReservedTenantSetting_RefusesThatTenantAndFreesTheDefault()
    {
        var options = new ApiKeysOptions
        {
            ReservedTenant = "worker",
            ApiKeys =
            [
                new ApiKeyEntry { Key = First, Tenant = "default", Role = "admin" },
                new ApiKeyEntry { Key = Second, Tenant = "worker", Role = "member" },
            ],
        };

        var result = new ApiKeysOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Coordination:ApiKeys:1:Tenant is the tenant the Worker uses", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("Coordination:ApiKeys:0:", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_GoodKeys_Succeeds()
    {
        var options = new ApiKeysOptions
        {
            ApiKeys =
            [
                new ApiKeyEntry { Key = First, Tenant = "tenant.a_1-x", Role = "Admin" },
                new ApiKeyEntry { Key = Second, Tenant = "t", Role = "member" },
            ],
        };

        Assert.True(new ApiKeysOptionsValidator().Validate(null, options).Succeeded);
    }
}
