using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace HomaBone.Storage;

/// <summary>
/// The audit log in the same SQLite file: table <c>audit_log</c>, written through the single-writer group
/// commit (an entry is durable when <see cref="AppendAuditAsync"/> returns). Triggers refuse UPDATE and
/// DELETE, so the log is append-only even for code that reaches the table directly.
/// </summary>
public sealed partial class SqliteRecordStore : IAuditLog
{
    private const string AuditSchema = """
        CREATE TABLE IF NOT EXISTS audit_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            time INTEGER NOT NULL,
            principal TEXT NOT NULL,
            rpc TEXT NOT NULL,
            cohort_id TEXT NOT NULL,
            cohort_version INTEGER,
            parameters TEXT NOT NULL,
            disclosure_actions TEXT NOT NULL,
            result_messages INTEGER NOT NULL,
            result_bytes INTEGER NOT NULL,
            duration_us INTEGER NOT NULL,
            status_code INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log(time);
        CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        """;

    private Task? _auditSchema;

    // Created once through the writer, after the main schema; a racing second CREATE ... IF NOT EXISTS is harmless.
    private Task AuditSchemaReady => LazyInitializer.EnsureInitialized(ref _auditSchema, CreateAuditSchemaAsync);

    /// <inheritdoc />
    public async Task<long> AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await AuditSchemaReady.WaitAsync(cancellationToken).ConfigureAwait(false);
        var parameters = JsonSerializer.Serialize(entry.Parameters);
        var actions = JsonSerializer.Serialize(entry.DisclosureActions);
        return await EnqueueAsync<long>(
            (connection, transaction) =>
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT INTO audit_log(time, principal, rpc, cohort_id, cohort_version, parameters, disclosure_actions, result_messages, result_bytes, duration_us, status_code)
                    VALUES ($t, $p, $r, $c, $v, $a, $d, $m, $b, $u, $s) RETURNING seq;
                    """;
                command.Parameters.AddWithValue("$t", entry.Time.UtcTicks);
                command.Parameters.AddWithValue("$p", entry.Principal);
                command.Parameters.AddWithValue("$r", entry.Rpc);
                command.Parameters.AddWithValue("$c", entry.CohortId);
                command.Parameters.AddWithValue("$v", entry.CohortVersion is { } version ? version : DBNull.Value);
                command.Parameters.AddWithValue("$a", parameters);
                command.Parameters.AddWithValue("$d", actions);
                command.Parameters.AddWithValue("$m", entry.ResultMessages);
                command.Parameters.AddWithValue("$b", entry.ResultBytes);
                command.Parameters.AddWithValue("$u", (long)entry.Duration.TotalMicroseconds);
                command.Parameters.AddWithValue("$s", entry.StatusCode);
                return (long)command.ExecuteScalar()!;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEntry>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await AuditSchemaReady.WaitAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.From is { } from)
        {
            where.Add("time >= $from");
            command.Parameters.AddWithValue("$from", from.UtcTicks);
        }

        if (query.To is { } to)
        {
            where.Add("time < $to");
            command.Parameters.AddWithValue("$to", to.UtcTicks);
        }

        if (!string.IsNullOrEmpty(query.Principal))
        {
            where.Add("principal = $principal");
            command.Parameters.AddWithValue("$principal", query.Principal);
        }

        if (!string.IsNullOrEmpty(query.Rpc))
        {
            where.Add(query.Rpc.Contains('/', StringComparison.Ordinal) ? "rpc = $rpc" : "rpc LIKE '%/' || $rpc");
            command.Parameters.AddWithValue("$rpc", query.Rpc);
        }

        if (!string.IsNullOrEmpty(query.CohortId))
        {
            where.Add("cohort_id = $cohort");
            command.Parameters.AddWithValue("$cohort", query.CohortId);
        }

        if (query.BeforeSequence > 0)
        {
            where.Add("seq < $before");
            command.Parameters.AddWithValue("$before", query.BeforeSequence);
        }

        command.CommandText = "SELECT seq, time, principal, rpc, cohort_id, cohort_version, parameters, disclosure_actions, result_messages, result_bytes, duration_us, status_code FROM audit_log"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : string.Empty)
            + " ORDER BY seq DESC LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", Math.Max(1, query.Limit));
        var result = new List<AuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new AuditEntry(
                reader.GetInt64(0),
                FromTicks(reader.GetInt64(1)),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(6)) ?? [],
                JsonSerializer.Deserialize<List<string>>(reader.GetString(7)) ?? [],
                reader.GetInt64(8),
                reader.GetInt64(9),
                TimeSpan.FromMicroseconds(reader.GetInt64(10)),
                reader.GetInt32(11)));
        }

        return result;
    }

    private Task CreateAuditSchemaAsync() => EnqueueAsync<int>(
        (connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = AuditSchema;
            return command.ExecuteNonQuery();
        },
        CancellationToken.None);
}
