using System.Collections.Concurrent;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Coordination.IntegrationTests;

/// <summary>Many concurrent callers on one host: values never mix up, and a lock has exactly one winner.</summary>
public sealed class RedisCoordinatorConcurrencyTests(SharedRedisFixture redis)
{
    private const int Callers = 200;
    private const int Rounds = 10;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConcurrentCallers_OwnKeysAndSharedLock_ReadOwnWritesAndOneWinnerPerRound()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);

        // Each caller is its own lock owner (as separate processes would be), all sharing the host's pool and
        // pipelines. The DI coordinator is one owner for the whole process, so it cannot stage a contest.
        var services = host.Services;
        var owners = Enumerable.Range(0, Callers)
            .Select(_ => new RedisCoordinator(
                "default",
                services.GetRequiredService<IOptions<CoordinationOptions>>().Value,
                services.GetRequiredService<ICoordinationSerializer>(),
                services.GetRequiredService<RedisExecutor>(),
                services.GetRequiredService<CoordinatorFactory>().Reads,
                services.GetRequiredService<CoordinatorFactory>().Writes,
                services.GetRequiredService<KeyValueFallback>(),
                services.GetRequiredService<LockRuntime>(),
                services.GetRequiredService<CacheRuntime>(),
                services.GetRequiredService<SessionRuntime>(),
                services.GetRequiredService<RateLimitRuntime>()))
            .ToArray();
        var shared = host.Coordinator;
        var errors = new ConcurrentQueue<Exception>();
        var mismatches = new ConcurrentQueue<string>();
        var winners = new int[Rounds];
        var winnerIds = new int[Rounds];

        async Task CallerRoundAsync(int caller, int round)
        {
            try
            {
                var key = $"caller-{caller}";
                var written = new Payload(caller, round, Guid.NewGuid());
                await shared.SetAsync(key, written, TimeSpan.FromMinutes(5), Token);
                var read = await shared.GetAsync<Payload>(key, Token);
                if (read.Value != written)
                {
                    mismatches.Enqueue($"caller {caller} round {round}: wrote {written}, read {read.Value}");
                }

                if (await owners[caller].LockAsync($"round-{round}", TimeSpan.FromMinutes(1), Token))
                {
                    Interlocked.Increment(ref winners[round]);
                    winnerIds[round] = caller;
                }

                var again = await shared.GetWithTimeToLiveAsync<Payload>(key, Token);
                if (again.Value != written || again.TimeToLive is null)
                {
                    mismatches.Enqueue($"caller {caller} round {round}: wrote {written}, read {again.Value} ttl {again.TimeToLive}");
                }
            }
#pragma warning disable CA1031 // Every failure is collected and asserted on below.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                errors.Enqueue(ex);
            }
        }

        for (var round = 0; round < Rounds; round++)
        {
            var r = round;
            await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(() => CallerRoundAsync(c, r), Token)))
                .WaitAsync(TimeSpan.FromSeconds(30), Token);
        }

        Assert.Empty(errors);
        Assert.Empty(mismatches);
        Assert.All(winners, count => Assert.Equal(1, count));

        // Only the winner can release its round's lock; a loser's unlock changes nothing.
        for (var round = 0; round < Rounds; round++)
        {
            var loser = (winnerIds[round] + 1) % Callers;
            Assert.False(await owners[loser].UnlockAsync($"round-{round}", Token));
            Assert.True(await owners[winnerIds[round]].UnlockAsync($"round-{round}", Token));
        }

        // Every caller's last value is its own.
        for (var caller = 0; caller < Callers; caller++)
        {
            var last = await shared.GetAsync<Payload>($"caller-{caller}", Token);
            Assert.Equal(caller, last.Value!.Caller);
            Assert.Equal(Rounds - 1, last.Value.Round);
        }
    }

    private sealed record Payload(int Caller, int Round, Guid Nonce);
}
