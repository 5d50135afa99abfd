using Google.Protobuf;
using HomaBone.Contracts.V1;
using HomaBone.Storage;

namespace HomaBone.Grains.Tests;

/// <summary>
/// Bulk import through the import worker (IParticipantImportGrain): the participant grain's rules hold for
/// imported records (idempotency, revisions, withdrawal, etags), a bad record does not stop the others, and a
/// retried batch counts nothing twice.
/// </summary>
[Collection(SharedCluster.Name)]
public sealed class ParticipantImportTests(ClusterFixture fixture)
{
    [Fact]
    public async Task RetriedBatch_AnswersTheFirstRevisionsAndCountsNothingTwice()
    {
        var cohort = await fixture.CreateCohortAsync();
        var items = Enumerable.Range(0, 20).Select(i => Item($"p{i:D2}", 50 + i, $"req-{i}")).ToList();

        var first = await ImportAsync(cohort, items);
        var retry = await ImportAsync(cohort, items);

        Assert.All(first, r => Assert.Equal((ReplyStatus.Ok, true), (r!.Status, r.Created)));
        Assert.Equal(first.Select(r => Parse(r).Etag), retry.Select(r => Parse(r).Etag));
        Assert.All(retry, r => Assert.Equal(1, Parse(r).Revision));
        await using var store = new SqliteRecordStore(fixture.DatabasePath);
        Assert.Equal((20L, 0L), await store.CountAsync(cohort));
        Assert.Equal(20L, await store.CurrentSeqAsync(cohort));
        var stored = await fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, "p07")).GetAsync(0);
        Assert.Equal(first[7]!.Payload, stored.Payload);
    }

    [Fact]
    public async Task BadRecordsInABatch_AreRefusedAloneAndStoreNothing()
    {
        var cohort = await fixture.CreateCohortAsync();
        var absurd = Records.Sample(57);
        absurd.Anthropometry.HeightCm = 900;
        var items = new List<ImportItem>
        {
            Item("a", 57, "ra"),
            new("garbage", [0xFF, 0xFF, 0xFF], "rg"),
            new("absurd", absurd.ToByteArray(), "rx"),
            Item("b", 58, "rb"),
        };

        var replies = await ImportAsync(cohort, items);

        Assert.Equal([ReplyStatus.Ok, ReplyStatus.InvalidArgument, ReplyStatus.InvalidArgument, ReplyStatus.Ok], replies.Select(r => r!.Status));
        Assert.Contains(replies[2]!.Violations!, v => v.Field.Contains("height", StringComparison.Ordinal));
        await using var store = new SqliteRecordStore(fixture.DatabasePath);
        Assert.Equal((2L, 0L), await store.CountAsync(cohort));
        Assert.Null(await store.GetCurrentAsync(cohort, "garbage"));
        Assert.Null(await store.GetCurrentAsync(cohort, "absurd"));
    }

    [Fact]
    public async Task ExistingParticipants_GoThroughTheirGrain_WithdrawnRefusedAndOldEtagAborted()
    {
        var cohort = await fixture.CreateCohortAsync();
        var kept = fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, "kept"));
        var gone = fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, "gone"));
        var revision1 = Parse(await kept.UpsertAsync(new UpsertParticipantCommand(Records.Sample(57).ToByteArray(), "k1", string.Empty)));
        Assert.Equal(ReplyStatus.Ok, (await gone.UpsertAsync(new UpsertParticipantCommand(Records.Sample(57).ToByteArray(), "g1", string.Empty))).Status);
        Assert.Equal(ReplyStatus.Ok, (await gone.WithdrawAsync(new WithdrawParticipantCommand("g2", string.Empty))).Status);

        var replies = await ImportAsync(cohort, [Item("kept", 60, "k2"), Item("gone", 60, "g3"), Item("new", 60, "n1")]);

        Assert.Equal([ReplyStatus.Ok, ReplyStatus.FailedPrecondition, ReplyStatus.Ok], replies.Select(r => r!.Status));
        Assert.Equal(2, Parse(replies[0]).Revision);
        Assert.Equal(60, Parse(await kept.GetAsync(0)).Record.Demographics.AgeYears);
        Assert.Equal(57, Parse(await kept.GetAsync(1)).Record.Demographics.AgeYears);

        // The imported revision moved the etag on: a writer holding revision 1's etag is refused.
        var stale = await kept.UpsertAsync(new UpsertParticipantCommand(Records.Sample(61).ToByteArray(), "k3", revision1.Etag));
        Assert.Equal(ReplyStatus.Aborted, stale.Status);
        Assert.Equal(ParticipantState.Withdrawn, Parse(await gone.GetAsync(0)).State);
        Assert.Equal(2, Parse(await gone.GetAsync(0)).Revision);
    }

    [Fact]
    public async Task OneParticipantTwiceInABatch_AppliesInOrder()
    {
        var cohort = await fixture.CreateCohortAsync();

        var replies = await ImportAsync(cohort, [Item("twice", 57, "t1"), Item("other", 57, "o1"), Item("twice", 58, "t2")]);

        Assert.All(replies, r => Assert.Equal(ReplyStatus.Ok, r!.Status));
        Assert.Equal([1L, 1L, 2L], replies.Select(r => Parse(r).Revision));
        var grain = fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, "twice"));
        Assert.Equal(58, Parse(await grain.GetAsync(0)).Record.Demographics.AgeYears);
    }

    [Fact]
    public async Task ParticipantActivatedWhileAbsent_SeesTheImportedRecord()
    {
        var cohort = await fixture.CreateCohortAsync();
        var grain = fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, "late"));
        Assert.Equal(ReplyStatus.NotFound, (await grain.GetAsync(0)).Status);

        // The worker stores revision 1 of a participant the store had no row for, without the (active) grain.
        var imported = await ImportAsync(cohort, [Item("late", 57, "l1")]);

        Assert.Equal(imported[0]!.Payload, (await grain.GetAsync(0)).Payload);
        var next = Parse(await grain.UpsertAsync(new UpsertParticipantCommand(Records.Sample(58).ToByteArray(), "l2", string.Empty)));
        Assert.Equal(2, next.Revision);
    }

    [Fact]
    public async Task UnknownCohort_IsNotFoundForEveryRecord()
    {
        var replies = await ImportAsync(ClusterFixture.NewId("missing"), [Item("a", 57, "a"), Item("b", 57, "b")]);

        Assert.All(replies, r => Assert.Equal(ReplyStatus.NotFound, r!.Status));
    }

    private Task<IReadOnlyList<GrainReply?>> ImportAsync(string cohort, IReadOnlyList<ImportItem> items) =>
        fixture.Grains.GetGrain<IParticipantImportGrain>(0).ImportAsync(cohort, items);

    private static ImportItem Item(string participantId, double age, string requestId) => new(participantId, Records.Sample(age).ToByteArray(), requestId);

    private static Participant Parse(GrainReply? reply)
    {
        Assert.NotNull(reply);
        Assert.Equal(ReplyStatus.Ok, reply.Status);
        return Participant.Parser.ParseFrom(reply.Payload);
    }
}
