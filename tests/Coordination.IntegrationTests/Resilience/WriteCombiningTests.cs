using System.Collections.Concurrent;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Resilience;

/// <summary>
/// Key/value writes (SET with and without expiry, DELETE) combined into one command per hash slot under load: every
/// write lands in its caller's order with its own expiry, every delete answers whether its key existed, and a lone
/// writer is never combined.
/// </summary>
public sealed class WriteCombiningTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task ManyConcurrentWriters_EachKeyEndsAsItsWriterLeftIt_AndWritesAreCombined()
    {
        const int Writers = 64;
        const int KeysPerWriter = 8;
        const int WritesPerWriter = 250;
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var coordinator = host.Coordinator;
        var expected = new ConcurrentDictionary<string, (int? Value, bool Expires)>();
        var wrong = new ConcurrentQueue<string>();

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(
            async () =>
            {
                var state = new (int? Value, bool Expires)[KeysPerWriter];
                for (var n = 0; n < WritesPerWriter; n++)
                {
                    var index = ((writer * 7) + (n * 3)) % KeysPerWriter;
                    var key = KeyOf(writer, index);
                    switch (n % 5)
                    {
                        case 0 or 3:
                            var existed = await coordinator.DeleteAsync(key, Token);
                            if (existed != state[index].Value.HasValue)
                            {
                                wrong.Enqueue($"delete {key}: answered existed = {existed}, expected {state[index].Value.HasValue}");
                            }

                            state[index] = (null, false);
                            break;
                        case 1:
                            await coordinator.SetAsync(key, n, TimeSpan.FromMinutes(5), Token);
                            state[index] = (n, true);
                            break;
                        default:
                            await coordinator.SetAsync(key, n, cancellationToken: Token);
                            state[index] = (n, false);
                            break;
                    }
                }

                for (var i = 0; i < KeysPerWriter; i++)
                {
                    expected[KeyOf(writer, i)] = state[i];
                }
            },
            Token)));

        foreach (var (key, (value, expires)) in expected)
        {
            var read = await coordinator.GetWithTimeToLiveAsync<int>(key, Token);
            if (read.HasValue != value.HasValue || (value is { } v && (read.Value != v || (read.TimeToLive is not null) != expires)))
            {
                wrong.Enqueue($"{key}: read {(read.HasValue ? $"{read.Value} ttl {read.TimeToLive}" : "nothing")}, expected {(value is null ? "nothing" : $"{value} expiring {expires}")}");
            }
        }

        var combined = host.Services.GetRequiredService<CoordinatorFactory>().Writes.Combined;
        Output.WriteLine($"{Writers * WritesPerWriter:N0} writes by {Writers} writers; {combined:N0} went out combined");
        Assert.Empty(wrong);
        Assert.True(combined > 0, "64 concurrent writers never had their writes combined.");
    }

    // Half the writers' keys share a hash tag: on a Redis Cluster they are in one slot, so their writes combine there
    // too; the others' spread over the slots, and a batch is cut into one command per slot.
    private static string KeyOf(int writer, int index) => writer % 2 == 0 ? $"{{wc}}w{writer}-k{index}" : $"w{writer}-k{index}";

    [Fact]
    public async Task OneWriterAtATime_IsNeverCombined()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);

        for (var i = 0; i < 100; i++)
        {
            await host.Coordinator.SetAsync("solo", i, cancellationToken: Token);
            Assert.True(await host.Coordinator.DeleteAsync("solo", Token));
        }

        Assert.Equal(0, host.Services.GetRequiredService<CoordinatorFactory>().Writes.Combined);
    }

    [Fact]
    public async Task CombiningDisabled_SendsEveryWriteAlone()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString, settings: [new("Coordination:MaxWritesInFlight", "0")]);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => host.Coordinator.SetAsync($"k{i % 20}", i, cancellationToken: Token).AsTask()));

        Assert.Equal(0, host.Services.GetRequiredService<CoordinatorFactory>().Writes.Combined);
        Assert.True((await host.Coordinator.GetAsync<int>("k7", Token)).HasValue);
    }

    [Fact]
    public async Task ConcurrentWritesOfOneKey_TheLastOneStays_AndEveryDeleteAnswersConsistently()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var coordinator = host.Coordinator;
        await coordinator.SetAsync("shared", -1, cancellationToken: Token);

        // Sets and deletes of one key race; afterwards the key holds one of the values set, or nothing when a delete
        // came last, and the first delete to run found it.
        var deletesThatFound = 0;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(
            async () =>
            {
                if (i % 4 == 0)
                {
                    if (await coordinator.DeleteAsync("shared", Token))
                    {
                        Interlocked.Increment(ref deletesThatFound);
                    }
                }
                else
                {
                    await coordinator.SetAsync("shared", i, cancellationToken: Token);
                }
            },
            Token)));

        var final = await coordinator.GetAsync<int>("shared", Token);
        Assert.True(!final.HasValue || (final.Value % 4 != 0 && final.Value is > 0 and < 64), $"unexpected final value {final.Value}");
        Assert.InRange(deletesThatFound, 1, 16);
    }
}
