using System.Net.Http.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// Delivers the notifications this node won to every webhook: a bounded queue (<see cref="AlertsOptions.DeliveryQueueCapacity"/>;
/// when full a notification is dropped, logged and counted) drained by one loop that posts through
/// <see cref="IHttpClientFactory"/> (client <see cref="HttpClientName"/>, whose resilience handler retries with
/// exponential backoff and jitter). A post that still fails is logged and counted once and never queued again.
/// </summary>
internal sealed class AlertDispatcher(
    AlertsOptions options,
    IHttpClientFactory httpClients,
    AlertsMetrics metrics,
    ILogger logger)
{
    public const string HttpClientName = "Coordination.Alerts";

    private readonly Channel<AlertNotification> _queue = Channel.CreateBounded<AlertNotification>(
        new BoundedChannelOptions(options.DeliveryQueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Logs <paramref name="notification"/> and queues it for the webhooks; never waits.</summary>
    public void Enqueue(AlertNotification notification)
    {
        metrics.RecordNotification(notification.Rule, notification.State);
        if (notification.State == AlertNotification.Resolved)
        {
            AlertsLog.Resolved(logger, notification.Rule, notification.Incident, notification.Since, notification.Node);
        }
        else if (notification.Repeat)
        {
            AlertsLog.Repeated(logger, notification.Rule, notification.Incident, notification.Since, notification.Node, notification.Details);
        }
        else
        {
            AlertsLog.Firing(logger, notification.Rule, notification.Incident, notification.Since, notification.Node, notification.Details);
        }

        if (options.Webhooks.Count == 0)
        {
            return;
        }

        if (!_queue.Writer.TryWrite(notification))
        {
            metrics.RecordDelivery("dropped");
            AlertsLog.DeliveryDropped(logger, options.DeliveryQueueCapacity, notification.Rule, notification.State);
        }
    }

    /// <summary>Stops taking notifications; <see cref="RunAsync"/> ends after the queued ones (or when cancelled).</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Posts queued notifications until the queue is completed and empty, or <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var notification in _queue.Reader.ReadAllAsync(cancellationToken))
        {
            await Task.WhenAll(options.Webhooks.Select((webhook, index) => PostAsync(notification, index, webhook.Url!, cancellationToken)));
        }
    }

    private async Task PostAsync(AlertNotification notification, int index, string url, CancellationToken cancellationToken)
    {
        try
        {
            var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.PostAsJsonAsync(url, notification, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                metrics.RecordDelivery("delivered");
                AlertsLog.Delivered(logger, notification.Rule, notification.State, index);
                return;
            }

            metrics.RecordDelivery("failed");
            AlertsLog.DeliveryFailed(logger, notification.Rule, notification.State, notification.Incident, index, $"HTTP {(int)response.StatusCode}", null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any failure of one post is logged and counted; the loop goes on with the next.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            metrics.RecordDelivery("failed");
            AlertsLog.DeliveryFailed(logger, notification.Rule, notification.State, notification.Incident, index, ex.GetType().Name, ex);
        }
    }
}
