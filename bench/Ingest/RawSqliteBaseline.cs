using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace HomaBone.Ingest.Bench;

/// <summary>One participant's rows as the service stored them (the payload by its size only).</summary>
internal sealed record StoredRow(string ParticipantId, long Revision, int State, int Shard, long CreateTime, string Etag, int PayloadLength, long UpdateTime, long Seq, string RequestId);

/// <summary>
/// The floor the disk sets: the same rows inserted into the same tables (schema of src/Storage/SqliteRecordStore.cs:
/// participants with its shard index, participant_revisions, request_log, outbox) in one transaction, with the
/// store's durability settings (WAL, synchronous=FULL), on a fresh file.
/// </summary>
internal static class RawSqliteBaseline
{
    /// <summary>participants, participant_revisions, request_log and outbox: one row each per participant.</summary>
    public const int TableRowsPerParticipant = 4;

    private const string Schema = """
        CREATE TABLE participants (
            cohort_id TEXT NOT NULL,
            participant_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            state INTEGER NOT NULL,
            shard INTEGER NOT NULL,
            create_time INTEGER NOT NULL,
            PRIMARY KEY (cohort_id, participant_id)) WITHOUT ROWID;
        CREATE TABLE participant_revisions (
            cohort_id TEXT NOT NULL,
            participant_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            state INTEGER NOT NULL,
            etag TEXT NOT NULL,
            payload BLOB NOT NULL,
            update_time INTEGER NOT NULL,
            seq INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (cohort_id, participant_id, revision)) WITHOUT ROWID;
        CREATE TABLE request_log (
            cohort_id TEXT NOT NULL,
            participant_id TEXT NOT NULL,
            request_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            PRIMARY KEY (cohort_id, participant_id, request_id)) WITHOUT ROWID;
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            cohort_id TEXT NOT NULL,
            participant_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            shard INTEGER NOT NULL,
            UNIQUE (cohort_id, participant_id, revision));
        CREATE INDEX participants_shard ON participants(cohort_id, shard);
        """;

    /// <summary>Reads the current revision of every participant of the cohort from the service's store file.</summary>
    public static List<StoredRow> ReadStoredRows(string storeFile, string cohortId)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storeFile, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT p.participant_id, p.revision, p.state, p.shard, p.create_time, r.etag, length(r.payload), r.update_time, r.seq,
                   COALESCE((SELECT l.request_id FROM request_log l WHERE l.cohort_id = p.cohort_id AND l.participant_id = p.participant_id AND l.revision = p.revision), '')
            FROM participants p
            JOIN participant_revisions r ON r.cohort_id = p.cohort_id AND r.participant_id = p.participant_id AND r.revision = p.revision
            WHERE p.cohort_id = $c
            ORDER BY p.participant_id;
            """;
        command.Parameters.AddWithValue("$c", cohortId);
        var rows = new List<StoredRow>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(new StoredRow(reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt64(4), reader.GetString(5), reader.GetInt32(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetString(9)));
        }

        return rows;
    }

    /// <summary>Inserts the rows in one transaction; the time includes the durable commit.</summary>
    public static TimeSpan Run(IReadOnlyList<StoredRow> rows, string path, string cohortId = "bench")
    {
        // Payloads of the stored sizes (random bytes, as incompressible as protobuf to SQLite), made before timing.
        var random = new Random(1);
        var payloads = new Dictionary<int, byte[]>();
        foreach (var length in rows.Select(r => r.PayloadLength).Distinct())
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            payloads[length] = bytes;
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        Execute(connection, Schema);

        var clock = Stopwatch.StartNew();
        using (var transaction = connection.BeginTransaction(deferred: false))
        {
            using var head = Prepare(connection, transaction, "INSERT INTO participants(cohort_id, participant_id, revision, state, shard, create_time) VALUES ($c, $p, $r, $s, $h, $t);", "$c", "$p", "$r", "$s", "$h", "$t");
            using var revision = Prepare(connection, transaction, "INSERT INTO participant_revisions(cohort_id, participant_id, revision, state, etag, payload, update_time, seq) VALUES ($c, $p, $r, $s, $e, $b, $t, $q);", "$c", "$p", "$r", "$s", "$e", "$b", "$t", "$q");
            using var request = Prepare(connection, transaction, "INSERT INTO request_log(cohort_id, participant_id, request_id, revision) VALUES ($c, $p, $q, $r);", "$c", "$p", "$q", "$r");
            using var outbox = Prepare(connection, transaction, "INSERT INTO outbox(cohort_id, participant_id, revision, shard) VALUES ($c, $p, $r, $h);", "$c", "$p", "$r", "$h");
            foreach (var row in rows)
            {
                Bind(head, cohortId, row.ParticipantId, row.Revision, row.State, row.Shard, row.CreateTime);
                Bind(revision, cohortId, row.ParticipantId, row.Revision, row.State, row.Etag, payloads[row.PayloadLength], row.UpdateTime, row.Seq);
                Bind(request, cohortId, row.ParticipantId, row.RequestId, row.Revision);
                Bind(outbox, cohortId, row.ParticipantId, row.Revision, row.Shard);
                head.ExecuteNonQuery();
                revision.ExecuteNonQuery();
                request.ExecuteNonQuery();
                outbox.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        clock.Stop();
        return clock.Elapsed;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Prepare(SqliteConnection connection, SqliteTransaction transaction, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    private static void Bind(SqliteCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }
    }
}
