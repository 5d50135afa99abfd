using HomaBone.Analysis;

namespace HomaBone.Grains.Tests;

/// <summary>The shard grain's as-of rows: exact from what it holds, or null (the cohort grain reads the store).</summary>
[Collection(SharedCluster.Name)]
public sealed class CohortShardGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task GetRows_ConsecutiveRevisions_AnswerEachSeqWithTheRevisionInForce()
    {
        var shard = fixture.Grains.GetGrain<ICohortShardGrain>(ShardKey.For(await fixture.CreateCohortAsync(), 0));
        Assert.True(await shard.ApplyAsync(Row(1, 10)));
        Assert.True(await shard.ApplyAsync(Row(2, 20)));

        Assert.Empty((await shard.GetRowsAsync(5))!);
        Assert.Equal(1, (await shard.GetRowsAsync(15))!.Single().Revision);
        Assert.Equal(2, (await shard.GetRowsAsync(20))!.Single().Revision);
    }

    [Fact]
    public async Task GetRows_RevisionSkippedByOutOfOrderDelivery_DefersToTheStoreInsteadOfAnOlderRow()
    {
        var shard = fixture.Grains.GetGrain<ICohortShardGrain>(ShardKey.For(await fixture.CreateCohortAsync(), 0));
        Assert.True(await shard.ApplyAsync(Row(1, 10)));

        // Revision 2's hand-off failed (its outbox entry stays pending); revision 3 arrives first, then the drain
        // delivers revision 2, which is older than the one held and not applied.
        Assert.True(await shard.ApplyAsync(Row(3, 30)));
        Assert.False(await shard.ApplyAsync(Row(2, 20)));

        // As of seq 25 revision 2 was in force: the shard must not answer with revision 1.
        var rows = await shard.GetRowsAsync(25);
        Assert.True(rows is null || rows.Single().Revision == 2, $"answered with revision {rows?.Single().Revision}");
        Assert.Equal(3, (await shard.GetRowsAsync(30))!.Single().Revision);
        Assert.Empty((await shard.GetRowsAsync(5))!);
    }

    [Fact]
    public async Task ChangeLog_TakesInSeqWindows_KeepsLaterRows_RefusesAStaleEpochOrAGap()
    {
        var shard = fixture.Grains.GetGrain<ICohortShardGrain>(ShardKey.For(await fixture.CreateCohortAsync(), 1));
        var epoch = (await shard.SnapshotAsync(0)).Epoch;

        // Rows of several participants arrive; the cohort takes them in two windows of seq.
        for (var i = 1; i <= 10; i++)
        {
            Assert.True(await shard.ApplyAsync(Row(1, i, "p" + i)));
        }

        var first = await shard.TakeChangesAsync(epoch, 0, 4);
        Assert.True(first.Complete);
        Assert.Equal([1L, 2, 3, 4], first.Rows.Select(r => r.Seq));
        var second = await shard.TakeChangesAsync(epoch, 4, 10);
        Assert.True(second.Complete);
        Assert.Equal([5L, 6, 7, 8, 9, 10], second.Rows.Select(r => r.Seq));
        Assert.Empty((await shard.TakeChangesAsync(epoch, 10, 12)).Rows);

        // Another epoch's take (a cohort activation that did not snapshot) is refused.
        Assert.False((await shard.TakeChangesAsync(Guid.NewGuid(), 12, 20)).Complete);

        // A revision dropped out of order inside a window not taken yet: the next take is incomplete.
        Assert.True(await shard.ApplyAsync(Row(3, 30, "p1")));
        Assert.False(await shard.ApplyAsync(Row(2, 25, "p1")));
        Assert.False((await shard.TakeChangesAsync(epoch, 12, 30)).Complete);

        // A new snapshot starts a fresh epoch holding the rows later than its seq (its rows as of 12 defer to the
        // store here: p1's revision 2 was dropped, so the shard cannot tell which revision was in force).
        var snapshot = await shard.SnapshotAsync(12);
        Assert.Null(snapshot.Rows);
        var resumed = await shard.TakeChangesAsync(snapshot.Epoch, 12, 30);
        Assert.True(resumed.Complete);
        Assert.Equal(3, resumed.Rows.Single().Revision);
    }

    [Fact]
    public async Task ChangeLog_ARowArrivingAfterATakePastItsSeq_MakesTheNextTakeIncomplete()
    {
        var shard = fixture.Grains.GetGrain<ICohortShardGrain>(ShardKey.For(await fixture.CreateCohortAsync(), 2));
        var epoch = (await shard.SnapshotAsync(0)).Epoch;
        Assert.True(await shard.ApplyAsync(Row(1, 2, "a")));
        Assert.True((await shard.TakeChangesAsync(epoch, 0, 5)).Complete);

        // A new participant's row with seq 4 arrives after the cohort took up to 5: the state misses it.
        Assert.True(await shard.ApplyAsync(Row(1, 4, "b")));
        Assert.False((await shard.TakeChangesAsync(epoch, 5, 8)).Complete);

        // The cohort's rebuild (a snapshot at 8) holds it.
        var snapshot = await shard.SnapshotAsync(8);
        Assert.Equal(["a", "b"], snapshot.Rows!.Select(r => r.ParticipantId).Order(StringComparer.Ordinal));
        Assert.True((await shard.TakeChangesAsync(snapshot.Epoch, 8, 9)).Complete);

        // The same after a snapshot: a row at or below the snapshot's seq arriving later is a miss too.
        Assert.True(await shard.ApplyAsync(Row(1, 7, "c")));
        Assert.False((await shard.TakeChangesAsync(snapshot.Epoch, 9, 10)).Complete);
    }

    private static ShardRow Row(long revision, long seq, string participant = "p1") => new(participant, revision, seq, true, true, 0, [], PackedValues.Pack([revision]));
}
