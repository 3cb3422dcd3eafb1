using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The location sessions are moved from (<see cref="SessionMigrationOptions"/>): its key prefix and its connection,
/// which is the current pool when only the prefix changes, else a connection of its own, opened on first use and
/// disposed with the container. Every failure to reach it leaves as <see cref="CoordinationUnavailableException"/>:
/// a read through it must never mistake an unreachable source for a missing session.
/// </summary>
internal sealed class SessionMigrationSource : IAsyncDisposable
{
    private readonly RedisExecutor _current;
    private readonly ConfigurationOptions? _configuration;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _connection;
    private int _disposed;

    public SessionMigrationSource(SessionMigrationOptions options, string currentKeyPrefix, RedisExecutor current)
    {
        _current = current;
        IsEnabled = options.IsEnabled;
        KeyPrefix = string.IsNullOrEmpty(options.KeyPrefix) ? currentKeyPrefix : options.KeyPrefix;
        PrefixChanges = !string.Equals(KeyPrefix, currentKeyPrefix, StringComparison.Ordinal);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            _configuration = ConfigurationOptions.Parse(options.ConnectionString);
            // Started without the source reachable, the host still starts; calls then fail as unavailable.
            _configuration.AbortOnConnectFail = false;
        }
    }

    /// <summary>Whether a source is configured at all.</summary>
    public bool IsEnabled { get; }

    /// <summary>The key prefix of the sessions at the source.</summary>
    public string KeyPrefix { get; }

    /// <summary>Whether the source's key prefix differs from the current one (then a user's sessions have two tags).</summary>
    public bool PrefixChanges { get; }

    /// <summary>Runs <paramref name="call"/> on the source.</summary>
    /// <exception cref="CoordinationUnavailableException">The source cannot be reached or did not answer in time.</exception>
    public async ValueTask<TResult> ExecuteAsync<TState, TResult>(string operation, Func<IDatabase, TState, Task<TResult>> call, TState state, CancellationToken cancellationToken)
    {
        if (_configuration is null)
        {
            return await _current.ExecuteAsync(operation, idempotent: true, call, state, cancellationToken);
        }

        var database = (await ConnectAsync(operation, cancellationToken)).GetDatabase();
        try
        {
            try
            {
                return await call(database, state).WaitAsync(cancellationToken);
            }
            catch (RedisServerException ex) when (RedisScript.IsMissing(ex))
            {
                return await RedisScript.LoadAllAndRunAgainAsync(database, call, state, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw ExceptionFactory.Unavailable(operation, ex);
        }
    }

    /// <summary>The source's connected primaries, whose keys a bulk migration walks with SCAN.</summary>
    /// <exception cref="CoordinationUnavailableException">The source cannot be reached.</exception>
    public async ValueTask<IReadOnlyList<IServer>> PrimariesAsync(CancellationToken cancellationToken)
    {
        var multiplexer = _configuration is null ? _current.Pool.RentMultiplexer() : await ConnectAsync("sessions.migrate", cancellationToken);
        var primaries = multiplexer.GetServers().Where(server => server.IsConnected && !server.IsReplica).ToArray();
        return primaries.Length > 0 ? primaries : throw ExceptionFactory.NoConnection("sessions.migrate");
    }

    private async ValueTask<IConnectionMultiplexer> ConnectAsync(string operation, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        if (Volatile.Read(ref _connection) is { } connection)
        {
            return connection;
        }

        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_connection is null)
            {
                try
                {
                    Volatile.Write(ref _connection, await ConnectionMultiplexer.ConnectAsync(_configuration!));
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    throw ExceptionFactory.Unavailable(operation, ex);
                }
            }

            return _connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (Interlocked.Exchange(ref _connection, null) is { } connection)
        {
            await connection.DisposeAsync();
        }

        _connecting.Dispose();
    }
}
