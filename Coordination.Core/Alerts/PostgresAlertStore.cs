using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Coordination;

/// <summary>
/// The system-wide incident table in PostgreSQL (<c>{schema}.alert_incidents</c>, one row per rule, created
/// idempotently at first use): each report locks the rows it touches (<c>SELECT ... FOR UPDATE</c>, in rule order so
/// two nodes never deadlock), applies <see cref="AlertIncidentLogic"/> with PostgreSQL's clock and writes the rows
/// back in the same transaction, so exactly one node makes each transition. Independent of Redis, so an outage of
/// Redis is alerted once for the system.
/// </summary>
internal sealed class PostgresAlertStore(NpgsqlDataSource dataSource, string schema, AlertsOptions options) : IAlertStore
{
    private volatile bool _created;

    private readonly string _create = $"""
        SELECT pg_advisory_xact_lock(hashtext('coordination.alert_incidents'));
        CREATE SCHEMA IF NOT EXISTS {schema};
        CREATE TABLE IF NOT EXISTS {schema}.alert_incidents (
            rule text PRIMARY KEY,
            incident_id text,
            since timestamptz,
            state text NOT NULL DEFAULT 'resolved',
            nodes jsonb NOT NULL DEFAULT '{"{}"}',
            last_notified timestamptz,
            details text);
        """;

    private readonly string _ensure = $"INSERT INTO {schema}.alert_incidents (rule) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT (rule) DO NOTHING";

    private readonly string _select = $"""
        SELECT rule, incident_id, since, state, nodes, last_notified, details, clock_timestamp()
        FROM {schema}.alert_incidents
        WHERE rule = ANY($1) OR state = 'firing' OR nodes ? $2
        ORDER BY rule
        FOR UPDATE
        """;

    private readonly string _update = $"""
        UPDATE {schema}.alert_incidents SET incident_id = $2, since = $3, state = $4, nodes = $5, last_notified = $6, details = $7
        WHERE rule = $1
        """;

    public string Kind => "postgresql";

    public async Task<IReadOnlyList<AlertNotification>> ReportAsync(string node, IReadOnlyList<AlertCondition> conditions, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var reported = conditions.ToDictionary(c => c.Rule, StringComparer.Ordinal);
        var active = conditions.Where(c => c.Active).Select(c => c.Rule).Order(StringComparer.Ordinal).ToArray();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (active.Length > 0)
        {
            await using var ensure = new NpgsqlCommand(_ensure, connection, transaction);
            ensure.Parameters.Add(new NpgsqlParameter { Value = active, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await ensure.ExecuteNonQueryAsync(cancellationToken);
        }

        var rows = new List<AlertIncident>();
        var now = DateTimeOffset.MinValue;
        await using (var select = new NpgsqlCommand(_select, connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = active, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            select.Parameters.Add(new NpgsqlParameter { Value = node, NpgsqlDbType = NpgsqlDbType.Text });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var incident = new AlertIncident(reader.GetString(0))
                {
                    IncidentId = reader.IsDBNull(1) ? null : reader.GetString(1),
                    Since = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                    Firing = reader.GetString(3) == AlertNotification.Firing,
                    LastNotified = reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                    Details = reader.IsDBNull(6) ? null : reader.GetString(6),
                };
                foreach (var (name, ms) in JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(4)) ?? [])
                {
                    incident.Nodes[name] = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                }

                now = reader.GetFieldValue<DateTimeOffset>(7);
                rows.Add(incident);
            }
        }

        var notifications = new List<AlertNotification>();
        var batch = new NpgsqlBatch(connection, transaction);
        await using (batch)
        {
            foreach (var incident in rows)
            {
                var condition = reported.GetValueOrDefault(incident.Rule);
                var (changed, notification) = AlertIncidentLogic.Apply(
                    incident, node, condition.Active, condition.Details, now, options.RepeatInterval, options.NodeTimeout, static () => Guid.NewGuid().ToString("N"));
                if (notification is not null)
                {
                    notifications.Add(notification);
                }

                if (changed)
                {
                    var update = new NpgsqlBatchCommand(_update);
                    update.Parameters.Add(new NpgsqlParameter { Value = incident.Rule, NpgsqlDbType = NpgsqlDbType.Text });
                    update.Parameters.Add(new NpgsqlParameter { Value = (object?)incident.IncidentId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                    update.Parameters.Add(new NpgsqlParameter { Value = (object?)incident.Since ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                    update.Parameters.Add(new NpgsqlParameter { Value = incident.Firing ? AlertNotification.Firing : AlertNotification.Resolved, NpgsqlDbType = NpgsqlDbType.Text });
                    update.Parameters.Add(new NpgsqlParameter
                    {
                        Value = JsonSerializer.Serialize(incident.Nodes.ToDictionary(pair => pair.Key, pair => pair.Value.ToUnixTimeMilliseconds())),
                        NpgsqlDbType = NpgsqlDbType.Jsonb,
                    });
                    update.Parameters.Add(new NpgsqlParameter { Value = (object?)incident.LastNotified ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                    update.Parameters.Add(new NpgsqlParameter { Value = (object?)incident.Details ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                    batch.BatchCommands.Add(update);
                }
            }

            if (batch.BatchCommands.Count > 0)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return notifications;
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (_created)
        {
            return;
        }

        // One loop calls the store, and the creation is idempotent and serialized by an advisory lock across nodes.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand(_create, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        _created = true;
    }
}
