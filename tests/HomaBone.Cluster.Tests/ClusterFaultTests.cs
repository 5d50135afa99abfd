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
/// Three silo processes (Redis membership, PostgreSQL records) and two gateway processes (Orleans clients that find
/// the silos through Redis). A silo is killed with SIGKILL in the middle of an import; the client retries every
/// UNAVAILABLE record with its request id. Then: every acknowledged participant is stored exactly once, both
/// gateways give the same answers, a single co-hosted silo over the same database gives the same bytes at that
/// version, and the time until every call succeeds again is measured.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ClusterFaultTests(Infrastructure infrastructure, ITestOutputHelper output)
{
    private const string CohortId = "fault";
    private const string ProbeCohortId = "probe";
    private const int BatchSize = 100;

    [Fact]
    public async Task KillOneSiloMidIngest_EveryAcknowledgedRecordStoredOnce_AnswersAgreeWithASingleSilo()
    {
        var database = await infrastructure.CreateDatabaseAsync();
        var common = new[]
        {
            $"--HomaBone:RedisConnectionString={infrastructure.RedisConnectionString}",
            $"--HomaBone:PostgresConnectionString={database}",
            $"--HomaBone:ClusterId=fault-{Guid.NewGuid():N}",
        };
        var participants = SyntheticCohort.Generate(7, new SyntheticCohortOptions { Eligible = 2000 }).ToList();
        var probes = SyntheticCohort.Generate(8, new SyntheticCohortOptions { Eligible = 400, IdPrefix = "X" }).ToList();

        var silos = Enumerable.Range(0, 3).Select(_ => new ServiceProcess(project: "Silo")).ToList();
        var gateways = Enumerable.Range(0, 2).Select(_ => new ServiceProcess(project: "Gateway")).ToList();
        var clock = Stopwatch.StartNew();
        try
        {
            await Task.WhenAll(silos.Select(s => s.StartAsync(common)));
            await Task.WhenAll(gateways.Select(g => g.StartAsync([.. common, "--HomaBone:Mode=Gateway"])));
            output.WriteLine($"cluster up: 3 silos, 2 gateways in {clock.Elapsed.TotalSeconds:F1} s");
            var channels = gateways.Select(g => g.CreateChannel()).ToList();
            var cohortClients = channels.Select(c => new CohortService.CohortServiceClient(c)).ToList();
            var participantClients = channels.Select(c => new ParticipantService.ParticipantServiceClient(c)).ToList();
            await cohortClients[0].CreateCohortAsync(new CreateCohortRequest { CohortId = CohortId, RequestId = "create-fault" });
            await cohortClients[0].CreateCohortAsync(new CreateCohortRequest { CohortId = ProbeCohortId, RequestId = "create-probe" });

            // Ingest with 4 concurrent streams over both gateways; UNAVAILABLE records are queued again as they were.
            var queue = new ConcurrentQueue<ImportEntry[]>(participants
                .Select(p => new ImportEntry { ParticipantId = p.ParticipantId, Record = ParticipantMapping.FromDomain(p.Record), RequestId = "import-" + p.ParticipantId })
                .Chunk(BatchSize));
            var acknowledged = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            var unexpected = new ConcurrentQueue<string>();
            var failures = new ConcurrentQueue<(TimeSpan At, string What)>();
            var retried = 0;
            var killedAt = TimeSpan.MaxValue;
            using var stop = new CancellationTokenSource();

            async Task IngestAsync(int worker)
            {
                var client = participantClients[worker % participantClients.Count];
                while (queue.TryDequeue(out var batch))
                {
                    try
                    {
                        using var call = client.ImportParticipants(deadline: DateTime.UtcNow.AddSeconds(30));
                        await call.RequestStream.WriteAsync(new ImportParticipantsRequest { Parent = "cohorts/" + CohortId, Entries = { batch } });
                        await call.RequestStream.CompleteAsync();
                        var again = new List<ImportEntry>();
                        await foreach (var response in call.ResponseStream.ReadAllAsync())
                        {
                            foreach (var result in response.Results)
                            {
                                var entry = batch[result.Index];
                                switch ((StatusCode)result.Status.Code)
                                {
                                    case StatusCode.OK:
                                        acknowledged[entry.ParticipantId] = result.Revision;
                                        break;
                                    case StatusCode.Unavailable:
                                        failures.Enqueue((clock.Elapsed, "record UNAVAILABLE"));
                                        again.Add(entry);
                                        break;
                                    default:
                                        unexpected.Enqueue($"{entry.ParticipantId}: {(StatusCode)result.Status.Code} {result.Status.Message}");
                                        break;
                                }
                            }
                        }

                        if (again.Count > 0)
                        {
                            Interlocked.Add(ref retried, again.Count);
                            queue.Enqueue([.. again]);
                            await Task.Delay(200);
                        }
                    }
                    catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                    {
                        // The whole stream failed: its records' outcome is unknown, and a retry with the same request
                        // ids is safe (stored ones answer their first result).
                        failures.Enqueue((clock.Elapsed, "stream " + ex.StatusCode));
                        Interlocked.Add(ref retried, batch.Length);
                        queue.Enqueue(batch);
                        await Task.Delay(200);
                    }
                }
            }

            // Probes: a new participant through each gateway every 250 ms (new grains land on any silo).
            var probeCount = 0;
            async Task ProbeAsync()
            {
                var next = 0;
                while (!stop.IsCancellationRequested && next < probes.Count)
                {
                    foreach (var client in participantClients)
                    {
                        var probe = probes[next++ % probes.Count];
                        try
                        {
                            await client.UpsertParticipantAsync(
                                new UpsertParticipantRequest
                                {
                                    Participant = new Participant { Name = $"cohorts/{ProbeCohortId}/participants/{probe.ParticipantId}", Record = ParticipantMapping.FromDomain(probe.Record) },
                                    RequestId = "probe-" + probe.ParticipantId,
                                },
                                deadline: DateTime.UtcNow.AddSeconds(10));
                            Interlocked.Increment(ref probeCount);
                        }
                        catch (RpcException ex)
                        {
                            failures.Enqueue((clock.Elapsed, "probe " + ex.StatusCode));
                        }
                    }

                    await Task.Delay(250);
                }
            }

            var ingestStart = clock.Elapsed;
            var probing = Task.Run(ProbeAsync);
            var workers = Enumerable.Range(0, 4).Select(i => Task.Run(() => IngestAsync(i))).ToList();

            // Kill -9 one silo once a third of the records are acknowledged.
            while (acknowledged.Count < participants.Count / 3 && !workers.All(w => w.IsCompleted))
            {
                await Task.Delay(50);
            }

            silos[1].Kill();
            killedAt = clock.Elapsed;
            output.WriteLine($"killed silo 1 (SIGKILL) at {acknowledged.Count} acknowledged, {(killedAt - ingestStart).TotalSeconds:F1} s into the ingest");

            // Workers finish when the queue is empty; a worker may finish while another re-queues, so loop.
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

            // Keep probing until 20 s after the kill so the recovery time is measured even when the ingest was fast.
            var probeUntil = killedAt + TimeSpan.FromSeconds(20);
            while (clock.Elapsed < probeUntil)
            {
                await Task.Delay(100);
            }

            await stop.CancelAsync();
            await probing;

            var afterKill = failures.Where(f => f.At >= killedAt).ToList();
            var recovery = afterKill.Count > 0 ? afterKill.Max(f => f.At) - killedAt : TimeSpan.Zero;
            output.WriteLine($"ingest: {participants.Count} records in {(ingestEnd - ingestStart).TotalSeconds:F1} s, {retried} record retries, {failures.Count} failed calls ({string.Join(", ", failures.GroupBy(f => f.What).Select(g => $"{g.Key} x{g.Count()}"))}), {probeCount} probe writes");
            output.WriteLine($"recovery after SIGKILL of a silo: every call succeeds again {recovery.TotalSeconds:F1} s after the kill (last failure); target <= 15 s");
            Console.WriteLine($"[cluster] recovery after SIGKILL: {recovery.TotalSeconds:F1} s; ingest {participants.Count} records in {(ingestEnd - ingestStart).TotalSeconds:F1} s with {retried} retries");

            Assert.Empty(unexpected);
            Assert.Equal(participants.Count, acknowledged.Count);
            Assert.All(acknowledged.Values, revision => Assert.Equal(1, revision));
            // The target is 15 s; the bound leaves room for a loaded 2-core CI machine (the measured value is printed).
            Assert.True(recovery <= TimeSpan.FromSeconds(25), $"calls failed until {recovery.TotalSeconds:F1} s after the kill");

            // Exactly once in PostgreSQL: one head, one revision and one request-log row per participant.
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                foreach (var table in new[] { "participants", "participant_revisions", "request_log" })
                {
                    await using var count = new NpgsqlCommand($"SELECT count(*), count(DISTINCT participant_id) FROM {table} WHERE cohort_id = $1;", connection) { Parameters = { new() { Value = CohortId } } };
                    await using var reader = await count.ExecuteReaderAsync();
                    await reader.ReadAsync();
                    Assert.Equal((participants.Count, participants.Count), ((int)reader.GetInt64(0), (int)reader.GetInt64(1)));
                }

                await using var ids = new NpgsqlCommand("SELECT participant_id FROM participants WHERE cohort_id = $1;", connection) { Parameters = { new() { Value = CohortId } } };
                var stored = new HashSet<string>(StringComparer.Ordinal);
                await using (var reader = await ids.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        stored.Add(reader.GetString(0));
                    }
                }

                Assert.True(stored.SetEquals(acknowledged.Keys));
            }

            // The analysis catches up through the outbox; then both gateways answer the same at that version.
            var name = "cohorts/" + CohortId;
            var flow = await WaitForFlowAsync(cohortClients[0], name, participants.Count);
            var version = flow.Metadata.CohortVersion;
            var quartiles = await cohortClients[0].GetQuartilesAsync(new GetQuartilesRequest { Name = name, Version = version });
            Assert.Equal(flow, await cohortClients[1].GetFlowAsync(new GetFlowRequest { Name = name, Version = version }));
            Assert.Equal(quartiles, await cohortClients[1].GetQuartilesAsync(new GetQuartilesRequest { Name = name, Version = version }));
            Assert.Equal(4, quartiles.Groups.Count);
            output.WriteLine($"cluster answers at version {version}: enrolled {flow.Enrolled}, analysed {flow.Analysed}, quartile n {string.Join("/", quartiles.Groups.Select(g => g.N))}");

            foreach (var channel in channels)
            {
                channel.Dispose();
            }

            // A single co-hosted silo (localhost clustering) over the same database recomputes the same bytes.
            foreach (var process in gateways.Concat(silos))
            {
                await process.DisposeAsync();
            }

            await using var single = new ServiceProcess(project: "Gateway");
            await single.StartAsync($"--HomaBone:PostgresConnectionString={database}");
            using var singleChannel = single.CreateChannel();
            var singleCohorts = new CohortService.CohortServiceClient(singleChannel);
            Assert.Equal(flow, await singleCohorts.GetFlowAsync(new GetFlowRequest { Name = name, Version = version }));
            Assert.Equal(quartiles, await singleCohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = name, Version = version }));
            output.WriteLine($"single silo over the same records: identical flow and quartiles at version {version}; test took {clock.Elapsed.TotalSeconds:F1} s");
        }
        catch
        {
            foreach (var (process, i) in silos.Select((s, i) => (s, i)))
            {
                output.WriteLine($"--- silo {i} ---\n{Tail(process.Output)}");
            }

            foreach (var (process, i) in gateways.Select((g, i) => (g, i)))
            {
                output.WriteLine($"--- gateway {i} ---\n{Tail(process.Output)}");
            }

            throw;
        }
        finally
        {
            foreach (var process in gateways.Concat(silos))
            {
                await process.DisposeAsync();
            }
        }
    }

    private static async Task<GetFlowResponse> WaitForFlowAsync(CohortService.CohortServiceClient client, string name, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var flow = await client.GetFlowAsync(new GetFlowRequest { Name = name });
            if (flow.Enrolled == expected || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expected, flow.Enrolled);
                return flow;
            }

            await Task.Delay(500);
        }
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : text[^6000..];
}
