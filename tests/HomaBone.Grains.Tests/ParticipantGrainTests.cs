using Google.Protobuf;
using HomaBone.Contracts.V1;
using HomaBone.Synthetic;
using D = HomaBone.Domain;

namespace HomaBone.Grains.Tests;

/// <summary>The participant grain in an in-process cluster over a real SQLite store.</summary>
[Collection(SharedCluster.Name)]
public sealed class ParticipantGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Upsert_RetriedRequestId_ReturnsSameBytesAndKeepsRevision()
    {
        var grain = await NewParticipantAsync();
        var command = Command(Records.Sample(57), "req-1");

        var first = await grain.UpsertAsync(command);
        var retry = await grain.UpsertAsync(command);

        Assert.Equal(ReplyStatus.Ok, first.Status);
        Assert.Equal(ReplyStatus.Ok, retry.Status);
        Assert.True(first.Created);
        Assert.Equal(first.Payload, retry.Payload);
        var current = Parse(await grain.GetAsync(0));
        Assert.Equal(1, current.Revision);
        Assert.Equal(first.Payload, (await grain.GetAsync(0)).Payload);
    }

    [Fact]
    public async Task Upsert_RetriedRequestIdWithDifferentRecord_StillReturnsFirstResponse()
    {
        var grain = await NewParticipantAsync();
        var first = await grain.UpsertAsync(Command(Records.Sample(57), "req-1"));

        var retry = await grain.UpsertAsync(Command(Records.Sample(70), "req-1"));

        Assert.Equal(first.Payload, retry.Payload);
        Assert.Equal(57, Parse(await grain.GetAsync(0)).Record.Demographics.AgeYears);
    }

    [Fact]
    public async Task Upsert_EtagMismatch_IsAbortedAndStoresNothing()
    {
        var grain = await NewParticipantAsync();
        var first = Parse(await grain.UpsertAsync(Command(Records.Sample(57), "a")));

        var stale = await grain.UpsertAsync(Command(Records.Sample(58), "b", etag: "1-000000000000"));

        Assert.Equal(ReplyStatus.Aborted, stale.Status);
        Assert.Null(stale.Payload);
        var current = Parse(await grain.GetAsync(0));
        Assert.Equal(1, current.Revision);
        Assert.Equal(first, current);
        Assert.Equal(ReplyStatus.NotFound, (await grain.GetAsync(2)).Status);
    }

    [Fact]
    public async Task Upsert_StaleEtagAfterCorrection_IsAborted()
    {
        var grain = await NewParticipantAsync();
        var first = Parse(await grain.UpsertAsync(Command(Records.Sample(57), "a")));
        Assert.Equal(ReplyStatus.Ok, (await grain.UpsertAsync(Command(Records.Sample(58), "b", first.Etag))).Status);

        var stale = await grain.UpsertAsync(Command(Records.Sample(59), "c", first.Etag));

        Assert.Equal(ReplyStatus.Aborted, stale.Status);
        Assert.Equal(2, Parse(await grain.GetAsync(0)).Revision);
    }

    [Fact]
    public async Task Upsert_Correction_MakesRevision2AndKeepsRevision1()
    {
        var grain = await NewParticipantAsync();
        var first = await grain.UpsertAsync(Command(Records.Sample(57), "a"));
        var firstParticipant = Parse(first);

        var second = await grain.UpsertAsync(Command(Records.Sample(58), "b", firstParticipant.Etag));

        Assert.Equal(ReplyStatus.Ok, second.Status);
        Assert.False(second.Created);
        var secondParticipant = Parse(second);
        Assert.Equal(2, secondParticipant.Revision);
        Assert.NotEqual(firstParticipant.Etag, secondParticipant.Etag);
        Assert.Equal(firstParticipant.CreateTime, secondParticipant.CreateTime);
        var revision1 = await grain.GetAsync(1);
        var revision2 = await grain.GetAsync(2);
        Assert.Equal(first.Payload, revision1.Payload);
        Assert.Equal(second.Payload, revision2.Payload);
        Assert.Equal(57, Parse(revision1).Record.Demographics.AgeYears);
        Assert.Equal(58, Parse(revision2).Record.Demographics.AgeYears);
        Assert.Equal(second.Payload, (await grain.GetAsync(0)).Payload);
        Assert.Equal(ReplyStatus.NotFound, (await grain.GetAsync(3)).Status);
    }

    [Fact]
    public async Task Withdraw_ActiveParticipant_IsWithdrawnRevisionThatLeavesTheList()
    {
        var cohort = await fixture.CreateCohortAsync();
        var participantId = ClusterFixture.NewId("p");
        var grain = fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, participantId));
        var active = Parse(await grain.UpsertAsync(Command(Records.Sample(60), "a")));

        var withdrawn = Parse(await grain.WithdrawAsync(new WithdrawParticipantCommand("w", active.Etag)));

        Assert.Equal(ParticipantState.Withdrawn, withdrawn.State);
        Assert.Equal(2, withdrawn.Revision);
        Assert.Equal(active.Record, withdrawn.Record);
        Assert.Equal(active.Derived, withdrawn.Derived);
        Assert.Equal(ParticipantState.Active, Parse(await grain.GetAsync(1)).State);
        var again = await grain.WithdrawAsync(new WithdrawParticipantCommand("w2", string.Empty));
        Assert.Equal(2, Parse(again).Revision);
        var change = await grain.UpsertAsync(Command(Records.Sample(61), "b"));
        Assert.Equal(ReplyStatus.FailedPrecondition, change.Status);

        var cohortGrain = fixture.Grains.GetGrain<ICohortGrain>(cohort);
        Assert.Empty((await cohortGrain.ListParticipantsAsync(string.Empty, 10, includeWithdrawn: false)).Participants);
        var all = await cohortGrain.ListParticipantsAsync(string.Empty, 10, includeWithdrawn: true);
        Assert.Equal(ParticipantState.Withdrawn, Participant.Parser.ParseFrom(Assert.Single(all.Participants)).State);
    }

    [Fact]
    public async Task Withdraw_UnknownParticipant_IsNotFound()
    {
        var grain = await NewParticipantAsync();

        var reply = await grain.WithdrawAsync(new WithdrawParticipantCommand("w", string.Empty));

        Assert.Equal(ReplyStatus.NotFound, reply.Status);
    }

    [Fact]
    public async Task Upsert_GlucoseOutOfRange_InvalidArgumentOnProtoPathAndNothingStored()
    {
        var grain = await NewParticipantAsync();
        var record = Records.Sample();
        record.Labs.Glucose = new Quantity { Value = 5000, Unit = "mg/dL" };

        var reply = await grain.UpsertAsync(Command(record, "a"));

        Assert.Equal(ReplyStatus.InvalidArgument, reply.Status);
        var violation = Assert.Single(reply.Violations!, v => v.Field == "participant.record.labs.glucose");
        Assert.Contains("600", violation.Description, StringComparison.Ordinal);
        Assert.Contains("mg/dL", violation.Description, StringComparison.Ordinal);
        Assert.Equal(ReplyStatus.NotFound, (await grain.GetAsync(0)).Status);
    }

    [Fact]
    public async Task Upsert_SeveralViolations_ReportsEveryOne()
    {
        var grain = await NewParticipantAsync();
        var record = Records.Sample();
        record.Labs.Glucose = new Quantity { Value = 5000, Unit = "mg/dL" };
        record.Anthropometry.HeightCm = -1;
        record.Demographics.AgeYears = 300;

        var reply = await grain.UpsertAsync(Command(record, "a"));

        Assert.Equal(ReplyStatus.InvalidArgument, reply.Status);
        var fields = reply.Violations!.Select(v => v.Field).ToHashSet();
        Assert.Contains("participant.record.labs.glucose", fields);
        Assert.Contains("participant.record.anthropometry.height_cm", fields);
        Assert.Contains("participant.record.demographics.age_years", fields);
    }

    [Fact]
    public async Task Upsert_GlucoseInMmolPerL_GivesSameHomaIrAsMgPerDl()
    {
        var cohort = await fixture.CreateCohortAsync();
        var inMgPerDl = Records.Sample();
        inMgPerDl.Labs.Glucose = new Quantity { Value = 99, Unit = "mg/dL" };
        var inMmolPerL = Records.Sample();

        // 5.5 mmol/L × 18 = 99 mg/dL exactly (docs/domain.md §2).
        inMmolPerL.Labs.Glucose = new Quantity { Value = 5.5, Unit = "mmol/L" };

        var a = Parse(await fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, "mg")).UpsertAsync(Command(inMgPerDl, "a")));
        var b = Parse(await fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, "mmol")).UpsertAsync(Command(inMmolPerL, "a")));

        // HOMA-IR = glucose (mg/dL) × insulin (µIU/mL) / 405 (Matthews 1985).
        Assert.Equal(99 * 7.2 / 405.0, a.Derived.HomaIr.Value, 12);
        Assert.Equal(a.Derived.HomaIr.Value, b.Derived.HomaIr.Value, 12);
        Assert.Equal(a.Derived.Quicki.Value, b.Derived.Quicki.Value, 12);
        Assert.Equal("mmol/L", b.Record.Labs.Glucose.Unit);
    }

    [Theory]
    [InlineData("mg/dl")]
    [InlineData("furlongs")]
    [InlineData("pmol/L")]
    public async Task Upsert_UnacceptedGlucoseUnit_ViolationOnUnitPath(string unit)
    {
        var grain = await NewParticipantAsync();
        var record = Records.Sample();
        record.Labs.Glucose = new Quantity { Value = 99, Unit = unit };

        var reply = await grain.UpsertAsync(Command(record, "a"));

        Assert.Equal(ReplyStatus.InvalidArgument, reply.Status);
        var violation = Assert.Single(reply.Violations!);
        Assert.Equal("participant.record.labs.glucose.unit", violation.Field);
        Assert.Contains("mmol/L", violation.Description, StringComparison.Ordinal);
        Assert.Equal(ReplyStatus.NotFound, (await grain.GetAsync(0)).Status);
    }

    [Fact]
    public async Task Upsert_UnknownCohort_IsNotFound()
    {
        var grain = fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(ClusterFixture.NewId("missing"), "p1"));

        var reply = await grain.UpsertAsync(Command(Records.Sample(), "a"));

        Assert.Equal(ReplyStatus.NotFound, reply.Status);
        Assert.Equal(ReplyStatus.NotFound, (await grain.GetAsync(0)).Status);
    }

    [Fact]
    public async Task Upsert_GarbageRecordBytes_InvalidArgument()
    {
        var grain = await NewParticipantAsync();

        var reply = await grain.UpsertAsync(new UpsertParticipantCommand([0xFF, 0xFF, 0xFF, 0xFF], "a", string.Empty));

        Assert.Equal(ReplyStatus.InvalidArgument, reply.Status);
        Assert.Equal("participant.record", Assert.Single(reply.Violations!).Field);
    }

    [Fact]
    public async Task Upsert_SyntheticExcludedParticipants_FirstReasonIsTheIntendedExclusion()
    {
        var cohort = await fixture.CreateCohortAsync();
        var options = new SyntheticCohortOptions
        {
            Eligible = 6,
            Excluded = D.EligibilityOptions.PaperOrder.ToDictionary(r => r, _ => 2),
            IdPrefix = "S",
        };
        var participants = SyntheticCohort.Generate(2018, options).ToList();
        Assert.Equal(6 + (2 * D.EligibilityOptions.PaperOrder.Count), participants.Count);

        var replies = await Task.WhenAll(participants.Select(p =>
            fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, p.ParticipantId)).UpsertAsync(Command(Records.ToProto(p.Record), "import"))));

        foreach (var (participant, reply) in participants.Zip(replies))
        {
            Assert.True(reply.Status == ReplyStatus.Ok, $"{participant.ParticipantId}: {reply.Message} {string.Join("; ", reply.Violations?.Select(v => v.Field + " " + v.Description) ?? [])}");
            var eligibility = Parse(reply).Eligibility;
            if (participant.IntendedExclusion is { } intended)
            {
                Assert.False(eligibility.Eligible);
                Assert.Equal((ExclusionReason)(int)intended, eligibility.FirstReason);
                Assert.Contains((ExclusionReason)(int)intended, eligibility.Reasons);
            }
            else
            {
                Assert.True(eligibility.Eligible, participant.ParticipantId);
                Assert.Equal(ExclusionReason.Unspecified, eligibility.FirstReason);
            }
        }
    }

    private async Task<IParticipantGrain> NewParticipantAsync()
    {
        var cohort = await fixture.CreateCohortAsync();
        return fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohort, ClusterFixture.NewId("p")));
    }

    private static UpsertParticipantCommand Command(ParticipantRecord record, string requestId, string etag = "") => new(record.ToByteArray(), requestId, etag);

    private static Participant Parse(GrainReply reply)
    {
        Assert.True(reply.Status == ReplyStatus.Ok, $"{reply.Status}: {reply.Message}");
        return Participant.Parser.ParseFrom(reply.Payload);
    }
}
