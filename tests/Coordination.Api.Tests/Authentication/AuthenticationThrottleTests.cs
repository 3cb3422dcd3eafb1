using System.Net;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Authentication;

/// <summary><c>Coordination:AuthenticationThrottle</c>: repeated wrong keys from one address are answered 429 (own API instance).</summary>
public sealed class AuthenticationThrottleTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task WrongKeys_BeyondTheFailureLimit_Answer429WithRetryAfterForEveryKeyedRequest()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:AuthenticationThrottle:FailureLimit"] = "3",
            ["Coordination:AuthenticationThrottle:Window"] = "00:10:00",
        });
        using var wrong = api.CreateApiClient("wrong-key-0123456789abcdefghijklmnopq");
        using var right = api.CreateApiClient(ApiFactory.MemberKey);
        using var anonymous = api.CreateApiClient(apiKey: null);
        var key = Kv(NewName());

        using (var before = await right.GetAsync(key, Cancellation))
        {
            await AssertStatusAsync(before, HttpStatusCode.NotFound);
        }

        for (var i = 0; i < 3; i++)
        {
            using var response = await wrong.GetAsync(key, Cancellation);
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using (var throttled = await wrong.GetAsync(key, Cancellation))
        {
            await AssertProblemAsync(throttled, HttpStatusCode.TooManyRequests, "too-many-authentication-failures");
            var retryAfter = throttled.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        }

        // A right key from the same address is refused too: otherwise the answers would still tell right from wrong.
        using (var rightThrottled = await right.GetAsync(key, Cancellation))
        {
            await AssertProblemAsync(rightThrottled, HttpStatusCode.TooManyRequests, "too-many-authentication-failures");
        }

        using var health = await anonymous.GetAsync(new Uri("/health", UriKind.Relative), Cancellation);
        await AssertStatusAsync(health, HttpStatusCode.OK);
    }
}
