using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Coordination.IntegrationTests.Caching;

/// <summary>
/// A loopback TCP forwarder in front of a redis-server, so one host can be cut off from Redis (connections dropped,
/// new ones refused) while the others keep working.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private TcpListener? _listener;
    private CancellationTokenSource _stop = new();

    private TcpProxy(int targetPort) => _targetPort = targetPort;

    public int Port { get; private set; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static TcpProxy Start(int targetPort)
    {
        var proxy = new TcpProxy(targetPort);
        proxy.Listen(0);
        return proxy;
    }

    /// <summary>Drops every connection and refuses new ones.</summary>
    public void Cut()
    {
        _stop.Cancel();
        _listener?.Stop();
        _listener = null;
        foreach (var client in _connections.Keys)
        {
            client.Dispose();
        }

        _connections.Clear();
    }

    /// <summary>Accepts connections again on the same port.</summary>
    public void Restore()
    {
        _stop.Dispose();
        _stop = new CancellationTokenSource();
        Listen(Port);
    }

    private void Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _listener = listener;
        _ = AcceptAsync(listener, _stop.Token);
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }

            _connections[client] = 0;
            _connections[upstream] = 0;
            _ = PumpAsync(client, upstream, stop);
            _ = PumpAsync(upstream, client, stop);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken stop)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), stop);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
        finally
        {
            from.Dispose();
            to.Dispose();
            _connections.TryRemove(from, out _);
            _connections.TryRemove(to, out _);
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
