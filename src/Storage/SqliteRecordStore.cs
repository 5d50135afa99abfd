using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace HomaBone.Storage;

/// <summary>
/// The embedded system of record: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so a committed
/// transaction survives a crash of the process or the machine. All writes go through one writer task that
/// coalesces concurrent callers into one transaction (group commit): many participant grains writing at once
/// cost one fsync, and every caller's task completes only after that commit.
/// </summary>
public sealed partial class SqliteRecordStore : IRecordStore, IAsyncDisposable
{
    private const int SchemaVersion = 2;
    private const int MaxWritesPerCommit = 4096;

    private readonly string _connectionString;
    /// <summary>
    /// With <c>soleWriter</c>: each cohort's change counter as last committed by this store's writer, so
    /// <see cref="CurrentSeqAsync"/> — asked by every analysis call — needs no query once known. Raised only after
    /// the transaction that assigned the seqs committed, before its callers are answered. Null otherwise.
    /// </summary>
    private readonly ConcurrentDictionary<string, long>? _committedSeqs;

    // Writer loop only: the seqs assigned by the current caller's savepoint, and by the transaction so far.
    private readonly Dictionary<string, long> _callerSeqs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _transactionSeqs = new(StringComparer.Ordinal);

    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private Task? _writerLoop;
    private WriterStatements? _statements;
    private bool _initialized;

    /// <summary>Creates a store over the SQLite file at <paramref name="path"/> (its folder is created).</summary>
    /// <param name="path">The database file.</param>
    /// <param name="soleWriter">
    /// True when no other store instance or process writes participant revisions to this file (the single-machine
    /// host: one silo per file), so the cohorts' change counters can be served from memory. Several silos over one
    /// file (in-process test clusters) must leave it false.
    /// </param>
    public SqliteRecordStore(string path, bool soleWriter = false)
    {
        _committedSeqs = soleWriter ? new(StringComparer.Ordinal) : null;
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The file path of the database.</summary>
    public string ConnectionString => _connectionString;

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await _initLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_initialized)
            {
                return;
            }

            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, Schema, cancellationToken).ConfigureAwait(false);
            await using (var check = connection.CreateCommand())
            {
                check.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version;";
                var current = Convert.ToInt32(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
                if (current > SchemaVersion)
                {
                    throw new InvalidOperationException($"The database schema version {current} is newer than this build supports ({SchemaVersion}).");
                }

                if (current == 1)
                {
                    // v2: change sequence numbers per cohort and published versions (cohort analysis).
                    await ExecuteAsync(connection, "ALTER TABLE participant_revisions ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;", cancellationToken).ConfigureAwait(false);
                }

                if (current < SchemaVersion)
                {
                    await ExecuteAsync(connection, SchemaV2, cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(connection, $"INSERT INTO schema_version(version) VALUES ({SchemaVersion});", cancellationToken).ConfigureAwait(false);
                }
            }

            _writerLoop = Task.Factory.StartNew(WriterLoopAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            _initialized = true;
        }
        finally
        {
            _initLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<StoredCohort?> GetCohortAsync(string cohortId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload, etag, create_time, update_time FROM cohorts WHERE cohort_id = $c;";
        command.Parameters.AddWithValue("$c", cohortId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new StoredCohort(cohortId, (byte[])reader[0], reader.GetString(1), FromTicks(reader.GetInt64(2)), FromTicks(reader.GetInt64(3)));
    }

    /// <inheritdoc />
    public Task<bool> TryCreateCohortAsync(StoredCohort cohort, string requestKey = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cohort);
        ArgumentNullException.ThrowIfNull(requestKey);
        return EnqueueAsync<bool>(
            (connection, transaction) =>
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO cohorts(cohort_id, payload, etag, create_time, update_time) VALUES ($c, $p, $e, $t0, $t1) ON CONFLICT(cohort_id) DO NOTHING;";
                command.Parameters.AddWithValue("$c", cohort.CohortId);
                command.Parameters.AddWithValue("$p", cohort.Payload);
                command.Parameters.AddWithValue("$e", cohort.Etag);
                command.Parameters.AddWithValue("$t0", cohort.CreateTime.UtcTicks);
                command.Parameters.AddWithValue("$t1", cohort.UpdateTime.UtcTicks);
                var created = command.ExecuteNonQuery() == 1;
                if (created)
                {
                    LogCohortRequest(connection, transaction, cohort.CohortId, requestKey);
                }

                return created;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> TryUpdateCohortAsync(StoredCohort cohort, string expectedEtag, string requestKey = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cohort);
        ArgumentNullException.ThrowIfNull(requestKey);
        return EnqueueAsync<bool>(
            (connection, transaction) =>
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "UPDATE cohorts SET payload = $p, etag = $e, update_time = $t1 WHERE cohort_id = $c AND etag = $x;";
                command.Parameters.AddWithValue("$c", cohort.CohortId);
                command.Parameters.AddWithValue("$p", cohort.Payload);
                command.Parameters.AddWithValue("$e", cohort.Etag);
                command.Parameters.AddWithValue("$t1", cohort.UpdateTime.UtcTicks);
                command.Parameters.AddWithValue("$x", expectedEtag);
                var updated = command.ExecuteNonQuery() == 1;
                if (updated)
                {
                    LogCohortRequest(connection, transaction, cohort.CohortId, requestKey);
                }

                return updated;
            },
            cancellationToken);
    }

    /// <summary>A cohort write's request key in the request log (participant id "", revision 0), in its transaction.</summary>
    private static void LogCohortRequest(SqliteConnection connection, SqliteTransaction transaction, string cohortId, string requestKey)
    {
        if (requestKey.Length == 0)
        {
            return;
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO request_log(cohort_id, participant_id, request_id, revision) VALUES ($c, '', $q, 0) ON CONFLICT DO NOTHING;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$q", requestKey);
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public async Task<StoredRevision?> GetCurrentAsync(string cohortId, string participantId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = RevisionSelect + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id AND p.revision = r.revision WHERE r.cohort_id = $c AND r.participant_id = $p;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$p", participantId);
        return await ReadSingleRevisionAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<StoredRevision?> GetRevisionAsync(string cohortId, string participantId, long revision, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = RevisionSelect + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id WHERE r.cohort_id = $c AND r.participant_id = $p AND r.revision = $r;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$p", participantId);
        command.Parameters.AddWithValue("$r", revision);
        return await ReadSingleRevisionAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WriteOutcome>> WriteAsync(IReadOnlyList<RevisionWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        return writes.Count == 0
            ? Task.FromResult<IReadOnlyList<WriteOutcome>>([])
            : EnqueueAsync<IReadOnlyList<WriteOutcome>>((_, _) => ApplyWrites(writes), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<long?> FindRequestAsync(string cohortId, string participantId, string requestId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT revision FROM request_log WHERE cohort_id = $c AND participant_id = $p AND request_id = $q;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$p", participantId);
        command.Parameters.AddWithValue("$q", requestId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long revision ? revision : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, long>> GetCurrentRevisionsAsync(string cohortId, IReadOnlyCollection<string> participantIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(participantIds);
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        if (participantIds.Count == 0)
        {
            return result;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var chunk in participantIds.Chunk(500))
        {
            // One statement per 500 ids (SQLite allows 32,766 parameters).
            await using var command = connection.CreateCommand();
            var names = new string[chunk.Length];
            for (var i = 0; i < chunk.Length; i++)
            {
                names[i] = "$p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                command.Parameters.AddWithValue(names[i], chunk[i]);
            }

            command.CommandText = "SELECT participant_id, revision FROM participants WHERE cohort_id = $c AND participant_id IN (" + string.Join(", ", names) + ");";
            command.Parameters.AddWithValue("$c", cohortId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevision>> ListCurrentAsync(string cohortId, string? afterParticipantId, int limit, bool includeWithdrawn, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = RevisionSelect
            + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id AND p.revision = r.revision"
            + " WHERE r.cohort_id = $c AND r.participant_id > $after" + (includeWithdrawn ? string.Empty : " AND r.state = 1")
            + " ORDER BY r.participant_id LIMIT $limit;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$after", afterParticipantId ?? string.Empty);
        command.Parameters.AddWithValue("$limit", limit);
        var result = new List<StoredRevision>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(ReadRevision(reader));
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<(long Active, long Withdrawn)> CountAsync(string cohortId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(SUM(state = 1), 0), COALESCE(SUM(state = 2), 0) FROM participants WHERE cohort_id = $c;";
        command.Parameters.AddWithValue("$c", cohortId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OutboxEntry>> PendingOutboxAsync(string cohortId, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT participant_id, revision, shard FROM outbox WHERE cohort_id = $c ORDER BY seq LIMIT $limit;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$limit", limit);
        var result = new List<OutboxEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new OutboxEntry(cohortId, reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2)));
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevision>> ListChangesAsync(string cohortId, long afterSeq, long upToSeq, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = RevisionSelect
            + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id"
            + " WHERE r.cohort_id = $c AND r.seq > $a AND r.seq <= $b ORDER BY r.seq;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$a", afterSeq);
        command.Parameters.AddWithValue("$b", upToSeq);
        return await ReadRevisionsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<long> CountAsOfAsync(string cohortId, long seq, CancellationToken cancellationToken = default)
    {
        // A participant exists from its first revision on.
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM participant_revisions WHERE cohort_id = $c AND revision = 1 AND seq <= $s;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$s", seq);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long count ? count : 0;
    }

    /// <inheritdoc />
    public async Task<long> CurrentSeqAsync(string cohortId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cohortId);
        if (_committedSeqs is not null && _committedSeqs.TryGetValue(cohortId, out var known))
        {
            return known;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq FROM cohort_counters WHERE cohort_id = $c;";
        command.Parameters.AddWithValue("$c", cohortId);
        var stored = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long seq ? seq : 0;

        // The writer may have committed a later seq meanwhile: keep the larger.
        return _committedSeqs?.AddOrUpdate(cohortId, stored, (_, current) => Math.Max(current, stored)) ?? stored;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevision>> ListAsOfAsync(string cohortId, long seq, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = RevisionSelect
            + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id"
            + " WHERE r.cohort_id = $c AND r.revision = (SELECT MAX(r2.revision) FROM participant_revisions r2"
            + " WHERE r2.cohort_id = r.cohort_id AND r2.participant_id = r.participant_id AND r2.seq <= $s)"
            + " ORDER BY r.participant_id;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$s", seq);
        return await ReadRevisionsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevision>> ListShardAsync(string cohortId, int shard, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = RevisionSelect
            + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id AND p.revision = r.revision"
            + " WHERE r.cohort_id = $c AND p.shard = $h ORDER BY r.participant_id;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$h", shard);
        return await ReadRevisionsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task PublishVersionAsync(PublishedVersion version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(version);
        return EnqueueAsync<int>(
            (connection, transaction) =>
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO cohort_versions(cohort_id, version, seq, data_time, publish_time, settings) VALUES ($c, $v, $q, $d, $p, $s) ON CONFLICT(cohort_id, version) DO NOTHING;";
                command.Parameters.AddWithValue("$q", version.Seq);
                command.Parameters.AddWithValue("$s", version.Settings);
                command.Parameters.AddWithValue("$c", version.CohortId);
                command.Parameters.AddWithValue("$v", version.Version);
                command.Parameters.AddWithValue("$d", version.DataTime.UtcTicks);
                command.Parameters.AddWithValue("$p", version.PublishTime.UtcTicks);
                return command.ExecuteNonQuery();
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PublishedVersion>> ListPublishedVersionsAsync(string cohortId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, seq, data_time, publish_time, settings FROM cohort_versions WHERE cohort_id = $c ORDER BY version;";
        command.Parameters.AddWithValue("$c", cohortId);
        var result = new List<PublishedVersion>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new PublishedVersion(cohortId, reader.GetInt64(0), reader.GetInt64(1), FromTicks(reader.GetInt64(2)), FromTicks(reader.GetInt64(3)), (byte[])reader[4]));
        }

        return result;
    }

    /// <inheritdoc />
    public Task AcknowledgeOutboxAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return Task.CompletedTask;
        }

        return EnqueueAsync<int>(
            (_, _) =>
            {
                var deleted = 0;
                foreach (var entry in entries)
                {
                    Bind(_statements!.DeleteOutbox, entry.CohortId, entry.ParticipantId, entry.Revision);
                    deleted += _statements.DeleteOutbox.ExecuteNonQuery();
                }

                return deleted;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_writerLoop is not null)
        {
            await _writerLoop.ConfigureAwait(false);
        }

        _initLock.Dispose();
        SqliteConnection.ClearAllPools();
    }

    private const string RevisionSelect = "SELECT r.cohort_id, r.participant_id, r.revision, r.state, r.etag, r.payload, p.create_time, r.update_time, r.seq FROM participant_revisions r";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS cohorts (
            cohort_id TEXT NOT NULL PRIMARY KEY,
            payload BLOB NOT NULL,
            etag TEXT NOT NULL,
            create_time INTEGER NOT NULL,
            update_time INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS participants (
            cohort_id TEXT NOT NULL,
            participant_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            state INTEGER NOT NULL,
            shard INTEGER NOT NULL,
            create_time INTEGER NOT NULL,
            PRIMARY KEY (cohort_id, participant_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS participant_revisions (
            cohort_id TEXT NOT NULL,
            participant_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            state INTEGER NOT NULL,
            etag TEXT NOT NULL,
            payload BLOB NOT NULL,
            update_time INTEGER NOT NULL,
            seq INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (cohort_id, participant_id, revision)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS request_log (
            cohort_id TEXT NOT NULL,
            participant_id TEXT NOT NULL,
            request_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            PRIMARY KEY (cohort_id, participant_id, request_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            cohort_id TEXT NOT NULL,
            participant_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            shard INTEGER NOT NULL,
            UNIQUE (cohort_id, participant_id, revision));
        """;

    private const string SchemaV2 = """
        CREATE TABLE IF NOT EXISTS cohort_counters (
            cohort_id TEXT NOT NULL PRIMARY KEY,
            seq INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS cohort_versions (
            cohort_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            data_time INTEGER NOT NULL,
            publish_time INTEGER NOT NULL,
            settings BLOB NOT NULL,
            PRIMARY KEY (cohort_id, version)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS participants_shard ON participants(cohort_id, shard);
        """;

    private List<WriteOutcome> ApplyWrites(IReadOnlyList<RevisionWrite> writes)
    {
        // Runs on the writer loop only, inside its transaction, with the statements it prepared once.
        var st = _statements!;
        var (findRequest, insertRevision, nextSeq) = (st.FindRequest, st.InsertRevision, st.NextSeq);
        var (upsertHead, insertRequest, insertOutbox) = (st.UpsertHead, st.InsertRequest, st.InsertOutbox);
        var outcomes = new List<WriteOutcome>(writes.Count);
        foreach (var w in writes)
        {
            // One statement answers both checks: the revision the request id produced (if any) and the current one.
            Bind(findRequest, w.CohortId, w.ParticipantId, w.RequestId);
            long? previous = null;
            var current = 0L;
            using (var reader = findRequest.ExecuteReader())
            {
                reader.Read();
                if (!reader.IsDBNull(0))
                {
                    previous = reader.GetInt64(0);
                }

                if (!reader.IsDBNull(1))
                {
                    current = reader.GetInt64(1);
                }
            }

            if (w.RequestId.Length > 0 && previous is { } first)
            {
                outcomes.Add(new WriteOutcome(WriteStatus.Duplicate, first));
                continue;
            }

            if (current != w.ExpectedCurrentRevision)
            {
                outcomes.Add(new WriteOutcome(WriteStatus.Conflict, current));
                continue;
            }

            var revision = current + 1;
            var ticks = w.Time.UtcTicks;
            Bind(nextSeq, w.CohortId);
            var seq = (long)nextSeq.ExecuteScalar()!;
            _callerSeqs[w.CohortId] = seq;
            Bind(insertRevision, w.CohortId, w.ParticipantId, revision, (int)w.State, w.Etag, w.Payload, ticks, seq);
            insertRevision.ExecuteNonQuery();
            Bind(upsertHead, w.CohortId, w.ParticipantId, revision, (int)w.State, w.Shard, ticks);
            upsertHead.ExecuteNonQuery();
            if (w.RequestId.Length > 0)
            {
                Bind(insertRequest, w.CohortId, w.ParticipantId, w.RequestId, revision);
                insertRequest.ExecuteNonQuery();
            }

            Bind(insertOutbox, w.CohortId, w.ParticipantId, revision, w.Shard);
            insertOutbox.ExecuteNonQuery();
            outcomes.Add(new WriteOutcome(WriteStatus.Stored, revision, seq));
        }

        return outcomes;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
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

    private async Task<T> EnqueueAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        if (!_initialized)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

        var pending = new PendingWrite((connection, transaction) => work(connection, transaction));
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);

        // The write is not cancellable once queued: a caller that gives up must not leave the outcome unknown
        // to itself while it became durable; it simply stops waiting.
        return (T)(await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async Task WriterLoopAsync()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;", CancellationToken.None).ConfigureAwait(false);

        // The writer's statements are prepared once for the life of the loop (not once per caller): preparing
        // them per write cost more than executing them.
        using var statements = new WriterStatements(connection);
        _statements = statements;
        var batch = new List<PendingWrite>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxWritesPerCommit && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            var results = new object?[batch.Count];
            var failures = new Exception?[batch.Count];
            try
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                statements.Attach(transaction);
                for (var i = 0; i < batch.Count; i++)
                {
                    // Each caller's work runs in its own savepoint: one failing write (or batch of writes) is rolled back alone.
                    statements.Savepoint.ExecuteNonQuery();
                    _callerSeqs.Clear();
                    try
                    {
                        results[i] = batch[i].Work(connection, transaction);
                        statements.Release.ExecuteNonQuery();
                        foreach (var (cohort, seq) in _callerSeqs)
                        {
                            _transactionSeqs[cohort] = seq;
                        }
                    }
                    catch (SqliteException ex)
                    {
                        failures[i] = ex;
                        statements.RollbackTo.ExecuteNonQuery();
                        statements.Release.ExecuteNonQuery();
                    }
                }

                transaction.Commit();
                foreach (var (cohort, seq) in _transactionSeqs)
                {
                    _committedSeqs?.AddOrUpdate(cohort, seq, (_, current) => Math.Max(current, seq));
                }

                _transactionSeqs.Clear();
            }
            catch (Exception ex) when (ex is SqliteException or InvalidOperationException)
            {
                _transactionSeqs.Clear();
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetException(ex);
                }

                continue;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                if (failures[i] is { } failure)
                {
                    batch[i].Completion.TrySetException(failure);
                }
                else
                {
                    batch[i].Completion.TrySetResult(results[i]);
                }
            }
        }

        _statements = null;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<StoredRevision?> ReadSingleRevisionAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadRevision(reader) : null;
    }

    private static async Task<IReadOnlyList<StoredRevision>> ReadRevisionsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var result = new List<StoredRevision>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(ReadRevision(reader));
        }

        return result;
    }

    private static StoredRevision ReadRevision(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetInt64(2),
        (StoredParticipantState)reader.GetInt32(3),
        reader.GetString(4),
        (byte[])reader[5],
        FromTicks(reader.GetInt64(6)),
        FromTicks(reader.GetInt64(7)))
    {
        Seq = reader.GetInt64(8),
    };

    private static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>The writer loop's prepared statements, reused across its transactions.</summary>
    private sealed class WriterStatements(SqliteConnection connection) : IDisposable
    {
        public SqliteCommand FindRequest { get; } = Prepare(
            connection,
            "SELECT (SELECT revision FROM request_log WHERE cohort_id = $c AND participant_id = $p AND request_id = $q), (SELECT revision FROM participants WHERE cohort_id = $c AND participant_id = $p);",
            "$c",
            "$p",
            "$q");

        public SqliteCommand InsertRevision { get; } = Prepare(connection, "INSERT INTO participant_revisions(cohort_id, participant_id, revision, state, etag, payload, update_time, seq) VALUES ($c, $p, $r, $s, $e, $b, $t, $q);", "$c", "$p", "$r", "$s", "$e", "$b", "$t", "$q");

        public SqliteCommand NextSeq { get; } = Prepare(connection, "INSERT INTO cohort_counters(cohort_id, seq) VALUES ($c, 1) ON CONFLICT(cohort_id) DO UPDATE SET seq = seq + 1 RETURNING seq;", "$c");

        public SqliteCommand UpsertHead { get; } = Prepare(connection, "INSERT INTO participants(cohort_id, participant_id, revision, state, shard, create_time) VALUES ($c, $p, $r, $s, $h, $t) ON CONFLICT(cohort_id, participant_id) DO UPDATE SET revision = excluded.revision, state = excluded.state;", "$c", "$p", "$r", "$s", "$h", "$t");

        public SqliteCommand InsertRequest { get; } = Prepare(connection, "INSERT INTO request_log(cohort_id, participant_id, request_id, revision) VALUES ($c, $p, $q, $r);", "$c", "$p", "$q", "$r");

        public SqliteCommand InsertOutbox { get; } = Prepare(connection, "INSERT INTO outbox(cohort_id, participant_id, revision, shard) VALUES ($c, $p, $r, $h);", "$c", "$p", "$r", "$h");

        public SqliteCommand DeleteOutbox { get; } = Prepare(connection, "DELETE FROM outbox WHERE cohort_id = $c AND participant_id = $p AND revision = $r;", "$c", "$p", "$r");

        public SqliteCommand Savepoint { get; } = Prepare(connection, "SAVEPOINT w;");

        public SqliteCommand Release { get; } = Prepare(connection, "RELEASE w;");

        public SqliteCommand RollbackTo { get; } = Prepare(connection, "ROLLBACK TO w;");

        private IEnumerable<SqliteCommand> All => [FindRequest, InsertRevision, NextSeq, UpsertHead, InsertRequest, InsertOutbox, DeleteOutbox, Savepoint, Release, RollbackTo];

        /// <summary>Microsoft.Data.Sqlite requires a command's transaction to be the connection's current one.</summary>
        public void Attach(SqliteTransaction transaction)
        {
            foreach (var command in All)
            {
                command.Transaction = transaction;
            }
        }

        public void Dispose()
        {
            foreach (var command in All)
            {
                command.Dispose();
            }
        }
    }

    private sealed record PendingWrite(Func<SqliteConnection, SqliteTransaction, object?> Work)
    {
        public TaskCompletionSource<object?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
