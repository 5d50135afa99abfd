using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HomaBone.Analysis;
using HomaBone.Contracts.V1;
using HomaBone.Synthetic;
using HomaBone.TestSupport;
using Xunit.Abstractions;

namespace HomaBone.Grains.Tests;

/// <summary>
/// Issue 5 crash test, in process: a silo of a two-silo cluster is killed (KillSiloAsync, no shutdown code) in the
/// middle of an ingest that versions are being published from; the ingest is finished on the surviving silo
/// (calls that failed are retried with the same request id). The cohort's answers then equal the batch
/// recomputation over the stored records, and every participant is counted exactly once.
/// </summary>
public sealed class CohortKillSiloTests(ITestOutputHelper output)
{
    private static IReadOnlyList<ExclusionReason> FlowOrder => CohortGrain.FlowOrder;

    [Fact]
    public async Task KillSiloMidIngest_FinishOnSurvivor_AnswersEqualBatchAndNobodyCountedTwice()
    {
        var directory = Directory.CreateTempSubdirectory("homabone-cohort-kill-");
        var cluster = await ClusterFixture.StartClusterAsync(Path.Combine(directory.FullName, "homabone.db"), "homabone-cohort-kill-" + Guid.NewGuid().ToString("n")[..8], silos: 2);
        try
        {
            const string Cohort = "kill";
            Assert.Equal(ReplyStatus.Ok, (await cluster.GrainFactory.GetGrain<ICohortGrain>(Cohort).CreateAsync(new Cohort().ToByteArray())).Status);
            var records = SyntheticCohort.Generate(2018, new SyntheticCohortOptions { Eligible = 150 }).ToList();
            var killAt = records.Count / 2;
            var retried = 0;
            for (var i = 0; i < records.Count; i++)
            {
                if (i == killAt)
                {
                    await cluster.KillSiloAsync(cluster.SecondarySilos[0]);
                }

                var command = new UpsertParticipantCommand(ParticipantMapping.FromDomain(records[i].Record).ToByteArray(), "kill-" + records[i].ParticipantId, string.Empty);
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        Assert.Equal(ReplyStatus.Ok, (await cluster.GrainFactory.GetGrain<IParticipantGrain>(ParticipantKey.For(Cohort, records[i].ParticipantId)).UpsertAsync(command)).Status);
                        break;
                    }
                    catch (Exception ex) when (attempt < 20 && ex is not Xunit.Sdk.XunitException)
                    {
                        retried++;
                        await Task.Delay(500);
                    }
                }

                // Versions are published (and the incremental state advanced) all along the ingest.
                if (i % 40 == 39)
                {
                    await AnalyzeAsync(cluster, Cohort, AnalysisKind.Flow, new GetFlowRequest());
                }
            }

            var cohort = cluster.GrainFactory.GetGrain<ICohortGrain>(Cohort);
            var flow = GetFlowResponse.Parser.ParseFrom(await AnalyzeAsync(cluster, Cohort, AnalysisKind.Flow, new GetFlowRequest()));
            var version = flow.Metadata.CohortVersion;
            output.WriteLine($"{records.Count} participants, {retried} calls retried after the kill, final version {version}");
            Assert.Equal(records.Count, flow.Enrolled);

            // The batch recomputation over the stored records, through the same row mapping.
            var settings = CohortDefaults.Apply(new CohortSettings());
            var rows = new List<AnalysisRow>();
            var after = string.Empty;
            do
            {
                var page = await cohort.ListParticipantsAsync(after, 500, includeWithdrawn: true);
                foreach (var payload in page.Participants)
                {
                    var p = Participant.Parser.ParseFrom(payload);
                    rows.Add(AnalysisRows.ToAnalysis(AnalysisRows.FromParticipant(p, p.Name[(p.Name.LastIndexOf('/') + 1)..], 0, settings)));
                }

                after = page.LastParticipantId ?? string.Empty;
            }
            while (after.Length > 0);
            Assert.Equal(records.Count, rows.Select(r => r.ParticipantId).Distinct().Count());
            rows.Sort((a, b) => string.CompareOrdinal(a.ParticipantId, b.ParticipantId));

            var dataTime = flow.Metadata.DataTime;
            var twin = new StudyAnalysis(LiveStudy.Build(settings, rows.Select(r => (r, 0L))), version, dataTime);
            var batch = new StudyAnalysis(rows, settings, version, dataTime);
            IMessage[] service =
            [
                flow,
                GetQuartilesResponse.Parser.ParseFrom(await AnalyzeAsync(cluster, Cohort, AnalysisKind.Quartiles, new GetQuartilesRequest())),
                GetCharacteristicsResponse.Parser.ParseFrom(await AnalyzeAsync(cluster, Cohort, AnalysisKind.Characteristics, new GetCharacteristicsRequest())),
                GetGroupDifferencesResponse.Parser.ParseFrom(await AnalyzeAsync(cluster, Cohort, AnalysisKind.GroupDifferences, new GetGroupDifferencesRequest { Comparison = GroupComparison.EachVsLowest })),
                GetAssociationsResponse.Parser.ParseFrom(await AnalyzeAsync(cluster, Cohort, AnalysisKind.Associations, new GetAssociationsRequest())),
            ];
            foreach (var (reference, tolerance) in new[] { (twin, AnswerComparer.Tolerance.Twin), (batch, AnswerComparer.Tolerance.Qr) })
            {
                IMessage[] expected = [reference.Flow(FlowOrder), reference.Quartiles(), reference.Characteristics(), reference.GroupDifferences(GroupComparison.EachVsLowest, []), reference.Associations([], [], [])];
                for (var k = 0; k < expected.Length; k++)
                {
                    AnswerComparer.Same(expected[k], service[k], "after the kill: " + expected[k].Descriptor.Name, tolerance);
                }
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }

    private static async Task<byte[]> AnalyzeAsync(Orleans.TestingHost.TestCluster cluster, string cohort, AnalysisKind kind, IMessage request)
    {
        var reply = await cluster.GrainFactory.GetGrain<ICohortGrain>(cohort).AnalyzeAsync(kind, request.ToByteArray());
        Assert.True(reply.Status == ReplyStatus.Ok, $"{kind}: {reply.Status} {reply.Message}");
        return reply.Payload!;
    }
}
