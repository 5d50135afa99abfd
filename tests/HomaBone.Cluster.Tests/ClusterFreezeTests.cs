using HomaBone.Contracts.V1;
using HomaBone.Synthetic;
using Xunit.Abstractions;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// Three silos and two gateways (<see cref="TestCluster"/>): during an import one silo is frozen with SIGSTOP for 30 s
/// (then SIGCONT), and one gateway is restarted (SIGTERM, new process). The client moves to the other gateway on
/// UNAVAILABLE and retries with the same request ids (<see cref="ImportLoad"/>). Every acknowledged record is stored
/// exactly once and the answers equal a batch recomputation; the time until every call succeeds again after the freeze
/// is measured.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ClusterFreezeTests(Infrastructure infrastructure, ITestOutputHelper output)
{
    private const string CohortId = "freeze";

    [Fact]
    public async Task FreezeOneSiloFor30sAndRestartAGateway_EveryAcknowledgedRecordStoredOnce()
    {
        var participants = SyntheticCohort.Generate(9, new SyntheticCohortOptions { Eligible = 3000, IdPrefix = "F" }).ToList();
        await using var cluster = await TestCluster.StartAsync(infrastructure, output, "freeze");
        await cluster.RunAsync(async () =>
        {
            await cluster.Cohorts[0].CreateCohortAsync(new CreateCohortRequest { CohortId = CohortId, RequestId = "create-freeze", Cohort = TestCluster.EveryChangeVersioned });
            var load = new ImportLoad(cluster, CohortId, participants);
            var importing = load.RunAsync();
            while (load.Acknowledged.Count < participants.Count / 5 && !importing.IsCompleted)
            {
                await Task.Delay(50);
            }

            cluster.Silos[2].Signal("STOP");
            var stoppedAt = cluster.Clock.Elapsed;
            output.WriteLine($"SIGSTOP silo 2 at {load.Acknowledged.Count} acknowledged");

            // 20 s into the freeze: restart gateway 0 (graceful stop, a new process).
            await Task.Delay(stoppedAt + TimeSpan.FromSeconds(20) - cluster.Clock.Elapsed);
            var restartAt = cluster.Clock.Elapsed;
            await cluster.RestartGatewayAsync(0);
            var restartTook = cluster.Clock.Elapsed - restartAt;

            await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (stoppedAt + TimeSpan.FromSeconds(30) - cluster.Clock.Elapsed).Ticks)));
            cluster.Silos[2].Signal("CONT");
            var continuedAt = cluster.Clock.Elapsed;
            await importing;

            var freezeRecovery = load.RecoveryAfter(stoppedAt, until: restartAt);
            var afterRestart = load.Failures.Count(f => f.At >= restartAt + restartTook && f.Gateway == 0);
            var afterContinue = load.Failures.Where(f => f.At >= continuedAt).ToList();
            output.WriteLine($"ingest: {load.Summary()}");
            output.WriteLine($"SIGSTOP of a silo (30 s): every call succeeds again {freezeRecovery.TotalSeconds:F1} s after the stop (last failure before the gateway restart)");
            output.WriteLine($"gateway restart: new gateway ready after {restartTook.TotalSeconds:F1} s; {afterRestart} failed calls through it afterwards");
            output.WriteLine($"SIGCONT: {afterContinue.Count} failed calls afterwards" + (afterContinue.Count > 0 ? $", the last {(afterContinue.Max(f => f.At) - continuedAt).TotalSeconds:F1} s after it" : string.Empty));
            Console.WriteLine($"[cluster] recovery after SIGSTOP: {freezeRecovery.TotalSeconds:F1} s; gateway restart {restartTook.TotalSeconds:F1} s");

            load.AssertAllAcknowledged();
            Assert.True(freezeRecovery <= TimeSpan.FromSeconds(25), $"calls failed until {freezeRecovery.TotalSeconds:F1} s after SIGSTOP");
            await cluster.AssertStoredExactlyOnceAsync(CohortId, load.Acknowledged.Keys);
            await cluster.AssertAnswersEqualBatchAsync(CohortId, participants.Count);
        });
    }
}
