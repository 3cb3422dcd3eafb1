namespace Coordination.Benchmarks;

/// <summary>How long a call takes to be refused while the circuit is open (isolated by hand, so no timing luck).</summary>
internal sealed class FailFastScenario(BenchmarkSettings settings, IRedisCoordinator coordinator, RedisExecutor executor)
{
    public async Task RunAsync(Report report, CancellationToken cancellationToken)
    {
        await executor.CircuitControl.IsolateAsync(cancellationToken);
        try
        {
            foreach (var concurrency in settings.Concurrency)
            {
                Console.WriteLine($"Fail-fast x{concurrency}: {settings.FailFastDuration.TotalSeconds:0.#} s");
                await LoadRunner.RunAsync(RefusedGetAsync, concurrency, settings.Warmup, cancellationToken);
                var result = await LoadRunner.RunAsync(RefusedGetAsync, concurrency, settings.FailFastDuration, cancellationToken);
                report.AddFailFast(new FailFastRow(concurrency, result));
            }
        }
        finally
        {
            await executor.CircuitControl.CloseAsync(cancellationToken);
        }

        await coordinator.GetAsync<string>("k0", cancellationToken);
    }

    private async ValueTask RefusedGetAsync(int caller, long call)
    {
        try
        {
            await coordinator.GetAsync<string>("k0");
        }
        catch (CoordinationUnavailableException ex) when (ex.Reason == UnavailableReason.CircuitOpen)
        {
            return;
        }

        throw new InvalidOperationException("The call was not refused by the open circuit.");
    }
}
