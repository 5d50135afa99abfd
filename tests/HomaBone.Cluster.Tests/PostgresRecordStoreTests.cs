using System.Diagnostics.CodeAnalysis;
using HomaBone.Storage;
using Npgsql;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// The PostgreSQL record store against a real server: the behaviours the SQLite store tests check (group commit,
/// duplicates, conflicts, reopen), plus as-of listing, shards, versions, migrations and two writers sharing a cohort.
/// </summary>
[Collection(ClusterTestGroup.Name)]
[SuppressMessage("Reliability", "CA1001", Justification = "The store is disposed by IAsyncLifetime.DisposeAsync.")]
public sealed class PostgresRecordStoreTests(Infrastructure infrastructure) : IAsyncLifetime
{
    private string _connectionString = null!;
    private PostgresRecordStore _store = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await infrastructure.CreateDatabaseAsync();
        _store = new PostgresRecordStore(_connectionString);
        await _store.InitializeAsync();
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task WriteAsync_500ConcurrentCallers_AllStoredWithDistinctParticipantsAndSeqs()
    {
        var writes = Enumerable.Range(0, 500).Select(i => Write($"p{i:D4}", 0, $"r{i}", [(byte)i, (byte)(i >> 8)])).ToList();

        var outcomes = await Task.WhenAll(writes.Select(w => _store.WriteAsync([w])));

        Assert.All(outcomes, o => Assert.Equal(WriteStatus.Stored, Assert.Single(o).Status));
        Assert.All(outcomes, o => Assert.Equal(1, o[0].Revision));
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), outcomes.Select(o => o[0].Seq).Order());
        var listed = await _store.ListCurrentAsync("c", null, 1000, includeWithdrawn: true);
        Assert.Equal(writes.Select(w => w.ParticipantId).Order(StringComparer.Ordinal), listed.Select(r => r.ParticipantId));
        Assert.All(listed, r => Assert.Equal(writes.Single(w => w.ParticipantId == r.ParticipantId).Payload, r.Payload));
        Assert.Equal((500L, 0L), await _store.CountAsync("c"));
        Assert.Equal(500, (await _store.PendingOutboxAsync("c", 1000)).Count);
        Assert.Equal(500, await _store.CurrentSeqAsync("c"));
    }

    [Fact]
    public async Task WriteAsync_OneBatchWithAConflict_AppliesTheOthers()
    {
        var outcomes = await _store.WriteAsync([Write("a", 0, "1", [1]), Write("b", 5, "2", [2]), Write("c", 0, "3", [3])]);

        Assert.Equal([WriteStatus.Stored, WriteStatus.Conflict, WriteStatus.Stored], outcomes.Select(o => o.Status));
        Assert.Null(await _store.GetCurrentAsync("c", "b"));
        Assert.NotNull(await _store.GetCurrentAsync("c", "c"));
    }

    [Fact]
    public async Task WriteAsync_OneBatchOfMixedOutcomes_EachJudgedAloneOneSeqPerStoredWrite()
    {
        Assert.Equal(WriteStatus.Stored, (await _store.WriteAsync([Write("old", 0, "r-old", [1])]))[0].Status);

        // One batch (one unit of the group commit): new, a retried request id, a stale expected revision, new again.
        var outcomes = await _store.WriteAsync([Write("n1", 0, "r-n1", [2]), Write("old", 1, "r-old", [3]), Write("old", 0, "r-x", [4]), Write("n2", 0, "r-n2", [5])]);

        Assert.Equal([WriteStatus.Stored, WriteStatus.Duplicate, WriteStatus.Conflict, WriteStatus.Stored], outcomes.Select(o => o.Status));
        Assert.Equal([1L, 1L, 1L, 1L], outcomes.Select(o => o.Revision));
        Assert.Equal([2L, 3L], new[] { outcomes[0].Seq, outcomes[3].Seq });
        Assert.Equal(3L, await _store.CurrentSeqAsync("c"));
        Assert.Equal(3, (await _store.PendingOutboxAsync("c", 100)).Count);

        // Retrying the whole batch stores nothing more.
        var retry = await _store.WriteAsync([Write("n1", 0, "r-n1", [2]), Write("n2", 0, "r-n2", [5])]);
        Assert.All(retry, o => Assert.Equal((WriteStatus.Duplicate, 1L), (o.Status, o.Revision)));
        Assert.Equal(3L, await _store.CurrentSeqAsync("c"));
        Assert.Equal((3L, 0L), await _store.CountAsync("c"));
    }

    [Fact]
    public async Task FindRequestAndCurrentRevisions_AreReadsOfWhatWasWritten()
    {
        var ids = Enumerable.Range(0, 1200).Select(i => $"p{i:D4}").ToList();
        await _store.WriteAsync([.. ids.Where((_, i) => i % 3 == 0).Select(id => Write(id, 0, "r-" + id, [1]))]);
        await _store.WriteAsync([Write("p0000", 1, "second", [2])]);

        Assert.Equal(2L, await _store.FindRequestAsync("c", "p0000", "second"));
        Assert.Equal(1L, await _store.FindRequestAsync("c", "p0000", "r-p0000"));
        Assert.Null(await _store.FindRequestAsync("c", "p0000", "never"));
        Assert.Null(await _store.FindRequestAsync("c", "p0001", "r-p0000"));

        // More ids than one statement takes: every stored one with its current revision, the others absent.
        var current = await _store.GetCurrentRevisionsAsync("c", ids);
        Assert.Equal(400, current.Count);
        Assert.Equal(2L, current["p0000"]);
        Assert.Equal(1L, current["p1197"]);
        Assert.False(current.ContainsKey("p0001"));
        Assert.Empty(await _store.GetCurrentRevisionsAsync("other", ids));
        Assert.Empty(await _store.GetCurrentRevisionsAsync("c", []));
    }

    [Fact]
    public async Task WriteAsync_DuplicateRequestId_IsDuplicateWithTheFirstRevision()
    {
        Assert.Equal(WriteStatus.Stored, (await _store.WriteAsync([Write("p", 0, "first", [1])]))[0].Status);
        Assert.Equal(WriteStatus.Stored, (await _store.WriteAsync([Write("p", 1, "second", [2])]))[0].Status);

        var retry = (await _store.WriteAsync([Write("p", 2, "first", [9])]))[0];

        Assert.Equal(new WriteOutcome(WriteStatus.Duplicate, 1), retry);
        var current = await _store.GetCurrentAsync("c", "p");
        Assert.Equal(2, current!.Revision);
        Assert.Equal([2], current.Payload);
        Assert.Null(await _store.GetRevisionAsync("c", "p", 3));
    }

    [Fact]
    public async Task WriteAsync_Conflict_WritesNothing()
    {
        await _store.WriteAsync([Write("p", 0, "first", [1])]);
        var outboxBefore = await _store.PendingOutboxAsync("c", 100);

        var conflict = (await _store.WriteAsync([Write("p", 0, "second", [2])]))[0];

        Assert.Equal(new WriteOutcome(WriteStatus.Conflict, 1), conflict);
        var current = await _store.GetCurrentAsync("c", "p");
        Assert.Equal(1, current!.Revision);
        Assert.Equal([1], current.Payload);
        Assert.Null(await _store.GetRevisionAsync("c", "p", 2));
        Assert.Equal(outboxBefore, await _store.PendingOutboxAsync("c", 100));
        Assert.Equal(1, await _store.CurrentSeqAsync("c"));

        // The refused request id was not logged: it can still be applied later.
        Assert.Equal(new WriteOutcome(WriteStatus.Stored, 2, 2), (await _store.WriteAsync([Write("p", 1, "second", [2])]))[0]);
    }

    [Fact]
    public async Task WriteAsync_AfterDisposeAndReopen_DataIsThere()
    {
        await _store.WriteAsync([Write("p", 0, "a", [1, 2, 3])]);
        await _store.WriteAsync([Write("p", 1, "b", [4, 5, 6], StoredParticipantState.Withdrawn)]);
        Assert.True(await _store.TryCreateCohortAsync(new StoredCohort("c", [7], "e1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)));
        await _store.DisposeAsync();

        _store = new PostgresRecordStore(_connectionString);
        await _store.InitializeAsync();

        var current = await _store.GetCurrentAsync("c", "p");
        Assert.NotNull(current);
        Assert.Equal(2, current.Revision);
        Assert.Equal(StoredParticipantState.Withdrawn, current.State);
        Assert.Equal([4, 5, 6], current.Payload);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddDays(1), current.UpdateTime);
        Assert.Equal([1, 2, 3], (await _store.GetRevisionAsync("c", "p", 1))!.Payload);
        Assert.Equal([7], (await _store.GetCohortAsync("c"))!.Payload);
        Assert.Equal((0L, 1L), await _store.CountAsync("c"));
        Assert.Equal(new WriteOutcome(WriteStatus.Duplicate, 1), (await _store.WriteAsync([Write("p", 2, "a", [9])]))[0]);
        Assert.Equal(PostgresSchema.LatestVersion, await _store.SchemaVersionAsync());
    }

    [Fact]
    public async Task Cohorts_CreateOnceAndUpdateByEtag()
    {
        var cohort = new StoredCohort("k", [1], "e1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
        Assert.True(await _store.TryCreateCohortAsync(cohort));
        Assert.False(await _store.TryCreateCohortAsync(cohort with { Payload = [2] }));

        Assert.False(await _store.TryUpdateCohortAsync(cohort with { Payload = [3], Etag = "e2" }, "stale"));
        Assert.True(await _store.TryUpdateCohortAsync(cohort with { Payload = [3], Etag = "e2" }, "e1"));

        var stored = await _store.GetCohortAsync("k");
        Assert.Equal([3], stored!.Payload);
        Assert.Equal("e2", stored.Etag);
        Assert.Null(await _store.GetCohortAsync("missing"));
    }

    [Fact]
    public async Task CohortWrites_RecordTheirRequestKey_OnlyWhenApplied() => await TestSupport.CohortRequestKeys.CheckAsync(_store);

    [Fact]
    public async Task ListAsOf_ShardsAndOutbox_FollowTheChangeSequence()
    {
        await _store.WriteAsync([Write("a", 0, "a1", [1], shard: 0), Write("b", 0, "b1", [2], shard: 1)]);
        var seqAfterTwo = await _store.CurrentSeqAsync("c");
        await _store.WriteAsync([Write("a", 1, "a2", [3], StoredParticipantState.Withdrawn, shard: 0)]);
        await _store.WriteAsync([Write("c", 0, "c1", [4], shard: 1)]);

        var asOf = await _store.ListAsOfAsync("c", seqAfterTwo);
        Assert.Equal(["a", "b"], asOf.Select(r => r.ParticipantId));
        Assert.Equal([1L, 1L], asOf.Select(r => r.Revision));
        var latest = await _store.ListAsOfAsync("c", await _store.CurrentSeqAsync("c"));
        Assert.Equal([("a", 2L), ("b", 1L), ("c", 1L)], latest.Select(r => (r.ParticipantId, r.Revision)));
        Assert.Equal(StoredParticipantState.Withdrawn, latest[0].State);
        Assert.Empty(await _store.ListAsOfAsync("c", 0));

        // The revisions of a seq window in seq order, and how many participants existed as of a seq.
        var now = await _store.CurrentSeqAsync("c");
        Assert.Equal([("a", 2L), ("c", 1L)], (await _store.ListChangesAsync("c", seqAfterTwo, now)).Select(r => (r.ParticipantId, r.Revision)));
        Assert.Equal([("b", 1L)], (await _store.ListChangesAsync("c", seqAfterTwo - 1, seqAfterTwo)).Select(r => (r.ParticipantId, r.Revision)));
        Assert.Equal((0L, 2L, 3L), (await _store.CountAsOfAsync("c", 0), await _store.CountAsOfAsync("c", seqAfterTwo), await _store.CountAsOfAsync("c", now)));

        Assert.Equal(["a"], (await _store.ListShardAsync("c", 0)).Select(r => r.ParticipantId));
        Assert.Equal(["b", "c"], (await _store.ListShardAsync("c", 1)).Select(r => r.ParticipantId));
        Assert.Equal(["b", "c"], (await _store.ListCurrentAsync("c", null, 10, includeWithdrawn: false)).Select(r => r.ParticipantId));
        Assert.Equal(["c"], (await _store.ListCurrentAsync("c", "b", 10, includeWithdrawn: true)).Select(r => r.ParticipantId));

        var outbox = await _store.PendingOutboxAsync("c", 10);
        Assert.Equal([("a", 1L), ("b", 1L), ("a", 2L), ("c", 1L)], outbox.Select(o => (o.ParticipantId, o.Revision)));
        await _store.AcknowledgeOutboxAsync(outbox.Take(3).ToList());
        Assert.Equal([("c", 1L, 1)], (await _store.PendingOutboxAsync("c", 10)).Select(o => (o.ParticipantId, o.Revision, o.Shard)));
    }

    [Fact]
    public async Task PublishedVersions_AreIdempotentAndOrdered()
    {
        var v1 = new PublishedVersion("c", 1, 5, DateTimeOffset.UnixEpoch.AddTicks(123), DateTimeOffset.UnixEpoch.AddDays(2), [1, 2]);
        var v2 = new PublishedVersion("c", 2, 9, DateTimeOffset.UnixEpoch.AddDays(3), DateTimeOffset.UnixEpoch.AddDays(4), [3]);
        await _store.PublishVersionAsync(v2);
        await _store.PublishVersionAsync(v1);
        await _store.PublishVersionAsync(v1 with { Seq = 99 });

        var versions = await _store.ListPublishedVersionsAsync("c");

        Assert.Equal(2, versions.Count);
        Assert.Equal(v1.Settings, versions[0].Settings);
        Assert.Equal((v1.Version, v1.Seq, v1.DataTime, v1.PublishTime), (versions[0].Version, versions[0].Seq, versions[0].DataTime, versions[0].PublishTime));
        Assert.Equal(v2.Version, versions[1].Version);
    }

    [Fact]
    public async Task TwoStoresOnOneDatabase_ShareTheCohortSequenceWithoutGapsOrConflicts()
    {
        // Two silos' writers against one cohort: the counter lock serialises them; seqs are 1..n exactly once.
        await using var second = new PostgresRecordStore(_connectionString);
        await second.InitializeAsync();
        var tasks = Enumerable.Range(0, 400)
            .Select(i => (i % 2 == 0 ? _store : second).WriteAsync([Write($"q{i:D3}", 0, $"q{i}", [(byte)i])]))
            .ToList();

        var outcomes = (await Task.WhenAll(tasks)).Select(o => Assert.Single(o)).ToList();

        Assert.All(outcomes, o => Assert.Equal(WriteStatus.Stored, o.Status));
        Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), outcomes.Select(o => o.Seq).Order());

        // The same participant written by both at once: one is stored, the other sees a conflict.
        var race = await Task.WhenAll(_store.WriteAsync([Write("r", 0, "x", [1])]), second.WriteAsync([Write("r", 0, "y", [2])]));
        Assert.Equal([WriteStatus.Stored, WriteStatus.Conflict], race.Select(o => o[0].Status).Order());
    }

    [Fact]
    public async Task TwoStoresAcknowledgingTheSameOutboxEntriesInOppositeOrders_NeverDeadlock()
    {
        // Two silos acknowledge overlapping outbox entries at once (a participant grain's delivery and the cohort
        // grain's drain, or two import workers), each as many single-entry calls that one group commit takes together:
        // one store in ascending order, the other in descending order. Row locks taken in call order would cross
        // (PostgreSQL deadlock 40P01, one transaction rolled back); the store locks every entry of a commit in one
        // statement, in outbox order.
        await using var second = new PostgresRecordStore(_connectionString);
        await second.InitializeAsync();
        for (var round = 0; round < 5; round++)
        {
            var ids = Enumerable.Range(0, 300).Select(i => $"d{round}-{i:D3}").ToList();
            await _store.WriteAsync([.. ids.Select(id => Write(id, 0, "r-" + id, [1]))]);
            var entries = (await _store.PendingOutboxAsync("c", 1000)).ToList();
            Assert.Equal(300, entries.Count);

            var ascending = entries.Select(e => _store.AcknowledgeOutboxAsync([e])).ToList();
            var descending = Enumerable.Reverse(entries).Select(e => second.AcknowledgeOutboxAsync([e])).ToList();
            var chunks = entries.Chunk(50).Reverse().Select(chunk => second.AcknowledgeOutboxAsync(chunk)).ToList();
            await Task.WhenAll(ascending.Concat(descending).Concat(chunks));

            Assert.Empty(await _store.PendingOutboxAsync("c", 1000));
        }
    }

    [Fact]
    public async Task Initialize_IsIdempotentAndRecordsTheSchemaVersion()
    {
        await using var again = new PostgresRecordStore(_connectionString);
        await again.InitializeAsync();
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM schema_version;", connection);

        Assert.Equal((long)PostgresSchema.LatestVersion, await command.ExecuteScalarAsync());
        Assert.Equal(PostgresSchema.LatestVersion, await again.SchemaVersionAsync());
    }

    [Fact]
    public async Task AuditLog_AppendsQueriesNewestFirstAndRefusesChanges()
    {
        var time = DateTimeOffset.UnixEpoch.AddDays(10);
        var first = await _store.AppendAuditAsync(new AuditEntry(0, time, "alice", "/homabone.v1.CohortService/GetFlow", "c", 3, new Dictionary<string, string> { ["page_size"] = "10" }, ["suppressed:1"], 1, 42, TimeSpan.FromMilliseconds(1.5), 0));
        var second = await _store.AppendAuditAsync(new AuditEntry(0, time.AddSeconds(1), "bob", "/homabone.v1.CohortService/GetQuartiles", "d", null, new Dictionary<string, string>(), [], 0, 0, TimeSpan.FromSeconds(2), 5));

        Assert.True(second > first);
        var all = await _store.QueryAuditAsync(new AuditQuery(null, null, null, null, null, 0, 10));
        Assert.Equal([second, first], all.Select(e => e.Sequence));
        var flow = Assert.Single(await _store.QueryAuditAsync(new AuditQuery(null, null, null, "GetFlow", null, 0, 10)));
        Assert.Equal(("alice", 3L, "10", "suppressed:1", TimeSpan.FromMilliseconds(1.5), time), (flow.Principal, flow.CohortVersion!.Value, flow.Parameters["page_size"], flow.DisclosureActions[0], flow.Duration, flow.Time));
        Assert.Equal([second], (await _store.QueryAuditAsync(new AuditQuery(time.AddSeconds(1), null, "bob", null, "d", 0, 10))).Select(e => e.Sequence));
        Assert.Equal([first], (await _store.QueryAuditAsync(new AuditQuery(null, null, null, null, null, second, 10))).Select(e => e.Sequence));

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        foreach (var sql in new[] { "UPDATE audit_log SET principal = 'x';", "DELETE FROM audit_log;", "TRUNCATE audit_log;" })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        }
    }

    private static RevisionWrite Write(string participantId, long expected, string requestId, byte[] payload, StoredParticipantState state = StoredParticipantState.Active, int shard = 0) =>
        new("c", participantId, expected, requestId, state, "etag-" + requestId, payload, shard, DateTimeOffset.UnixEpoch.AddDays(1));
}
