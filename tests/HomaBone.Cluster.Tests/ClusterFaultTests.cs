using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;
using Xunit.Abstractions;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// Issue 7's fault test: three silos and two gateways (<see cref="TestCluster"/>) ingest 100,000 participants
/// (<see cref="ImportLoad"/>: concurrent ImportParticipants streams, every UNAVAILABLE record sent again with its request
/// id) while, one after the other, (a) one silo is killed with SIGKILL (and a replacement silo is started, as Kubernetes
/// restarts the pod), (b) another silo is frozen with SIGSTOP for 30 s and then resumed with SIGCONT, and (c) 20 s into
/// the freeze a gateway is restarted (SIGTERM, a new process; the client moves to the other gateway on UNAVAILABLE).
/// Probes write a new participant through each gateway every 250 ms throughout, so the time until every call succeeds
/// again is measured after each fault even when the ingest is already done (a call that fails, or that succeeds after
/// more than <see cref="ImportLoad.SlowCall"/>, counts as not succeeding at the time it returns). Then: every acknowledged participant is
/// stored exactly once, both gateways give the same answers and they equal a batch recomputation, and a single
/// co-hosted silo over the same database gives the same bytes at that version.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ClusterFaultTests(Infrastructure infrastructure, ITestOutputHelper output)
{
    private const string CohortId = "fault";
    private const string ProbeCohortId = "probe";

    /// <summary>The synthetic generator adds the paper's 1,170 excluded participants to the eligible ones.</summary>
    private static readonly int Excluded = SyntheticCohortOptions.PaperExclusionCounts.Values.Sum();

    /// <summary>Participants (records) imported: 100,000 as issue 7 specifies; HOMABONE_CLUSTER_PARTICIPANTS overrides (at least 2,000).</summary>
    private static int Records => int.TryParse(Environment.GetEnvironmentVariable("HOMABONE_CLUSTER_PARTICIPANTS"), out var n) ? Math.Max(n, 2000) : 100_000;

    [Fact]
    public async Task KillASiloFreezeAnotherRestartAGateway_DuringIngest_EveryAcknowledgedRecordStoredOnce_AnswersEqualBatchAndASingleSilo()
    {
        var participants = SyntheticCohort.Generate(7, new SyntheticCohortOptions { Eligible = Records - Excluded }).ToList();
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
                    while (!stop.IsCancellationRequested)
                    {
                        for (var g = 0; g < cluster.Participants.Count; g++)
                        {
                            var probe = probes[next++ % probes.Count];
                            var started = cluster.Clock.Elapsed;
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
                                if (cluster.Clock.Elapsed - started > ImportLoad.SlowCall)
                                {
                                    load.Failures.Enqueue(new(cluster.Clock.Elapsed, g, $"probe slower than {ImportLoad.SlowCall.TotalSeconds:F0} s", started));
                                }
                            }
                            catch (Grpc.Core.RpcException ex)
                            {
                                load.Failures.Enqueue(new(cluster.Clock.Elapsed, g, "probe " + ex.StatusCode, started));
                            }
                        }

                        await Task.Delay(250);
                    }
                }

                var probing = Task.Run(ProbeAsync);
                var importing = load.RunAsync();
                int Acknowledged() => load.Acknowledged.Count;

                // (a) SIGKILL silo 1 once a sixth of the records are acknowledged; a replacement joins, as a restarted pod would.
                while (Acknowledged() < participants.Count / 6 && !importing.IsCompleted)
                {
                    await Task.Delay(50);
                }

                cluster.Silos[1].Kill();
                var killedAt = cluster.Clock.Elapsed;
                output.WriteLine($"(a) SIGKILL silo 1 at {Acknowledged()} acknowledged, {(killedAt - load.Started).TotalSeconds:F1} s into the ingest");
                var replacing = Task.Run(async () =>
                {
                    await cluster.AddSiloAsync();
                    return cluster.Clock.Elapsed - killedAt;
                });

                // (b) 20 s later, SIGSTOP silo 2 for 30 s; (c) 20 s into the freeze, restart gateway 0 (graceful stop, new process).
                await Until(killedAt + TimeSpan.FromSeconds(20));
                var replacedAfter = await replacing;
                cluster.Silos[2].Signal("STOP");
                var stoppedAt = cluster.Clock.Elapsed;
                output.WriteLine($"(b) SIGSTOP silo 2 at {Acknowledged()} acknowledged, {(stoppedAt - load.Started).TotalSeconds:F1} s into the ingest (the replacement of silo 1 had joined)");

                await Until(stoppedAt + TimeSpan.FromSeconds(20));
                var restartAt = cluster.Clock.Elapsed;
                output.WriteLine($"(c) restart gateway 0 at {Acknowledged()} acknowledged, {(restartAt - load.Started).TotalSeconds:F1} s into the ingest");
                var restarting = Task.Run(async () =>
                {
                    await cluster.RestartGatewayAsync(0);
                    return cluster.Clock.Elapsed;
                });

                // SIGCONT on time, whether or not the gateway restart is done.
                await Until(stoppedAt + TimeSpan.FromSeconds(30));
                cluster.Silos[2].Signal("CONT");
                var continuedAt = cluster.Clock.Elapsed;
                output.WriteLine($"(b) SIGCONT silo 2 at {Acknowledged()} acknowledged, {(continuedAt - stoppedAt).TotalSeconds:F1} s after the SIGSTOP");
                var restartedAt = await restarting;
                output.WriteLine($"(c) the new gateway 0 was ready {(restartedAt - restartAt).TotalSeconds:F1} s after the restart began (graceful stop included)");
                await importing;

                // Keep probing until 20 s after the last fault so its recovery is measured even when the ingest was done.
                await Until(continuedAt + TimeSpan.FromSeconds(20));
                await stop.CancelAsync();
                await probing;

                // The failures each fault caused: a call sent through gateway 0 while it restarted belongs to (c) (the stopping
                // process refused it, or the channel's retries ran into the stopped one). Calls already under way when the
                // restart began are drained by the graceful stop: their failures belong to the freeze.
                bool Restarting(ImportLoad.Failure f) => f.Gateway == 0 && f.Started >= restartAt && f.Started <= restartedAt;
                var killRecovery = LastAfter(load, killedAt, stoppedAt, f => true);
                var freezeRecovery = LastAfter(load, stoppedAt, continuedAt, f => !Restarting(f));
                var restartRecovery = LastAfter(load, restartAt, TimeSpan.MaxValue, Restarting);
                var afterRestart = load.Failures.Count(f => f.Gateway == 0 && f.Started > restartedAt);
                var continueRecovery = LastAfter(load, continuedAt, TimeSpan.MaxValue, f => !Restarting(f));
                output.WriteLine($"ingest: {load.Summary()}, {probeCount} probe writes");
                output.WriteLine("failed calls (s after the start of the ingest, gateway, what, count):");
                foreach (var second in load.Failures.GroupBy(f => ((int)(f.At - load.Started).TotalSeconds, f.Gateway, f.What)).OrderBy(g => g.Key))
                {
                    output.WriteLine($"  {second.Key.Item1,4} s  g{second.Key.Gateway}  {second.Key.What} x{second.Count()}");
                }

                output.WriteLine($"(a) SIGKILL of a silo: every call succeeds again {killRecovery.TotalSeconds:F1} s after the kill (last failure); the replacement silo joined {replacedAfter.TotalSeconds:F1} s after it");
                output.WriteLine($"(b) SIGSTOP of a silo: every call succeeds again {freezeRecovery.TotalSeconds:F1} s after the stop (failures through the restarting gateway aside)");
                output.WriteLine($"(c) gateway restart: calls through it failed until {restartRecovery.TotalSeconds:F1} s after the restart began (new process ready after {(restartedAt - restartAt).TotalSeconds:F1} s), {afterRestart} calls sent through the new gateway failed");
                output.WriteLine($"(b) SIGCONT: every call succeeds again {continueRecovery.TotalSeconds:F1} s after it (failures through the restarting gateway aside)");
                Console.WriteLine($"[cluster] {participants.Count} participants under faults: recovery after SIGKILL {killRecovery.TotalSeconds:F1} s, SIGSTOP {freezeRecovery.TotalSeconds:F1} s, gateway restart {restartRecovery.TotalSeconds:F1} s (ready {(restartedAt - restartAt).TotalSeconds:F1} s), SIGCONT {continueRecovery.TotalSeconds:F1} s; ingest {load.Summary()}");

                load.AssertAllAcknowledged();

                // The target is 15 s; the bounds leave room for a loaded 2-core CI machine (the measured values are printed and
                // recorded in docs/deployment.md). A freeze is detected in 6-9 s, the gateways drop the frozen silo's gateway
                // within a second and give up the calls stranded on it a second later (LostGatewayGuard).
                Assert.True(killRecovery <= TimeSpan.FromSeconds(20), $"calls failed until {killRecovery.TotalSeconds:F1} s after the kill");
                Assert.True(freezeRecovery <= TimeSpan.FromSeconds(20), $"calls failed until {freezeRecovery.TotalSeconds:F1} s after SIGSTOP");
                Assert.True(continueRecovery <= TimeSpan.FromSeconds(20), $"calls failed until {continueRecovery.TotalSeconds:F1} s after SIGCONT");
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

        async Task Until(TimeSpan at)
        {
            var wait = at - cluster.Clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }
    }

    /// <summary>How long after <paramref name="from"/> calls kept failing: the last matching failure in [from, until).</summary>
    private static TimeSpan LastAfter(ImportLoad load, TimeSpan from, TimeSpan until, Func<ImportLoad.Failure, bool> counts)
    {
        var failures = load.Failures.Where(f => f.At >= from && f.At < until && counts(f)).ToList();
        return failures.Count > 0 ? failures.Max(f => f.At) - from : TimeSpan.Zero;
    }
}
