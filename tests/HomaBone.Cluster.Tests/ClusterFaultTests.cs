using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;
using Xunit.Abstractions;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// Three silos and two gateways (<see cref="TestCluster"/>). A silo is killed with SIGKILL in the middle of an import;
/// the client retries every UNAVAILABLE record with its request id (<see cref="ImportLoad"/>). Then: every acknowledged
/// participant is stored exactly once, both gateways give the same answers and they equal a batch recomputation, a
/// single co-hosted silo over the same database gives the same bytes at that version, and the time until every call
/// succeeds again is measured.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ClusterFaultTests(Infrastructure infrastructure, ITestOutputHelper output)
{
    private const string CohortId = "fault";
    private const string ProbeCohortId = "probe";

    /// <summary>Eligible participants of the imported cohort (about 1.58 × as many records); HOMABONE_CLUSTER_ELIGIBLE overrides.</summary>
    private static int Eligible => int.TryParse(Environment.GetEnvironmentVariable("HOMABONE_CLUSTER_ELIGIBLE"), out var n) ? n : 2000;

    [Fact]
    public async Task KillOneSiloMidIngest_EveryAcknowledgedRecordStoredOnce_AnswersEqualBatchAndASingleSilo()
    {
        var participants = SyntheticCohort.Generate(7, new SyntheticCohortOptions { Eligible = Eligible }).ToList();
        var probes = SyntheticCohort.Generate(8, new SyntheticCohortOptions { Eligible = 400, IdPrefix = "X" }).ToList();
        var cluster = await TestCluster.StartAsync(infrastructure, output, "fault");
        await using (cluster)
        {
            GetFlowResponse flow = null!;
            GetQuartilesResponse quartiles = null!;
            await cluster.RunAsync(async () =>
            {
                await cluster.Cohorts[0].CreateCohortAsync(new CreateCohortRequest { CohortId = CohortId, RequestId = "create-fault", Cohort = TestCluster.EveryChangeVersioned });
                await cluster.Cohorts[0].CreateCohortAsync(new CreateCohortRequest { CohortId = ProbeCohortId, RequestId = "create-probe" });
                var load = new ImportLoad(cluster, CohortId, participants);

                // Probes: a new participant through each gateway every 250 ms (new grains land on any silo).
                using var stop = new CancellationTokenSource();
                var probeCount = 0;
                async Task ProbeAsync()
                {
                    var next = 0;
                    while (!stop.IsCancellationRequested && next < probes.Count)
                    {
                        for (var g = 0; g < cluster.Participants.Count; g++)
                        {
                            var probe = probes[next++ % probes.Count];
                            try
                            {
                                await cluster.Participants[g].UpsertParticipantAsync(
                                    new UpsertParticipantRequest
                                    {
                                        Participant = new Participant { Name = $"cohorts/{ProbeCohortId}/participants/{probe.ParticipantId}", Record = ParticipantMapping.FromDomain(probe.Record) },
                                        RequestId = "probe-" + probe.ParticipantId,
                                    },
                                    deadline: DateTime.UtcNow.AddSeconds(10));
                                Interlocked.Increment(ref probeCount);
                            }
                            catch (Grpc.Core.RpcException ex)
                            {
                                load.Failures.Enqueue((cluster.Clock.Elapsed, g, "probe " + ex.StatusCode));
                            }
                        }

                        await Task.Delay(250);
                    }
                }

                var probing = Task.Run(ProbeAsync);
                var importing = load.RunAsync();

                // Kill -9 one silo once a third of the records are acknowledged.
                while (load.Acknowledged.Count < participants.Count / 3 && !importing.IsCompleted)
                {
                    await Task.Delay(50);
                }

                cluster.Silos[1].Kill();
                var killedAt = cluster.Clock.Elapsed;
                output.WriteLine($"killed silo 1 (SIGKILL) at {load.Acknowledged.Count} acknowledged, {(killedAt - load.Started).TotalSeconds:F1} s into the ingest");
                await importing;

                // Keep probing until 20 s after the kill so the recovery time is measured even when the ingest was fast.
                while (cluster.Clock.Elapsed < killedAt + TimeSpan.FromSeconds(20))
                {
                    await Task.Delay(100);
                }

                await stop.CancelAsync();
                await probing;

                var recovery = load.RecoveryAfter(killedAt);
                output.WriteLine($"ingest: {load.Summary()}, {probeCount} probe writes");
                output.WriteLine($"recovery after SIGKILL of a silo: every call succeeds again {recovery.TotalSeconds:F1} s after the kill (last failure); target <= 15 s");
                Console.WriteLine($"[cluster] recovery after SIGKILL: {recovery.TotalSeconds:F1} s; ingest {load.Summary()}");

                load.AssertAllAcknowledged();

                // The target is 15 s; the bound leaves room for a loaded 2-core CI machine (the measured value is printed).
                Assert.True(recovery <= TimeSpan.FromSeconds(25), $"calls failed until {recovery.TotalSeconds:F1} s after the kill");
                await cluster.AssertStoredExactlyOnceAsync(CohortId, load.Acknowledged.Keys);
                (flow, quartiles) = await cluster.AssertAnswersEqualBatchAsync(CohortId, participants.Count);
            });

            // A single co-hosted silo (localhost clustering) over the same database recomputes the same bytes.
            await cluster.DisposeAsync();
            await using var single = new ServiceProcess(project: "Gateway");
            await single.StartAsync($"--HomaBone:PostgresConnectionString={cluster.Database}");
            using var singleChannel = single.CreateChannel();
            var singleCohorts = new CohortService.CohortServiceClient(singleChannel);
            var name = "cohorts/" + CohortId;
            var version = flow.Metadata.CohortVersion;
            Assert.Equal(flow, await singleCohorts.GetFlowAsync(new GetFlowRequest { Name = name, Version = version }));
            Assert.Equal(quartiles, await singleCohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = name, Version = version }));
            output.WriteLine($"single silo over the same records: identical flow and quartiles at version {version}; test took {cluster.Clock.Elapsed.TotalSeconds:F1} s");
        }
    }
}
