using System.Collections.Concurrent;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>
/// The session quota (<c>Coordination:Quotas:MaxSessionsPerTenant</c>): a tenant creating sessions for ever new users
/// is refused at its quota, other tenants are not, and ended sessions free their places.
/// </summary>
public sealed class SessionQuotaTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<SessionHost> StartAsync(int quota, params KeyValuePair<string, string?>[] settings) =>
        new(await CoordinationTestHost.StartAsync(redis.ConnectionString, settings: [new("Coordination:Quotas:MaxSessionsPerTenant", quota.ToString(System.Globalization.CultureInfo.InvariantCulture)), .. settings]), redis);

    [Fact]
    public async Task AHostileTenantCreatingSessionsForEverNewUsers_IsRefusedAtItsQuota_AndOtherTenantsAreNot()
    {
        await using var host = await StartAsync(50);
        var hostile = host.ForTenant("hostile");
        var created = 0;
        var refused = new ConcurrentBag<CoordinationQuotaExceededException>();
        await Parallel.ForAsync(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Token }, async (i, ct) =>
        {
            try
            {
                await hostile.CreateAsync($"user-{i}", null, null, ct);
                Interlocked.Increment(ref created);
            }
            catch (CoordinationQuotaExceededException ex)
            {
                refused.Add(ex);
            }
        });

        Assert.Equal(50, created);
        Assert.Equal(950, refused.Count);
        Assert.All(refused, ex => Assert.Equal(("sessions", 50L), (ex.Quota, ex.Limit)));
        Assert.Equal(50, (await host.KeysAsync("hostile:session:*")).Count);
        Assert.Equal(50, await (await host.AdminAsync()).SortedSetLengthAsync($"{host.Host.KeyPrefix}:hostile:session-ledger:{{{host.Host.KeyPrefix}:hostile}}"));
        for (var i = 0; i < 10; i++)
        {
            await host.ForTenant("victim").CreateAsync($"user-{i}", null, null, Token);
        }
    }

    [Fact]
    public async Task EndingSessions_FreesTheirPlaces_RotatingKeepsItsOwn()
    {
        await using var host = await StartAsync(4, new KeyValuePair<string, string?>("Coordination:Sessions:MaxSessionsPerUser", "2"));
        var sessions = host.Sessions;
        var deleted = await sessions.CreateAsync("a", null, null, Token);
        var rotated = await sessions.CreateAsync("b", null, null, Token);
        await sessions.CreateAsync("c", null, null, Token);
        await sessions.CreateAsync("c", null, null, Token);
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await sessions.CreateAsync("d", null, null, Token));

        Assert.True(await sessions.DeleteAsync(deleted.Id, Token));
        await sessions.CreateAsync("d", null, null, Token);
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await sessions.CreateAsync("d", null, null, Token));

        var newId = (await sessions.RotateAsync(rotated.Id, Token))!.Id;
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await sessions.CreateAsync("d", null, null, Token));
        Assert.True(await sessions.DeleteAsync(newId, Token));
        await sessions.CreateAsync("c", null, null, Token); // c's third: the cap ends c's oldest, whose place is freed too

        await sessions.CreateAsync("e", null, null, Token);
        Assert.Equal(3, await sessions.RevokeAllForUserAsync("c", Token) + await sessions.RevokeAllForUserAsync("e", Token));
        for (var i = 0; i < 3; i++)
        {
            await sessions.CreateAsync("f", null, null, Token);
        }
    }

    [Fact]
    public async Task SessionsThatEndedIdle_FreeTheirPlacesAtTheSecondCleanupThatFindsThemGone()
    {
        await using var host = await StartAsync(5);
        var sessions = host.Sessions;
        var brief = new SessionOptions { IdleTimeout = TimeSpan.FromMilliseconds(100), AbsoluteTimeout = TimeSpan.FromHours(1) };
        for (var i = 0; i < 5; i++)
        {
            await sessions.CreateAsync($"idle-{i}", null, brief, Token);
        }

        await Task.Delay(TimeSpan.FromMilliseconds(400), Token);
        var maintenance = host.Host.Services.GetRequiredService<ISessionMaintenance>();
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await sessions.CreateAsync("late", null, null, Token));

        Assert.NotNull(await maintenance.TryCleanupAsync(Token));
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await sessions.CreateAsync("late", null, null, Token));
        Assert.NotNull(await maintenance.TryCleanupAsync(Token));

        for (var i = 0; i < 5; i++)
        {
            await sessions.CreateAsync("late", null, null, Token);
        }
    }

    [Fact]
    public async Task WithTheQuotaOff_NoLedgerIsKept()
    {
        await using var host = await StartAsync(0);
        await host.Sessions.CreateAsync("a", null, null, Token);

        Assert.Empty(await host.KeysAsync("default:session-ledger:*"));
    }
}
