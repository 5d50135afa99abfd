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

    private static ShardRow Row(long revision, long seq) => new("p1", revision, seq, true, true, 0, [], [revision]);
}
