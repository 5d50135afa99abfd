using Npgsql;

namespace HomaBone.Storage;

/// <summary>
/// The PostgreSQL schema HomaBone owns: forward-only migrations recorded in <c>schema_version</c>. Every
/// statement is idempotent (<c>IF NOT EXISTS</c>, <c>CREATE OR REPLACE</c>), each migration runs in its own
/// transaction, and a transaction-scoped advisory lock makes silos that start together migrate one at a time.
/// Identifiers use the "C" collation so that ordering and paging agree with ordinal string order (as SQLite).
/// Times are UTC ticks (bigint), exactly as the embedded store keeps them.
/// </summary>
public static class PostgresSchema
{
    /// <summary>The advisory lock key of schema migrations ("homabone" in ASCII).</summary>
    public const long MigrationLockKey = 0x686f6d61626f6e65;

    /// <summary>The migrations in order; the index + 1 is the version each one produces.</summary>
    public static IReadOnlyList<string> Migrations { get; } =
    [
        // v1: the tables of SqliteRecordStore schema v2, and the write procedure.
        """
        CREATE TABLE IF NOT EXISTS cohorts (
            cohort_id text COLLATE "C" NOT NULL PRIMARY KEY,
            payload bytea NOT NULL,
            etag text NOT NULL,
            create_time bigint NOT NULL,
            update_time bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS participants (
            cohort_id text COLLATE "C" NOT NULL,
            participant_id text COLLATE "C" NOT NULL,
            revision bigint NOT NULL,
            state integer NOT NULL,
            shard integer NOT NULL,
            create_time bigint NOT NULL,
            PRIMARY KEY (cohort_id, participant_id));
        CREATE INDEX IF NOT EXISTS participants_shard ON participants(cohort_id, shard);
        CREATE TABLE IF NOT EXISTS participant_revisions (
            cohort_id text COLLATE "C" NOT NULL,
            participant_id text COLLATE "C" NOT NULL,
            revision bigint NOT NULL,
            state integer NOT NULL,
            etag text NOT NULL,
            payload bytea NOT NULL,
            update_time bigint NOT NULL,
            seq bigint NOT NULL,
            PRIMARY KEY (cohort_id, participant_id, revision));
        CREATE INDEX IF NOT EXISTS participant_revisions_seq ON participant_revisions(cohort_id, seq);
        CREATE TABLE IF NOT EXISTS request_log (
            cohort_id text COLLATE "C" NOT NULL,
            participant_id text COLLATE "C" NOT NULL,
            request_id text COLLATE "C" NOT NULL,
            revision bigint NOT NULL,
            PRIMARY KEY (cohort_id, participant_id, request_id));
        CREATE TABLE IF NOT EXISTS outbox (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            cohort_id text COLLATE "C" NOT NULL,
            participant_id text COLLATE "C" NOT NULL,
            revision bigint NOT NULL,
            shard integer NOT NULL,
            UNIQUE (cohort_id, participant_id, revision));
        CREATE INDEX IF NOT EXISTS outbox_cohort ON outbox(cohort_id, seq);
        CREATE TABLE IF NOT EXISTS cohort_counters (
            cohort_id text COLLATE "C" NOT NULL PRIMARY KEY,
            seq bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS cohort_versions (
            cohort_id text COLLATE "C" NOT NULL,
            version bigint NOT NULL,
            seq bigint NOT NULL,
            data_time bigint NOT NULL,
            publish_time bigint NOT NULL,
            settings bytea NOT NULL,
            PRIMARY KEY (cohort_id, version));

        -- One participant write, checked and applied like SqliteRecordStore.ApplyWrites.
        -- o_status: 0 stored, 1 duplicate request id, 2 conflict (WriteStatus).
        CREATE OR REPLACE FUNCTION homabone_apply_write(
            p_cohort text, p_participant text, p_expected bigint, p_request text, p_state integer,
            p_etag text, p_payload bytea, p_shard integer, p_time bigint,
            OUT o_status integer, OUT o_revision bigint, OUT o_seq bigint)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_current bigint;
        BEGIN
            o_seq := 0;
            IF p_request <> '' THEN
                SELECT l.revision INTO o_revision FROM request_log l
                    WHERE l.cohort_id = p_cohort AND l.participant_id = p_participant AND l.request_id = p_request;
                IF FOUND THEN
                    o_status := 1;
                    RETURN;
                END IF;
            END IF;

            SELECT h.revision INTO v_current FROM participants h
                WHERE h.cohort_id = p_cohort AND h.participant_id = p_participant FOR UPDATE;
            v_current := COALESCE(v_current, 0);
            IF v_current <> p_expected THEN
                o_status := 2;
                o_revision := v_current;
                RETURN;
            END IF;

            o_revision := v_current + 1;
            INSERT INTO cohort_counters AS k (cohort_id, seq) VALUES (p_cohort, 1)
                ON CONFLICT (cohort_id) DO UPDATE SET seq = k.seq + 1
                RETURNING k.seq INTO o_seq;
            INSERT INTO participant_revisions(cohort_id, participant_id, revision, state, etag, payload, update_time, seq)
                VALUES (p_cohort, p_participant, o_revision, p_state, p_etag, p_payload, p_time, o_seq);
            INSERT INTO participants AS h (cohort_id, participant_id, revision, state, shard, create_time)
                VALUES (p_cohort, p_participant, o_revision, p_state, p_shard, p_time)
                ON CONFLICT (cohort_id, participant_id) DO UPDATE SET revision = excluded.revision, state = excluded.state;
            IF p_request <> '' THEN
                INSERT INTO request_log(cohort_id, participant_id, request_id, revision)
                    VALUES (p_cohort, p_participant, p_request, o_revision);
            END IF;

            INSERT INTO outbox(cohort_id, participant_id, revision, shard) VALUES (p_cohort, p_participant, o_revision, p_shard);
            o_status := 0;
        END
        $fn$;
        """,

        // v2: the audit log (IAuditLog), append-only by trigger.
        PostgresRecordStore.AuditSchema,
    ];

    /// <summary>The version this build migrates to.</summary>
    public static int LatestVersion => Migrations.Count;

    /// <summary>Applies the migrations the database has not seen; refuses a database newer than this build.</summary>
    public static async Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());", connection))
        {
            try
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateObject)
            {
                // Two silos created the table at the same moment: it exists now.
            }
        }

        for (var version = 1; version <= LatestVersion; version++)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLockKey});", connection, transaction))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var current = await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            if (current > LatestVersion)
            {
                throw new InvalidOperationException($"The database schema version {current} is newer than this build supports ({LatestVersion}).");
            }

            if (current >= version)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            await using (var migrate = new NpgsqlCommand(Migrations[version - 1], connection, transaction))
            {
                await migrate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var record = new NpgsqlCommand($"INSERT INTO schema_version(version) VALUES ({version});", connection, transaction))
            {
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The highest applied migration (0 for an empty database).</summary>
    public static Task<int> CurrentVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken) => ReadVersionAsync(connection, null, cancellationToken);

    private static async Task<int> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_version;", connection, transaction);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }
}
