using Google.Protobuf;
using HomaBone.Contracts.V1;
using HomaBone.Storage;
using HomaBone.Synthetic;

namespace HomaBone.Grains.Tests;

/// <summary>
/// A revision that is stored but reached no shard (its row was applied to a shard activation that was then lost, and
/// its outbox entry acknowledged, so no drain delivers it again) still counts: the incremental path takes it from the
/// store when the shards hand over fewer rows than revisions, and a rebuild checks the shards' rows against the
/// store's participant count.
/// </summary>
[Collection(SharedCluster.Name)]
public sealed class CohortRepairTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ARevisionNoShardHolds_IsTakenFromTheStore_ByTheNextVersion_AndByARebuild()
    {
        var cohortId = ClusterFixture.NewId("repair");
        var cohort = fixture.Grains.GetGrain<ICohortGrain>(cohortId);
        var settings = new CohortSettings { Disclosure = new DisclosureSettings { MinChangesPerVersion = 1 } };
        Assert.Equal(ReplyStatus.Ok, (await cohort.CreateAsync(new Cohort { Settings = settings }.ToByteArray())).Status);
        var records = SyntheticCohort.Generate(31, new SyntheticCohortOptions { Eligible = 12 }).Where(r => r.IntendedExclusion is null).Take(12).ToList();
        foreach (var r in records)
        {
            var command = new UpsertParticipantCommand(ParticipantMapping.FromDomain(r.Record).ToByteArray(), "repair-" + r.ParticipantId, string.Empty);
            Assert.Equal(ReplyStatus.Ok, (await fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohortId, r.ParticipantId)).UpsertAsync(command)).Status);
        }

        Assert.Equal(12, (await FlowAsync(cohort)).Enrolled);

        // A 13th participant written to the store only (a copy of the first one's record), its outbox entry acknowledged.
        await WriteStoredOnlyAsync(cohortId, records[0].ParticipantId, "zz-stored-only-1");

        // The next version (incremental: no shard announced or hands over the row) includes it.
        Assert.Equal(13, (await FlowAsync(cohort)).Enrolled);

        // A 14th, then a rebuild (the settings changed) before any incremental version: the shards' rows are one short
        // of the store's count, so the state is built from the store's records.
        await WriteStoredOnlyAsync(cohortId, records[1].ParticipantId, "zz-stored-only-2");
        settings.GroupCount = 3;
        Assert.Equal(ReplyStatus.Ok, (await cohort.UpdateAsync(new Cohort { Name = "cohorts/" + cohortId, Settings = settings }.ToByteArray(), ["settings.group_count"])).Status);
        Assert.Equal(14, (await FlowAsync(cohort)).Enrolled);

        // And the versions after it, incremental again.
        var last = records[^1];
        var again = new UpsertParticipantCommand(ParticipantMapping.FromDomain(last.Record).ToByteArray(), "repair-again", string.Empty);
        Assert.Equal(ReplyStatus.Ok, (await fixture.Grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohortId, last.ParticipantId)).UpsertAsync(again)).Status);
        Assert.Equal(14, (await FlowAsync(cohort)).Enrolled);
    }

    private async Task WriteStoredOnlyAsync(string cohortId, string donorId, string participantId)
    {
        await using var store = new SqliteRecordStore(fixture.DatabasePath);
        await store.InitializeAsync();
        var donor = await store.GetCurrentAsync(cohortId, donorId);
        Assert.NotNull(donor);
        var write = new RevisionWrite(cohortId, participantId, 0, "stored-only-" + participantId, StoredParticipantState.Active, "etag-" + participantId, donor.Payload, ResourceNames.ShardOf(participantId, ParticipantGrain.ShardCount), DateTimeOffset.UtcNow);
        Assert.Equal(WriteStatus.Stored, (await store.WriteAsync([write]))[0].Status);
        await store.AcknowledgeOutboxAsync(await store.PendingOutboxAsync(cohortId, 100));
    }

    private static async Task<GetFlowResponse> FlowAsync(ICohortGrain cohort)
    {
        var reply = await cohort.AnalyzeAsync(AnalysisKind.Flow, new GetFlowRequest().ToByteArray());
        Assert.True(reply.Status == ReplyStatus.Ok, $"{reply.Status} {reply.Message}");
        return GetFlowResponse.Parser.ParseFrom(reply.Payload);
    }
}
