using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace HomaBone.Storage;

/// <summary>
/// The cluster system of record: PostgreSQL through Npgsql, with the same tables and semantics as
/// <see cref="SqliteRecordStore"/>. Every silo runs one writer task that coalesces its concurrent callers into
/// one transaction (group commit) with a savepoint per caller, and commits with <c>synchronous_commit=on</c>, so
/// a caller's task completes only after its write is durable. The schema is owned and migrated here
/// (<see cref="PostgresSchema"/>): a <c>schema_version</c> table, idempotent DDL, forward migrations under an
/// advisory lock so silos starting together migrate once.
/// </summary>
/// <remarks>
/// Writers of several silos share the database. Each batch first locks the change counters of the cohorts it
/// writes, in cohort-id order: that serialises the check-then-write of one cohort across silos (a stale writer,
/// such as a duplicate grain activation during a membership change, sees a conflict instead of a constraint
/// error) and cannot deadlock.
/// </remarks>
public sealed partial class PostgresRecordStore : IRecordStore, IAsyncDisposable
{
    private const int MaxWritesPerCommit = 4096;

    /// <summary>
    /// How long the writer's session may sit inside a transaction between two statements before PostgreSQL ends it
    /// (<c>idle_in_transaction_session_timeout</c>). A healthy writer sends the next statement within milliseconds;
    /// a silo frozen mid-commit would otherwise hold the cohort counter locks, and with them every other silo's writes
    /// to those cohorts, until it resumed.
    /// </summary>
    public static TimeSpan IdleInTransactionTimeout { get; } = TimeSpan.FromSeconds(3);

    private readonly NpgsqlDataSource _dataSource;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private Task? _writerLoop;
    private bool _initialized;

    /// <summary>Creates a store over the database named by an Npgsql <paramref name="connectionString"/>.</summary>
    public PostgresRecordStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "homabone";
        }

        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
    }

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

            await using (var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
            {
                await PostgresSchema.MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            _writerLoop = Task.Factory.StartNew(WriterLoopAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            _initialized = true;
        }
        finally
        {
            _initLock.Release();
        }
    }

    /// <summary>The schema version of the database (after <see cref="InitializeAsync"/>).</summary>
    public async Task<int> SchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await PostgresSchema.CurrentVersionAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<StoredCohort?> GetCohortAsync(string cohortId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT payload, etag, create_time, update_time FROM cohorts WHERE cohort_id = $1;");
        command.Parameters.Add(Text(cohortId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new StoredCohort(cohortId, reader.GetFieldValue<byte[]>(0), reader.GetString(1), FromTicks(reader.GetInt64(2)), FromTicks(reader.GetInt64(3)));
    }

    /// <inheritdoc />
    public Task<bool> TryCreateCohortAsync(StoredCohort cohort, string requestKey = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cohort);
        ArgumentNullException.ThrowIfNull(requestKey);
        return EnqueueAsync<bool>(
            async (connection, transaction, ct) =>
            {
                await using var command = new NpgsqlCommand("INSERT INTO cohorts(cohort_id, payload, etag, create_time, update_time) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cohort_id) DO NOTHING;", connection, transaction);
                command.Parameters.Add(Text(cohort.CohortId));
                command.Parameters.Add(Bytes(cohort.Payload));
                command.Parameters.Add(Text(cohort.Etag));
                command.Parameters.Add(Long(cohort.CreateTime.UtcTicks));
                command.Parameters.Add(Long(cohort.UpdateTime.UtcTicks));
                var created = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
                if (created)
                {
                    await LogCohortRequestAsync(connection, transaction, cohort.CohortId, requestKey, ct).ConfigureAwait(false);
                }

                return created;
            },
            cohortIds: null,
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> TryUpdateCohortAsync(StoredCohort cohort, string expectedEtag, string requestKey = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cohort);
        ArgumentNullException.ThrowIfNull(requestKey);
        return EnqueueAsync<bool>(
            async (connection, transaction, ct) =>
            {
                await using var command = new NpgsqlCommand("UPDATE cohorts SET payload = $2, etag = $3, update_time = $4 WHERE cohort_id = $1 AND etag = $5;", connection, transaction);
                command.Parameters.Add(Text(cohort.CohortId));
                command.Parameters.Add(Bytes(cohort.Payload));
                command.Parameters.Add(Text(cohort.Etag));
                command.Parameters.Add(Long(cohort.UpdateTime.UtcTicks));
                command.Parameters.Add(Text(expectedEtag));
                var updated = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
                if (updated)
                {
                    await LogCohortRequestAsync(connection, transaction, cohort.CohortId, requestKey, ct).ConfigureAwait(false);
                }

                return updated;
            },
            cohortIds: null,
            cancellationToken);
    }

    /// <summary>A cohort write's request key in the request log (participant id "", revision 0), in its transaction.</summary>
    private static async Task LogCohortRequestAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string cohortId, string requestKey, CancellationToken cancellationToken)
    {
        if (requestKey.Length == 0)
        {
            return;
        }

        await using var command = new NpgsqlCommand("INSERT INTO request_log(cohort_id, participant_id, request_id, revision) VALUES ($1, '', $2, 0) ON CONFLICT DO NOTHING;", connection, transaction);
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Text(requestKey));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<StoredRevision?> GetCurrentAsync(string cohortId, string participantId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(RevisionSelect
            + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id AND p.revision = r.revision WHERE r.cohort_id = $1 AND r.participant_id = $2;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Text(participantId));
        var rows = await ReadRevisionsAsync(command, cancellationToken).ConfigureAwait(false);
        return rows.Count > 0 ? rows[0] : null;
    }

    /// <inheritdoc />
    public async Task<StoredRevision?> GetRevisionAsync(string cohortId, string participantId, long revision, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(RevisionSelect
            + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id WHERE r.cohort_id = $1 AND r.participant_id = $2 AND r.revision = $3;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Text(participantId));
        command.Parameters.Add(Long(revision));
        var rows = await ReadRevisionsAsync(command, cancellationToken).ConfigureAwait(false);
        return rows.Count > 0 ? rows[0] : null;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WriteOutcome>> WriteAsync(IReadOnlyList<RevisionWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var cohorts = writes.Select(w => w.CohortId).Distinct(StringComparer.Ordinal).ToArray();
        return EnqueueAsync<IReadOnlyList<WriteOutcome>>((connection, transaction, ct) => ApplyWritesAsync(connection, transaction, writes, ct), cohorts, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<long?> FindRequestAsync(string cohortId, string participantId, string requestId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT revision FROM request_log WHERE cohort_id = $1 AND participant_id = $2 AND request_id = $3;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Text(participantId));
        command.Parameters.Add(Text(requestId));
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

        await using var command = _dataSource.CreateCommand("SELECT participant_id, revision FROM participants WHERE cohort_id = $1 AND participant_id = ANY($2::text[]);");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. participantIds], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result[reader.GetString(0)] = reader.GetInt64(1);
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevision>> ListCurrentAsync(string cohortId, string? afterParticipantId, int limit, bool includeWithdrawn, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(RevisionSelect
            + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id AND p.revision = r.revision"
            + " WHERE r.cohort_id = $1 AND r.participant_id > $2" + (includeWithdrawn ? string.Empty : " AND r.state = 1")
            + " ORDER BY r.participant_id LIMIT $3;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Text(afterParticipantId ?? string.Empty));
        command.Parameters.Add(Long(limit));
        return await ReadRevisionsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<(long Active, long Withdrawn)> CountAsync(string cohortId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT count(*) FILTER (WHERE state = 1), count(*) FILTER (WHERE state = 2) FROM participants WHERE cohort_id = $1;");
        command.Parameters.Add(Text(cohortId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevision>> ListChangesAsync(string cohortId, long afterSeq, long upToSeq, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(RevisionSelect
            + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id WHERE r.cohort_id = $1 AND r.seq > $2 AND r.seq <= $3 ORDER BY r.seq;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Long(afterSeq));
        command.Parameters.Add(Long(upToSeq));
        return await ReadRevisionsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<long> CountAsOfAsync(string cohortId, long seq, CancellationToken cancellationToken = default)
    {
        // A participant exists from its first revision on.
        await using var command = _dataSource.CreateCommand("SELECT COUNT(*) FROM participant_revisions WHERE cohort_id = $1 AND revision = 1 AND seq <= $2;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Long(seq));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long count ? count : 0;
    }

    /// <inheritdoc />
    public async Task<long> CurrentSeqAsync(string cohortId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT seq FROM cohort_counters WHERE cohort_id = $1;");
        command.Parameters.Add(Text(cohortId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long seq ? seq : 0;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevision>> ListAsOfAsync(string cohortId, long seq, CancellationToken cancellationToken = default)
    {
        // For every participant its latest revision with seq <= the given one: DISTINCT ON keeps the first row
        // per participant in (participant_id, revision DESC) order.
        await using var command = _dataSource.CreateCommand(
            "SELECT DISTINCT ON (r.participant_id) r.cohort_id, r.participant_id, r.revision, r.state, r.etag, r.payload, p.create_time, r.update_time, r.seq"
            + " FROM participant_revisions r JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id"
            + " WHERE r.cohort_id = $1 AND r.seq <= $2 ORDER BY r.participant_id, r.revision DESC;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Long(seq));
        return await ReadRevisionsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevision>> ListShardAsync(string cohortId, int shard, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(RevisionSelect
            + " JOIN participants p ON p.cohort_id = r.cohort_id AND p.participant_id = r.participant_id AND p.revision = r.revision"
            + " WHERE r.cohort_id = $1 AND p.shard = $2 ORDER BY r.participant_id;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = shard, NpgsqlDbType = NpgsqlDbType.Integer });
        return await ReadRevisionsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task PublishVersionAsync(PublishedVersion version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(version);
        return EnqueueAsync<int>(
            async (connection, transaction, ct) =>
            {
                await using var command = new NpgsqlCommand("INSERT INTO cohort_versions(cohort_id, version, seq, data_time, publish_time, settings) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cohort_id, version) DO NOTHING;", connection, transaction);
                command.Parameters.Add(Text(version.CohortId));
                command.Parameters.Add(Long(version.Version));
                command.Parameters.Add(Long(version.Seq));
                command.Parameters.Add(Long(version.DataTime.UtcTicks));
                command.Parameters.Add(Long(version.PublishTime.UtcTicks));
                command.Parameters.Add(Bytes(version.Settings));
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cohortIds: null,
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PublishedVersion>> ListPublishedVersionsAsync(string cohortId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT version, seq, data_time, publish_time, settings FROM cohort_versions WHERE cohort_id = $1 ORDER BY version;");
        command.Parameters.Add(Text(cohortId));
        var result = new List<PublishedVersion>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new PublishedVersion(cohortId, reader.GetInt64(0), reader.GetInt64(1), FromTicks(reader.GetInt64(2)), FromTicks(reader.GetInt64(3)), reader.GetFieldValue<byte[]>(4)));
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OutboxEntry>> PendingOutboxAsync(string cohortId, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT participant_id, revision, shard FROM outbox WHERE cohort_id = $1 ORDER BY seq LIMIT $2;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Long(limit));
        var result = new List<OutboxEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new OutboxEntry(cohortId, reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2)));
        }

        return result;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Not a statement of its own: the writer deletes the entries of every acknowledgement in a commit together, after
    /// the commit's other work, locking the rows in outbox order (<see cref="DeleteOutboxAsync"/>). Every writer of
    /// every silo then takes outbox row locks in one global order, so acknowledgements of overlapping entries by two
    /// silos (a participant grain's delivery and the cohort grain's drain, two import workers) wait for each other
    /// instead of deadlocking.
    /// </remarks>
    public Task AcknowledgeOutboxAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return Task.CompletedTask;
        }

        return EnqueueAsync<int>(null, cohortIds: null, cancellationToken, [.. entries]);
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
        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    private const string RevisionSelect = "SELECT r.cohort_id, r.participant_id, r.revision, r.state, r.etag, r.payload, p.create_time, r.update_time, r.seq FROM participant_revisions r";

    private static async Task<IReadOnlyList<WriteOutcome>> ApplyWritesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<RevisionWrite> writes, CancellationToken cancellationToken)
    {
        // homabone_apply_write (schema v1) is the SQLite store's ApplyWrites for one write, in one round trip:
        // request-id check, expected-revision check, per-cohort seq, revision, head, request log, outbox.
        await using var command = new NpgsqlCommand("SELECT o_status, o_revision, o_seq FROM homabone_apply_write($1, $2, $3, $4, $5, $6, $7, $8, $9);", connection, transaction);
        var cohort = Text(string.Empty);
        var participant = Text(string.Empty);
        var expected = Long(0);
        var requestId = Text(string.Empty);
        var state = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer };
        var etag = Text(string.Empty);
        var payload = Bytes([]);
        var shard = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer };
        var time = Long(0);
        command.Parameters.AddRange(new NpgsqlParameter[] { cohort, participant, expected, requestId, state, etag, payload, shard, time });

        var outcomes = new List<WriteOutcome>(writes.Count);
        foreach (var w in writes)
        {
            cohort.TypedValue = w.CohortId;
            participant.TypedValue = w.ParticipantId;
            expected.TypedValue = w.ExpectedCurrentRevision;
            requestId.TypedValue = w.RequestId;
            state.TypedValue = (int)w.State;
            etag.TypedValue = w.Etag;
            payload.TypedValue = w.Payload;
            shard.TypedValue = w.Shard;
            time.TypedValue = w.Time.UtcTicks;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var status = (WriteStatus)reader.GetInt32(0);
            outcomes.Add(status == WriteStatus.Stored ? new WriteOutcome(status, reader.GetInt64(1), reader.GetInt64(2)) : new WriteOutcome(status, reader.GetInt64(1)));
        }

        return outcomes;
    }

    private async Task<T> EnqueueAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>>? work, string[]? cohortIds, CancellationToken cancellationToken, OutboxEntry[]? acknowledged = null)
    {
        if (!_initialized)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

        var pending = new PendingWrite(work is null ? null : async (connection, transaction, ct) => await work(connection, transaction, ct).ConfigureAwait(false), cohortIds, acknowledged);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);

        // Not cancellable once queued: the caller stops waiting, the write's outcome is decided by the writer.
        return (T)(await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async Task WriterLoopAsync()
    {
        NpgsqlConnection? connection = null;
        var batch = new List<PendingWrite>();
        var acknowledgements = new List<PendingWrite>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                batch.Clear();
                acknowledgements.Clear();
                while (batch.Count + acknowledgements.Count < MaxWritesPerCommit && _queue.Reader.TryRead(out var next))
                {
                    (next.Work is null ? acknowledgements : batch).Add(next);
                }

                // The outbox acknowledgements of this commit: one unit of work, last (see AcknowledgeOutboxAsync).
                if (acknowledgements.Count > 0)
                {
                    var entries = acknowledgements.SelectMany(a => a.Acknowledged!).ToArray();
                    batch.Add(new PendingWrite(async (c, t, ct) => await DeleteOutboxAsync(c, t, entries, ct).ConfigureAwait(false), null, null));
                }

                // The callers' own units; the deletion unit, when there is one, is the last and nobody awaits it.
                var callers = acknowledgements.Count > 0 ? batch.Count - 1 : batch.Count;
                var results = new object?[batch.Count];
                var failures = new Exception?[batch.Count];
                try
                {
                    connection ??= await OpenWriterConnectionAsync().ConfigureAwait(false);
                    await using (var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false))
                    {
                        await LockCountersAsync(connection, transaction, batch).ConfigureAwait(false);
                        await ExecuteAsync(connection, transaction, "SAVEPOINT w;").ConfigureAwait(false);
                        for (var i = 0; i < batch.Count; i++)
                        {
                            // Each caller's work runs in its own savepoint: one failing write is rolled back alone.
                            var last = i == batch.Count - 1;
                            try
                            {
                                results[i] = await batch[i].Work!(connection, transaction, CancellationToken.None).ConfigureAwait(false);
                                if (!last)
                                {
                                    await ExecuteAsync(connection, transaction, "RELEASE SAVEPOINT w; SAVEPOINT w;").ConfigureAwait(false);
                                }
                            }
                            catch (PostgresException ex)
                            {
                                failures[i] = ex;
                                await ExecuteAsync(connection, transaction, last ? "ROLLBACK TO SAVEPOINT w;" : "ROLLBACK TO SAVEPOINT w; RELEASE SAVEPOINT w; SAVEPOINT w;").ConfigureAwait(false);
                            }
                        }

                        // synchronous_commit=on: COMMIT returns after the WAL record is flushed.
                        await transaction.CommitAsync().ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
                {
                    // The connection (or the server) failed: the batch's outcome is reported as failed (the callers'
                    // request ids make a retry safe) and the next batch opens a fresh connection.
                    if (connection is not null)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                        connection = null;
                    }

                    foreach (var pending in batch.Take(callers).Concat(acknowledgements))
                    {
                        pending.Completion.TrySetException(ex);
                    }

                    continue;
                }

                for (var i = 0; i < callers; i++)
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

                foreach (var acknowledgement in acknowledgements)
                {
                    // Each caller learns the outcome of the statement that deleted its entries with the others'.
                    if (failures[^1] is { } failure)
                    {
                        acknowledgement.Completion.TrySetException(failure);
                    }
                    else
                    {
                        acknowledgement.Completion.TrySetResult(0);
                    }
                }
            }
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<NpgsqlConnection> OpenWriterConnectionAsync()
    {
        var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        // A silo that stops in the middle of a commit (SIGSTOP, a VM pause, a network partition) must not keep the
        // locks it holds (cohort counters, outbox rows) until it resumes: PostgreSQL ends its session after
        // IdleInTransactionTimeout between statements, which rolls the commit back and lets the other silos' writers go
        // on. The frozen silo's callers never got an answer; their clients retry with the same request ids.
        await using var command = new NpgsqlCommand($"SET synchronous_commit = on; SET idle_in_transaction_session_timeout = {(long)IdleInTransactionTimeout.TotalMilliseconds};", connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        return connection;
    }

    private static async Task LockCountersAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<PendingWrite> pending)
    {
        var cohorts = pending.Where(p => p.CohortIds is not null).SelectMany(p => p.CohortIds!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (cohorts.Length == 0)
        {
            return;
        }

        // Create missing counters, then lock them in cohort-id order (the columns use the "C" collation, the
        // same order as StringComparer.Ordinal): every writer takes these locks in one global order.
        await using var batch = new NpgsqlBatch(connection, transaction);
        var insert = new NpgsqlBatchCommand("INSERT INTO cohort_counters(cohort_id, seq) SELECT c, 0 FROM unnest($1::text[]) AS c ORDER BY c ON CONFLICT (cohort_id) DO NOTHING;");
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = cohorts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var select = new NpgsqlBatchCommand("SELECT seq FROM cohort_counters WHERE cohort_id = ANY($1::text[]) ORDER BY cohort_id FOR UPDATE;");
        select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = cohorts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(select);
        await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the acknowledged outbox entries of one commit in one statement that first locks their rows in outbox
    /// order (<c>ORDER BY seq FOR UPDATE</c>: the rows are locked as the sorted rows come out), so that two writers
    /// deleting overlapping entries take their locks in the same order.
    /// </summary>
    private static async Task<int> DeleteOutboxAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OutboxEntry[] entries, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "DELETE FROM outbox WHERE seq = ANY(ARRAY("
            + "SELECT o.seq FROM outbox o JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS d(cohort_id, participant_id, revision)"
            + " ON o.cohort_id = d.cohort_id AND o.participant_id = d.participant_id AND o.revision = d.revision"
            + " ORDER BY o.seq FOR UPDATE OF o));",
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. entries.Select(e => e.CohortId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. entries.Select(e => e.ParticipantId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. entries.Select(e => e.Revision)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<StoredRevision>> ReadRevisionsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var result = new List<StoredRevision>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new StoredRevision(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetInt64(2),
                (StoredParticipantState)reader.GetInt32(3),
                reader.GetString(4),
                reader.GetFieldValue<byte[]>(5),
                FromTicks(reader.GetInt64(6)),
                FromTicks(reader.GetInt64(7)))
            {
                Seq = reader.GetInt64(8),
            });
        }

        return result;
    }

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter<long> Long(long value) => new() { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Bigint };

    private static NpgsqlParameter<byte[]> Bytes(byte[] value) => new() { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Bytea };

    private static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>Work (null for an outbox acknowledgement, whose entries are <paramref name="Acknowledged"/>).</summary>
    private sealed record PendingWrite(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<object?>>? Work, string[]? CohortIds, OutboxEntry[]? Acknowledged = null)
    {
        public TaskCompletionSource<object?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
