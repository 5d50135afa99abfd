using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace HomaBone.Storage;

/// <summary>
/// The audit log in PostgreSQL: table <c>audit_log</c> (schema migration 2), written through the group-commit
/// writer, so an entry is durable when <see cref="AppendAuditAsync"/> returns. A trigger refuses UPDATE and DELETE
/// (and TRUNCATE), so the log is append-only even for code that reaches the table directly.
/// </summary>
public sealed partial class PostgresRecordStore : IAuditLog
{
    /// <summary>Schema migration 2: the audit log.</summary>
    internal const string AuditSchema = """
        CREATE TABLE IF NOT EXISTS audit_log (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time bigint NOT NULL,
            principal text COLLATE "C" NOT NULL,
            rpc text COLLATE "C" NOT NULL,
            cohort_id text COLLATE "C" NOT NULL,
            cohort_version bigint,
            parameters text NOT NULL,
            disclosure_actions text NOT NULL,
            result_messages bigint NOT NULL,
            result_bytes bigint NOT NULL,
            duration_us bigint NOT NULL,
            status_code integer NOT NULL);
        CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log(time);
        CREATE OR REPLACE FUNCTION homabone_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only';
        END
        $fn$;
        DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
        CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION homabone_audit_log_append_only();
        DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION homabone_audit_log_append_only();
        """;

    /// <inheritdoc />
    public Task<long> AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var parameters = JsonSerializer.Serialize(entry.Parameters);
        var actions = JsonSerializer.Serialize(entry.DisclosureActions);
        return EnqueueAsync<long>(
            async (connection, transaction, ct) =>
            {
                await using var command = new NpgsqlCommand(
                    """
                    INSERT INTO audit_log(time, principal, rpc, cohort_id, cohort_version, parameters, disclosure_actions, result_messages, result_bytes, duration_us, status_code)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq;
                    """,
                    connection,
                    transaction);
                command.Parameters.Add(Long(entry.Time.UtcTicks));
                command.Parameters.Add(Text(entry.Principal));
                command.Parameters.Add(Text(entry.Rpc));
                command.Parameters.Add(Text(entry.CohortId));
                command.Parameters.Add(new NpgsqlParameter { Value = entry.CohortVersion is { } version ? version : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
                command.Parameters.Add(Text(parameters));
                command.Parameters.Add(Text(actions));
                command.Parameters.Add(Long(entry.ResultMessages));
                command.Parameters.Add(Long(entry.ResultBytes));
                command.Parameters.Add(Long((long)entry.Duration.TotalMicroseconds));
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = entry.StatusCode, NpgsqlDbType = NpgsqlDbType.Integer });
                return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            },
            cohortIds: null,
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEntry>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var command = _dataSource.CreateCommand();
        var where = new List<string>();
        void Filter(string condition, NpgsqlParameter parameter)
        {
            command.Parameters.Add(parameter);
            where.Add(condition.Replace("@", "$" + command.Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }

        if (query.From is { } from)
        {
            Filter("time >= @", Long(from.UtcTicks));
        }

        if (query.To is { } to)
        {
            Filter("time < @", Long(to.UtcTicks));
        }

        if (!string.IsNullOrEmpty(query.Principal))
        {
            Filter("principal = @", Text(query.Principal));
        }

        if (!string.IsNullOrEmpty(query.Rpc))
        {
            Filter(query.Rpc.Contains('/', StringComparison.Ordinal) ? "rpc = @" : "right(rpc, length(@) + 1) = '/' || @", Text(query.Rpc));
        }

        if (!string.IsNullOrEmpty(query.CohortId))
        {
            Filter("cohort_id = @", Text(query.CohortId));
        }

        if (query.BeforeSequence > 0)
        {
            Filter("seq < @", Long(query.BeforeSequence));
        }

        command.Parameters.Add(Long(Math.Max(1, query.Limit)));
        command.CommandText = "SELECT seq, time, principal, rpc, cohort_id, cohort_version, parameters, disclosure_actions, result_messages, result_bytes, duration_us, status_code FROM audit_log"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : string.Empty)
            + " ORDER BY seq DESC LIMIT $" + command.Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + ";";
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
}
