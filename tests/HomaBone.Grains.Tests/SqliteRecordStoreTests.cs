using System.Diagnostics.CodeAnalysis;
using HomaBone.Storage;

namespace HomaBone.Grains.Tests;

/// <summary>The embedded record store on its own: group commit, idempotency, conflicts, durability across reopen.</summary>
[SuppressMessage("Reliability", "CA1001", Justification = "The store is disposed by IAsyncLifetime.DisposeAsync.")]
public sealed class SqliteRecordStoreTests : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("homabone-store-");
    private SqliteRecordStore _store = null!;

    private string DatabasePath => Path.Combine(_directory.FullName, "homabone.db");

    public async Task InitializeAsync()
    {
        _store = new SqliteRecordStore(DatabasePath);
        await _store.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public async Task CohortWrites_RecordTheirRequestKey_OnlyWhenApplied() => await TestSupport.CohortRequestKeys.CheckAsync(_store);

    [Fact]
    public async Task WriteAsync_500ConcurrentCallers_AllStoredWithDistinctParticipants()
    {
        var writes = Enumerable.Range(0, 500).Select(i => Write($"p{i:D4}", 0, $"r{i}", [(byte)i, (byte)(i >> 8)])).ToList();

        var outcomes = await Task.WhenAll(writes.Select(w => _store.WriteAsync([w])));

        Assert.All(outcomes, o => Assert.Equal((WriteStatus.Stored, 1L), (Assert.Single(o).Status, o[0].Revision)));

        // Every stored revision got its own change sequence number: exactly 1..500.
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), outcomes.Select(o => o[0].Seq).Order());
        var listed = await _store.ListCurrentAsync("c", null, 1000, includeWithdrawn: true);
        Assert.Equal(writes.Select(w => w.ParticipantId).Order(StringComparer.Ordinal), listed.Select(r => r.ParticipantId));
        Assert.All(listed, r => Assert.Equal(writes.Single(w => w.ParticipantId == r.ParticipantId).Payload, r.Payload));
        Assert.Equal((500L, 0L), await _store.CountAsync("c"));
        Assert.Equal(500, (await _store.PendingOutboxAsync("c", 1000)).Count);
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
    public async Task SoleWriter_ServesTheCommittedCounterFromMemory_EqualToTheFile_AfterEveryAcknowledgedWrite()
    {
        var path = Path.Combine(_directory.FullName, "sole.db");
        await using (var sole = new SqliteRecordStore(path, soleWriter: true))
        {
            await sole.InitializeAsync();
            Assert.Equal(0L, await sole.CurrentSeqAsync("c")); // read from the file, then known
            var writes = Enumerable.Range(0, 200).Select(i => Write($"p{i:D3}", 0, $"r{i}", [(byte)i])).ToList();
            var acknowledged = await Task.WhenAll(writes.Select(async w =>
            {
                var outcome = (await sole.WriteAsync([w]))[0];

                // Once a write is acknowledged, the counter includes it.
                Assert.True(await sole.CurrentSeqAsync("c") >= outcome.Seq);
                return outcome;
            }));

            // A retried request id, a conflict: no new seq.
            await sole.WriteAsync([Write("p000", 0, "r0", [0]), Write("p001", 7, "r-stale", [1])]);
            Assert.Equal(200L, acknowledged.Max(o => o.Seq));
            Assert.Equal(200L, await sole.CurrentSeqAsync("c"));
            Assert.Equal(0L, await sole.CurrentSeqAsync("other"));
        }

        // What the file holds (a store that always reads it) agrees.
        await using var reader = new SqliteRecordStore(path);
        await reader.InitializeAsync();
        Assert.Equal(200L, await reader.CurrentSeqAsync("c"));
    }

    [Fact]
    public async Task ChangesInASeqWindow_AndParticipantsAsOfASeq_FollowTheChangeSequence()
    {
        await _store.WriteAsync([Write("a", 0, "a1", [1]), Write("b", 0, "b1", [2])]);
        var seqAfterTwo = await _store.CurrentSeqAsync("c");
        await _store.WriteAsync([Write("a", 1, "a2", [3], StoredParticipantState.Withdrawn)]);
        await _store.WriteAsync([Write("d", 0, "d1", [4])]);
        var now = await _store.CurrentSeqAsync("c");

        Assert.Equal([("a", 2L), ("d", 1L)], (await _store.ListChangesAsync("c", seqAfterTwo, now)).Select(r => (r.ParticipantId, r.Revision)));
        Assert.Equal([3L, 4L], (await _store.ListChangesAsync("c", seqAfterTwo, now)).Select(r => r.Seq));
        Assert.Empty(await _store.ListChangesAsync("c", now, now + 5));
        Assert.Equal((0L, 2L, 3L), (await _store.CountAsOfAsync("c", 0), await _store.CountAsOfAsync("c", seqAfterTwo), await _store.CountAsOfAsync("c", now)));
        Assert.Equal(0L, await _store.CountAsOfAsync("other", now));
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

        // The refused request id was not logged: it can still be applied later.
        Assert.Equal(new WriteOutcome(WriteStatus.Stored, 2, Seq: 2), (await _store.WriteAsync([Write("p", 1, "second", [2])]))[0]);
    }

    [Fact]
    public async Task WriteAsync_AfterDisposeAndReopen_DataIsThere()
    {
        await _store.WriteAsync([Write("p", 0, "a", [1, 2, 3])]);
        await _store.WriteAsync([Write("p", 1, "b", [4, 5, 6], StoredParticipantState.Withdrawn)]);
        Assert.True(await _store.TryCreateCohortAsync(new StoredCohort("c", [7], "e1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)));
        await _store.DisposeAsync();

        _store = new SqliteRecordStore(DatabasePath);
        await _store.InitializeAsync();

        var current = await _store.GetCurrentAsync("c", "p");
        Assert.NotNull(current);
        Assert.Equal(2, current.Revision);
        Assert.Equal(StoredParticipantState.Withdrawn, current.State);
        Assert.Equal([4, 5, 6], current.Payload);
        Assert.Equal([1, 2, 3], (await _store.GetRevisionAsync("c", "p", 1))!.Payload);
        Assert.Equal([7], (await _store.GetCohortAsync("c"))!.Payload);
        Assert.Equal((0L, 1L), await _store.CountAsync("c"));
        Assert.Equal(new WriteOutcome(WriteStatus.Duplicate, 1), (await _store.WriteAsync([Write("p", 2, "a", [9])]))[0]);
    }

    private static RevisionWrite Write(string participantId, long expected, string requestId, byte[] payload, StoredParticipantState state = StoredParticipantState.Active) =>
        new("c", participantId, expected, requestId, state, "etag-" + requestId, payload, 0, DateTimeOffset.UnixEpoch.AddDays(1));
}
