using Coordination.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Coordination.Worker.Tests.Infrastructure;

/// <summary>
/// The real worker (its <c>Program.cs</c>, in process) on a real Redis, with its own key prefix and instance name, a
/// one-second heartbeat and its log events collected (<see cref="Logs"/>, Debug and up for the worker's categories).
/// Settings are host settings, so <c>Program.cs</c> sees them while it registers services.
/// </summary>
public sealed class WorkerApp : WebApplicationFactory<Program>
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    /// <param name="redisConnectionString">ConnectionStrings:redis.</param>
    /// <param name="settings">More configuration (<c>Worker:*</c>, <c>Coordination:*</c>), applied last; a null value removes a setting.</param>
    /// <param name="services">Replaces services of the worker (a fake for a failure Redis cannot be made to produce).</param>
    public WorkerApp(string redisConnectionString, IEnumerable<KeyValuePair<string, string?>>? settings = null, Action<IServiceCollection>? services = null)
    {
        _services = services;
        KeyPrefix = TestKeys.NewPrefix();
        _settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redisConnectionString,
            ["Coordination:KeyPrefix"] = KeyPrefix,
            ["Worker:InstanceName"] = "worker-" + KeyPrefix,
            ["Worker:HeartbeatInterval"] = "00:00:01",
            ["Logging:LogLevel:Coordination.Worker"] = "Debug",
            ["Logging:LogLevel:Coordination.DutyScheduler"] = "Debug",
        };
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }
    }

    /// <summary>Coordination:KeyPrefix, unique to this instance.</summary>
    public string KeyPrefix { get; }

    /// <summary>Worker:InstanceName as configured.</summary>
    public string? InstanceName => _settings["Worker:InstanceName"];

    /// <summary>The Redis key of this worker's heartbeat (the coordinator's key/value layout for the default tenant).</summary>
    public string HeartbeatKey => $"{KeyPrefix}:default:kv:worker:heartbeat:{InstanceName}";

    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    /// <summary>Starts the worker (options validated, hosted services started), bounded.</summary>
    public Task StartAsync() => Task.Run(StartServer).WaitAsync(StartTimeout, TestContext.Current.CancellationToken);

    /// <summary>
    /// Waits until the worker (a category under <c>Coordination.Worker</c>; the library's event ids overlap) wrote the
    /// event <paramref name="eventId"/>, and returns the first one.
    /// </summary>
    public async Task<FakeLogRecord> WaitForEventAsync(int eventId, TimeSpan timeout, string what)
    {
        FakeLogRecord? found = null;
        await ProcessUtil.WaitUntilAsync(
            () => (found = Events(eventId) is [var first, ..] ? first : null) is not null,
            timeout,
            what,
            TestContext.Current.CancellationToken);
        return found!;
    }

    /// <summary>The worker's events <paramref name="eventId"/> written so far, oldest first.</summary>
    public IReadOnlyList<FakeLogRecord> Events(int eventId) =>
        [.. Logs.GetSnapshot().Where(r => r.Id.Id == eventId && r.Category?.StartsWith("Coordination.Worker.", StringComparison.Ordinal) == true)];

    /// <summary>The duty scheduler's events <paramref name="eventId"/> (category <c>Coordination.DutyScheduler</c>) written so far, oldest first.</summary>
    public IReadOnlyList<FakeLogRecord> DutyEvents(int eventId) =>
        [.. Logs.GetSnapshot().Where(r => r.Id.Id == eventId && r.Category == "Coordination.DutyScheduler")];

    /// <summary>Waits until the duty scheduler wrote the event <paramref name="eventId"/>, and returns the first one.</summary>
    public async Task<FakeLogRecord> WaitForDutyEventAsync(int eventId, TimeSpan timeout, string what)
    {
        FakeLogRecord? found = null;
        await ProcessUtil.WaitUntilAsync(
            () => (found = DutyEvents(eventId) is [var first, ..] ? first : null) is not null,
            timeout,
            what,
            TestContext.Current.CancellationToken);
        return found!;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // A null value leaves the setting out, so the worker's own default applies.
        foreach (var (key, value) in _settings.Where(s => s.Value is not null))
        {
            builder.UseSetting(key, value);
        }

        // Only the collector: the console and OpenTelemetry loggers would print every test's host to the test output.
        builder.ConfigureLogging(logging => logging.ClearProviders().AddFakeLogging());
        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }
}
