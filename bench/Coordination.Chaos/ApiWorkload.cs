using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Coordination.Chaos;

/// <summary>
/// Workers send key/value puts and gets and rate-limit acquisitions to the API replicas in rotation. 2xx, 404 and 429
/// are answers; a 503 problem is the documented failure; any other status is a contract violation.
/// </summary>
internal sealed class ApiWorkload(Recorder recorder, ApiPool pool)
{
    public const int Workers = 4;

    public static string Probe(string replica) => $"http@{replica}";

    public Task[] Start(CancellationToken cancellationToken) =>
        [.. Enumerable.Range(0, Workers).Select(worker => Task.Run(() => RunAsync(worker, cancellationToken), cancellationToken))];

    private async Task RunAsync(int worker, CancellationToken cancellationToken)
    {
        for (var call = 0L; !cancellationToken.IsCancellationRequested; call++)
        {
            if (pool.Next() is not { } replica)
            {
                await Delay(5, cancellationToken);
                continue;
            }

            var key = $"chaos-http-{worker}-{call % 20}";
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var response = (call % 3) switch
                {
                    0 => await replica.Client.PutAsJsonAsync($"/v1/kv/{key}", new { value = call }, cancellationToken),
                    1 => await replica.Client.GetAsync($"/v1/kv/{key}", cancellationToken),
                    _ => await replica.Client.PostAsJsonAsync($"/v1/ratelimit/{ChaosConfiguration.Policy}/acquire", new { key = $"http-{worker}" }, cancellationToken),
                };
                var status = (int)response.StatusCode;
                if (status is >= 200 and < 300 || response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.TooManyRequests)
                {
                    recorder.Current.Success(start, Probe(replica.Name));
                }
                else
                {
                    throw new HttpStatusException(status, await ReasonAsync(response, cancellationToken));
                }
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } && !cancellationToken.IsCancellationRequested)
            {
                pool.TakeOut(replica);
                recorder.Failure(start, $"http", ex);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                recorder.Failure(start, "http", ex);
                await Delay(5, cancellationToken);
            }

            await Delay(1, cancellationToken);
        }
    }

    private static async Task<string?> ReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var problem = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            return problem.RootElement.TryGetProperty("reason", out var reason) ? reason.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task Delay(int milliseconds, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(milliseconds, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
