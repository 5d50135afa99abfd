using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;
using Npgsql;
using Xunit.Abstractions;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// Three silos and two gateways: during an import one silo is frozen with SIGSTOP for 30 s (then SIGCONT), and one
/// gateway is restarted (SIGTERM, new process). The client moves to the other gateway on UNAVAILABLE and retries
/// with the same request ids. Every acknowledged record is stored exactly once; the time until every call
/// succeeds again after the freeze is measured.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ClusterFreezeTests(Infrastructure infrastructure, ITestOutputHelper output)
{
    private const string CohortId = "freeze";
    private const int BatchSize = 100;

    [Fact]
    public async Task FreezeOneSiloFor30sAndRestartAGateway_EveryAcknowledgedRecordStoredOnce()
    {
        var database = await infrastructure.CreateDatabaseAsync();
        var common = new[]
        {
            $"--HomaBone:RedisConnectionString={infrastructure.RedisConnectionString}",
            $"--HomaBone:PostgresConnectionString={database}",
            $"--HomaBone:ClusterId=freeze-{Guid.NewGuid():N}",
        };
        var participants = SyntheticCohort.Generate(9, new SyntheticCohortOptions { Eligible = 3000, IdPrefix = "F" }).ToList();
        var silos = Enumerable.Range(0, 3).Select(_ => new ServiceProcess(project: "Silo")).ToList();
        var gateways = Enumerable.Range(0, 2).Select(_ => new ServiceProcess(project: "Gateway")).ToList();
        var clock = Stopwatch.StartNew();
        try
        {
            await Task.WhenAll(silos.Select(s => s.StartAsync(common)));
            await Task.WhenAll(gateways.Select(g => g.StartAsync([.. common, "--HomaBone:Mode=Gateway"])));
            var clients = gateways.Select(g => new ParticipantService.ParticipantServiceClient(g.CreateChannel())).ToArray();
            await new CohortService.CohortServiceClient(gateways[0].CreateChannel()).CreateCohortAsync(new CreateCohortRequest { CohortId = CohortId, RequestId = "create-freeze" });

            var queue = new ConcurrentQueue<ImportEntry[]>(participants
                .Select(p => new ImportEntry { ParticipantId = p.ParticipantId, Record = ParticipantMapping.FromDomain(p.Record), RequestId = "import-" + p.ParticipantId })
                .Chunk(BatchSize));
            var acknowledged = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            var unexpected = new ConcurrentQueue<string>();
            var failures = new ConcurrentQueue<(TimeSpan At, int Gateway, string What)>();

            async Task IngestAsync(int worker)
            {
                var attempt = worker;
                while (queue.TryDequeue(out var batch))
                {
                    var gateway = attempt % clients.Length;
                    try
                    {
                        using var call = clients[gateway].ImportParticipants(deadline: DateTime.UtcNow.AddSeconds(30));
                        await call.RequestStream.WriteAsync(new ImportParticipantsRequest { Parent = "cohorts/" + CohortId, Entries = { batch } });
                        await call.RequestStream.CompleteAsync();
                        var again = new List<ImportEntry>();
                        await foreach (var response in call.ResponseStream.ReadAllAsync())
                        {
                            foreach (var result in response.Results)
                            {
                                var entry = batch[result.Index];
                                if (result.Status.Code == (int)StatusCode.OK)
                                {
                                    acknowledged[entry.ParticipantId] = result.Revision;
                                }
                                else if (result.Status.Code == (int)StatusCode.Unavailable)
                                {
                                    failures.Enqueue((clock.Elapsed, gateway, "record UNAVAILABLE"));
                                    again.Add(entry);
                                }
                                else
                                {
                                    unexpected.Enqueue($"{entry.ParticipantId}: {(StatusCode)result.Status.Code} {result.Status.Message}");
                                }
                            }
                        }

                        if (again.Count > 0)
                        {
                            queue.Enqueue([.. again]);
                            await Task.Delay(200);
                        }
                    }
                    catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                    {
                        // Whole stream failed (for example the gateway is restarting): retry on the other gateway.
                        failures.Enqueue((clock.Elapsed, gateway, "stream " + ex.StatusCode));
                        queue.Enqueue(batch);
                        attempt++;
                        await Task.Delay(200);
                    }
                }
            }

            var ingestStart = clock.Elapsed;
            var workers = Enumerable.Range(0, 4).Select(i => Task.Run(() => IngestAsync(i))).ToList();
            while (acknowledged.Count < participants.Count / 5 && !workers.All(w => w.IsCompleted))
            {
                await Task.Delay(50);
            }

            silos[2].Signal("STOP");
            var stoppedAt = clock.Elapsed;
            output.WriteLine($"SIGSTOP silo 2 at {acknowledged.Count} acknowledged");

            // 20 s into the freeze: restart gateway 0 (graceful stop, a new process).
            while (clock.Elapsed < stoppedAt + TimeSpan.FromSeconds(20))
            {
                await Task.Delay(100);
            }

            var restartAt = clock.Elapsed;
            await gateways[0].StopAsync();
            await gateways[0].DisposeAsync();
            gateways[0] = new ServiceProcess(project: "Gateway");
            await gateways[0].StartAsync([.. common, "--HomaBone:Mode=Gateway"]);
            clients[0] = new ParticipantService.ParticipantServiceClient(gateways[0].CreateChannel());
            var restartTook = clock.Elapsed - restartAt;

            while (clock.Elapsed < stoppedAt + TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }

            silos[2].Signal("CONT");
            var continuedAt = clock.Elapsed;

            while (true)
            {
                await Task.WhenAll(workers);
                if (queue.IsEmpty)
                {
                    break;
                }

                workers = Enumerable.Range(0, 4).Select(i => Task.Run(() => IngestAsync(i))).ToList();
            }

            var ingestEnd = clock.Elapsed;
            var freezeFailures = failures.Where(f => f.At >= stoppedAt && f.At < restartAt).ToList();
            var freezeRecovery = freezeFailures.Count > 0 ? freezeFailures.Max(f => f.At) - stoppedAt : TimeSpan.Zero;
            var afterRestart = failures.Where(f => f.At >= restartAt + restartTook && f.Gateway == 0).ToList();
            var afterContinue = failures.Where(f => f.At >= continuedAt).ToList();
            output.WriteLine($"ingest: {participants.Count} records in {(ingestEnd - ingestStart).TotalSeconds:F1} s, {failures.Count} failed calls ({string.Join(", ", failures.GroupBy(f => f.What).Select(g => $"{g.Key} x{g.Count()}"))})");
            output.WriteLine($"SIGSTOP of a silo (30 s): every call succeeds again {freezeRecovery.TotalSeconds:F1} s after the stop (last failure before the gateway restart)");
            output.WriteLine($"gateway restart: new gateway ready after {restartTook.TotalSeconds:F1} s; {afterRestart.Count} failed calls through it afterwards");
            output.WriteLine($"SIGCONT: {afterContinue.Count} failed calls afterwards" + (afterContinue.Count > 0 ? $", the last {(afterContinue.Max(f => f.At) - continuedAt).TotalSeconds:F1} s after it" : string.Empty));
            Console.WriteLine($"[cluster] recovery after SIGSTOP: {freezeRecovery.TotalSeconds:F1} s; gateway restart {restartTook.TotalSeconds:F1} s");

            Assert.Empty(unexpected);
            Assert.Equal(participants.Count, acknowledged.Count);
            Assert.All(acknowledged.Values, revision => Assert.Equal(1, revision));
            Assert.True(freezeRecovery <= TimeSpan.FromSeconds(25), $"calls failed until {freezeRecovery.TotalSeconds:F1} s after SIGSTOP");

            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            foreach (var table in new[] { "participants", "participant_revisions", "request_log" })
            {
                await using var count = new NpgsqlCommand($"SELECT count(*), count(DISTINCT participant_id) FROM {table} WHERE cohort_id = $1;", connection) { Parameters = { new() { Value = CohortId } } };
                await using var reader = await count.ExecuteReaderAsync();
                await reader.ReadAsync();
                Assert.Equal((participants.Count, participants.Count), ((int)reader.GetInt64(0), (int)reader.GetInt64(1)));
            }
        }
        catch
        {
            foreach (var (process, i) in silos.Select((s, i) => (s, i)))
            {
                output.WriteLine($"--- silo {i} ---\n{Tail(process.Output)}");
            }

            throw;
        }
        finally
        {
            silos[2].Signal("CONT");
            foreach (var process in gateways.Concat(silos))
            {
                await process.DisposeAsync();
            }
        }
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
