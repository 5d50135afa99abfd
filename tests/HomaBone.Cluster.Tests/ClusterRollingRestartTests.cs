using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;
using Xunit.Abstractions;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// A rolling restart of every silo under load, the way a Kubernetes rollout with maxSurge 1 and maxUnavailable 0 does
/// it: for each of the three silos, a new silo is started and joins, then the old one gets SIGTERM. All the while,
/// clients upsert new participants and read them back through the gateway on a channel with the published retry
/// policy and nothing else: no call may fail (a failure would be one the policy does not absorb). An upsert in flight to a
/// silo as it exits used to time out as DEADLINE_EXCEEDED; with its request id it is now UNAVAILABLE and retried by the
/// policy (a DEADLINE_EXCEEDED is counted and fails the test). Every silo exits 0,
/// every acknowledged write is stored exactly once in PostgreSQL, and the answers equal a batch recomputation.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ClusterRollingRestartTests(Infrastructure infrastructure, ITestOutputHelper output)
{
    private const string CohortId = "rolling";

    [Fact]
    public async Task RollingRestartOfEverySilo_UnderLoad_NoCallFailsBeyondTheRetryPolicy_WritesStoredOnce()
    {
        var participants = SyntheticCohort.Generate(13, new SyntheticCohortOptions { Eligible = 20000, IdPrefix = "R" }).ToList();
        await using var cluster = await TestCluster.StartAsync(infrastructure, output, "rolling", silos: 3, gateways: 1);
        await cluster.RunAsync(async () =>
        {
            var participantsClient = cluster.Participants[0];
            await cluster.Cohorts[0].CreateCohortAsync(new CreateCohortRequest { CohortId = CohortId, RequestId = "create-rolling", Cohort = TestCluster.EveryChangeVersioned });

            var acknowledged = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            var failed = new ConcurrentQueue<string>();
            var lost = new ConcurrentQueue<string>();
            var next = -1;
            long writes = 0, reads = 0, retriedCalls = 0, retries = 0;
            using var stop = new CancellationTokenSource();

            void CountRetries(Metadata headers)
            {
                if (headers.GetValue("grpc-previous-rpc-attempts") is { } previous)
                {
                    Interlocked.Increment(ref retriedCalls);
                    Interlocked.Add(ref retries, int.Parse(previous, CultureInfo.InvariantCulture));
                }
            }

            async Task WriterAsync()
            {
                while (!stop.IsCancellationRequested)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= participants.Count)
                    {
                        return;
                    }

                    var p = participants[i];
                    for (var attempt = 0; attempt < 3; attempt++)
                    {
                        try
                        {
                            using var call = participantsClient.UpsertParticipantAsync(new UpsertParticipantRequest
                            {
                                Participant = new Participant { Name = $"cohorts/{CohortId}/participants/{p.ParticipantId}", Record = ParticipantMapping.FromDomain(p.Record) },
                                RequestId = "rolling-" + p.ParticipantId,
                            });
                            var written = (await call.ResponseAsync).Participant;
                            CountRetries(await call.ResponseHeadersAsync);
                            acknowledged[p.ParticipantId] = written.Revision;
                            Interlocked.Increment(ref writes);
                            break;
                        }
                        catch (RpcException ex) when (ex.StatusCode == StatusCode.DeadlineExceeded)
                        {
                            // A request in flight to a silo as it exits is answered only by the 10 s response timeout; with a
                            // request id the gateway answers it UNAVAILABLE and the retry policy sends it again. Counted (must stay
                            // 0); the outcome is unknown, so the same request id again, which must store it once.
                            lost.Enqueue($"{cluster.Clock.Elapsed.TotalSeconds:F1} s upsert: {ex.StatusCode}");
                        }
                        catch (RpcException ex)
                        {
                            failed.Enqueue($"{cluster.Clock.Elapsed.TotalSeconds:F1} s upsert: {ex.StatusCode} {ex.Status.Detail}");
                            break;
                        }
                    }
                }
            }

            async Task ReaderAsync(int seed)
            {
                var random = new Random(seed);
                while (!stop.IsCancellationRequested)
                {
                    var known = acknowledged.Keys.Take(500).ToList();
                    try
                    {
                        if (known.Count > 0)
                        {
                            var id = known[random.Next(known.Count)];
                            using var call = participantsClient.GetParticipantAsync(new GetParticipantRequest { Name = $"cohorts/{CohortId}/participants/{id}" });
                            Assert.Equal(1, (await call.ResponseAsync).Participant.Revision);
                            CountRetries(await call.ResponseHeadersAsync);
                        }

                        using var flow = cluster.Cohorts[0].GetFlowAsync(new GetFlowRequest { Name = "cohorts/" + CohortId });
                        await flow.ResponseAsync;
                        CountRetries(await flow.ResponseHeadersAsync);
                        Interlocked.Add(ref reads, known.Count > 0 ? 2 : 1);
                    }
                    catch (RpcException ex)
                    {
                        failed.Enqueue($"{cluster.Clock.Elapsed.TotalSeconds:F1} s read: {ex.StatusCode} {ex.Status.Detail}");
                    }

                    await Task.Delay(20);
                }
            }

            // Readers start once a first version is published (before it, GetFlow is FAILED_PRECONDITION by design).
            for (var i = 0; i < 50; i++)
            {
                var p = participants[Interlocked.Increment(ref next)];
                acknowledged[p.ParticipantId] = (await participantsClient.UpsertParticipantAsync(new UpsertParticipantRequest
                {
                    Participant = new Participant { Name = $"cohorts/{CohortId}/participants/{p.ParticipantId}", Record = ParticipantMapping.FromDomain(p.Record) },
                    RequestId = "rolling-" + p.ParticipantId,
                })).Participant.Revision;
            }

            var loadStart = cluster.Clock.Elapsed;
            var load = Enumerable.Range(0, 6).Select(_ => Task.Run(WriterAsync))
                .Concat(Enumerable.Range(0, 2).Select(i => Task.Run(() => ReaderAsync(i))))
                .ToList();
            await Task.Delay(TimeSpan.FromSeconds(5));
            Assert.True(failed.IsEmpty, "calls failed before the rollout:\n" + string.Join('\n', failed.Take(20)));

            // One silo at a time: surge a new one (ready = joined), then SIGTERM the old one and wait for its exit.
            var steps = new List<string>();
            for (var old = 0; old < 3; old++)
            {
                var surgeAt = cluster.Clock.Elapsed;
                await cluster.AddSiloAsync();
                var joinedAt = cluster.Clock.Elapsed;
                cluster.Silos[old].Signal("TERM");
                Assert.True(await cluster.Silos[old].WaitForExitAsync(TimeSpan.FromSeconds(30)), $"silo {old} did not exit within 30 s of SIGTERM");
                var exitedAt = cluster.Clock.Elapsed;
                Assert.Equal(0, cluster.Silos[old].ExitCode);
                steps.Add($"silo {old}: new silo joined in {(joinedAt - surgeAt).TotalSeconds:F1} s, old one stopped (exit 0) in {(exitedAt - joinedAt).TotalSeconds:F1} s after SIGTERM");
                await Task.Delay(TimeSpan.FromSeconds(3));
            }

            await Task.Delay(TimeSpan.FromSeconds(5));
            await stop.CancelAsync();
            await Task.WhenAll(load);
            var loadTime = cluster.Clock.Elapsed - loadStart;

            foreach (var step in steps)
            {
                output.WriteLine(step);
            }

            output.WriteLine($"load during the rollout: {writes} upserts and {reads} reads in {loadTime.TotalSeconds:F1} s; {retriedCalls} calls needed the retry policy ({retries} retries); {failed.Count} calls failed; {lost.Count} upserts timed out (DEADLINE_EXCEEDED) and were sent again");
            foreach (var l in lost)
            {
                output.WriteLine("  timed out: " + l);
            }

            Console.WriteLine($"[cluster] rolling restart of 3 silos: {writes} upserts, {reads} reads, {retriedCalls} calls retried by the policy, {failed.Count} failed, {lost.Count} timed out at a silo exit");
            Assert.True(failed.IsEmpty, "calls failed beyond the retry policy:\n" + string.Join('\n', failed.Take(20)));
            Assert.True(lost.IsEmpty, "upserts with a request id timed out (DEADLINE_EXCEEDED) instead of being retried:\n" + string.Join('\n', lost.Take(20)));
            Assert.All(acknowledged.Values, revision => Assert.Equal(1, revision));
            await cluster.AssertStoredExactlyOnceAsync(CohortId, acknowledged.Keys);
            await cluster.AssertAnswersEqualBatchAsync(CohortId, acknowledged.Count);
        });
    }
}
