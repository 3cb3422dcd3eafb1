using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>
/// Options of the alerts capability (<c>WithAlerts</c>), bound from <see cref="SectionName"/> and validated at start:
/// the rule thresholds, the pace of evaluation and repetition, and the webhooks notifications are posted to.
/// </summary>
public sealed class AlertsOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Alerts";

    /// <summary>Gets or sets whether this node evaluates its rules and takes part in the notifications.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets the name of this node in notifications and in the shared incident table: 1..128 letters, digits,
    /// '.', '_', ':' or '-'. Every node of a system needs its own.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <c>{application}-{machine}-{process id}</c>.</value>
    [RegularExpression("^[A-Za-z0-9._:-]{1,128}$", ErrorMessage = "Coordination:Alerts:NodeName must be 1..128 letters, digits, '.', '_', ':' or '-'.")]
    public string? NodeName { get; set; }

    /// <summary>Gets or sets how often the node evaluates its rules and reports them to the shared incident table.</summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00", ErrorMessage = "Coordination:Alerts:EvaluationInterval must be between 50 ms and 5 minutes.")]
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long the circuit must stay open (or isolated) before <see cref="AlertRules.CircuitOpen"/> fires; zero fires at once.</summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "Coordination:Alerts:CircuitOpenThreshold must be between 0 and 1 day.")]
    public TimeSpan CircuitOpenThreshold { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the p99 of Redis round trips above which <see cref="AlertRules.RedisLatency"/> fires.</summary>
    /// <value>The default value is 250 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00", ErrorMessage = "Coordination:Alerts:LatencyThreshold must be between 1 ms and 1 minute.")]
    public TimeSpan LatencyThreshold { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets or sets the sliding window of this node's Redis round trips (operations and health PINGs) the p99 is taken over.</summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Coordination:Alerts:LatencyWindow must be between 1 second and 1 hour.")]
    public TimeSpan LatencyWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how many round trips the window must hold before the p99 is judged (fewer say nothing reliable).</summary>
    /// <value>The default value is 20.</value>
    [Range(1, 4096, ErrorMessage = "Coordination:Alerts:LatencyMinimumSamples must be between 1 and 4096.")]
    public int LatencyMinimumSamples { get; set; } = 20;

    /// <summary>Gets or sets the number of writes waiting to be mirrored into PostgreSQL above which <see cref="AlertRules.MirrorBacklog"/> fires.</summary>
    /// <value>The default value is 10000.</value>
    [Range(1, int.MaxValue, ErrorMessage = "Coordination:Alerts:MirrorBacklogThreshold must be at least 1.")]
    public int MirrorBacklogThreshold { get; set; } = 10_000;

    /// <summary>Gets or sets how long <see cref="AlertRules.LockLost"/> keeps firing after the last lock this node lost.</summary>
    /// <value>The default value is 5 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00", ErrorMessage = "Coordination:Alerts:LockLostWindow must be between 50 ms and 1 day.")]
    public TimeSpan LockLostWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how often a firing incident is notified again while it lasts (system-wide: one notification per
    /// interval, whatever the number of nodes). At least <see cref="EvaluationInterval"/>.
    /// </summary>
    /// <value>The default value is 15 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "Coordination:Alerts:RepeatInterval must be between 1 second and 7 days.")]
    public TimeSpan RepeatInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Gets or sets how long a node's last report keeps an incident open: a node that reported a condition and then
    /// stopped reporting (crashed, cut off) no longer holds it after this. At least twice <see cref="EvaluationInterval"/>.
    /// </summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Coordination:Alerts:NodeTimeout must be between 100 ms and 1 day.")]
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets the webhooks every notification is posted to (at most 16); none means notifications are only logged.</summary>
    public IList<AlertWebhookOptions> Webhooks { get; } = [];

    /// <summary>Gets or sets how many notifications may wait for delivery; when full, new ones are dropped, logged and counted.</summary>
    /// <value>The default value is 1000.</value>
    [Range(1, 100_000, ErrorMessage = "Coordination:Alerts:DeliveryQueueCapacity must be between 1 and 100000.")]
    public int DeliveryQueueCapacity { get; set; } = 1000;

    /// <summary>Gets or sets how many times a failed post (transport error, timeout, 408, 429, 5xx) is retried, with exponential backoff and jitter.</summary>
    /// <value>The default value is 3.</value>
    [Range(0, 10, ErrorMessage = "Coordination:Alerts:DeliveryRetries must be between 0 and 10.")]
    public int DeliveryRetries { get; set; } = 3;

    /// <summary>Gets or sets the base delay of the backoff between retries of a post.</summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00", ErrorMessage = "Coordination:Alerts:DeliveryRetryDelay must be between 1 ms and 1 minute.")]
    public TimeSpan DeliveryRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long one attempt to post may take.</summary>
    /// <value>The default value is 10 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Coordination:Alerts:DeliveryAttemptTimeout must be between 100 ms and 5 minutes.")]
    public TimeSpan DeliveryAttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
