using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;
using Xunit.Abstractions;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// SIGTERM while a call is in flight: readiness turns false at once (/health/ready 503, grpc.health NOT_SERVING), new
/// calls are refused with UNAVAILABLE (the status clients retry elsewhere), the call in flight finishes with every
/// record stored, and the process exits 0 well within its shutdown timeout; a restart finds every record.
/// </summary>
public sealed class GracefulShutdownTests(ITestOutputHelper output)
{
    private const int BatchSize = 50;

    [Fact]
    public async Task Sigterm_InFlightCallFinishes_NewCallsRefused_ExitsZeroWithinTimeout()
    {
        var shutdownTimeout = TimeSpan.FromSeconds(20);
        var participants = SyntheticCohort.Generate(11, new SyntheticCohortOptions { Eligible = 300, IdPrefix = "G" }).ToList();
        var batches = participants
            .Select(p => new ImportEntry { ParticipantId = p.ParticipantId, Record = ParticipantMapping.FromDomain(p.Record), RequestId = "drain-" + p.ParticipantId })
            .Chunk(BatchSize)
            .ToList();
        var service = new ServiceProcess();
        try
        {
            await service.StartAsync("--HomaBone:ShutdownDrainDelay=00:00:01.500", $"--HomaBone:ShutdownTimeout={shutdownTimeout}");
            using var http = new HttpClient { BaseAddress = new Uri(service.HttpAddress) };

            // The published retry policy is served as the file in the repository.
            Assert.Equal(await File.ReadAllTextAsync(PublishedRetryPolicy.Path), await http.GetStringAsync(new Uri("/grpc-service-config.json", UriKind.Relative)));

            using var channel = service.CreateChannel();
            await new CohortService.CohortServiceClient(channel).CreateCohortAsync(new CreateCohortRequest { CohortId = "drain", RequestId = "create-drain" });
            var client = new ParticipantService.ParticipantServiceClient(channel);

            // A call in flight: an import stream with half of its batches sent and answered.
            using var import = client.ImportParticipants();
            var results = new List<ImportResult>();
            var reading = Task.Run(async () =>
            {
                await foreach (var response in import.ResponseStream.ReadAllAsync())
                {
                    lock (results)
                    {
                        results.AddRange(response.Results);
                    }
                }
            });
            var half = batches.Count / 2;
            foreach (var batch in batches.Take(half))
            {
                await import.RequestStream.WriteAsync(new ImportParticipantsRequest { Parent = "cohorts/drain", Entries = { batch } });
            }

            await WaitUntilAsync(() => { lock (results) { return results.Count == half * BatchSize; } }, TimeSpan.FromSeconds(30));

            var clock = Stopwatch.StartNew();
            var logBefore = service.Output.Length;
            service.Signal("TERM");

            // Readiness false first: the HTTP probe and the gRPC health service say so while the endpoints are still up.
            await WaitUntilAsync(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(2));
            var notReadyAfter = clock.Elapsed;
            using (var probeChannel = service.CreateChannel(null, retry: false))
            {
                var health = await new Health.HealthClient(probeChannel).CheckAsync(new HealthCheckRequest());
                Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, health.Status);

                // A new call is refused with UNAVAILABLE, the status the published policy retries (on another gateway).
                var refused = await Assert.ThrowsAsync<RpcException>(() => new ParticipantService.ParticipantServiceClient(probeChannel).UpsertParticipantAsync(new UpsertParticipantRequest
                {
                    Participant = new Participant { Name = "cohorts/drain/participants/late", Record = ParticipantMapping.FromDomain(participants[0].Record) },
                    RequestId = "late",
                }).ResponseAsync);
                Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
            }

            // After the drain delay the endpoints stop accepting connections, while the call in flight is still open.
            await WaitUntilAsync(
                async () =>
                {
                    try
                    {
                        using var fresh = new HttpClient { BaseAddress = new Uri(service.HttpAddress) };
                        await fresh.GetAsync(new Uri("/health/live", UriKind.Relative));
                        return false;
                    }
                    catch (HttpRequestException)
                    {
                        return true;
                    }
                },
                TimeSpan.FromSeconds(10));
            var closedAfter = clock.Elapsed;

            // The call in flight goes on: the rest of its batches are stored and answered OK.
            foreach (var batch in batches.Skip(half))
            {
                await import.RequestStream.WriteAsync(new ImportParticipantsRequest { Parent = "cohorts/drain", Entries = { batch } });
            }

            await import.RequestStream.CompleteAsync();
            await reading;
            var finishedAt = clock.Elapsed;
            Assert.Equal(participants.Count, results.Count);
            Assert.All(results, r => Assert.Equal((int)StatusCode.OK, r.Status.Code));

            // The process exits 0 within its shutdown timeout (grains deactivated, silo stopped).
            Assert.True(await service.WaitForExitAsync(shutdownTimeout + TimeSpan.FromSeconds(5)), "the process did not exit:\n" + service.Output);
            var exitedAt = clock.Elapsed;
            Assert.Equal(0, service.ExitCode);
            Assert.True(exitedAt < shutdownTimeout, $"exit took {exitedAt.TotalSeconds:F1} s");
            var shutdownLog = service.Output[logBefore..];
            Assert.DoesNotContain("fail:", shutdownLog, StringComparison.Ordinal);
            Assert.DoesNotContain("crit:", shutdownLog, StringComparison.Ordinal);
            output.WriteLine($"SIGTERM: not ready after {notReadyAfter.TotalSeconds:F2} s, new connections refused after {closedAfter.TotalSeconds:F1} s, in-flight import finished at {finishedAt.TotalSeconds:F1} s, exit 0 at {exitedAt.TotalSeconds:F1} s (timeout {shutdownTimeout.TotalSeconds:F0} s)");

            // Everything acknowledged is there after a restart on the same data.
            await using var restarted = new ServiceProcess(service.DataDirectory);
            await restarted.StartAsync();
            using var restartedChannel = restarted.CreateChannel();
            var reader = new ParticipantService.ParticipantServiceClient(restartedChannel);
            foreach (var p in new[] { participants[0], participants[^1] })
            {
                var read = await reader.GetParticipantAsync(new GetParticipantRequest { Name = $"cohorts/drain/participants/{p.ParticipantId}" });
                Assert.Equal(1, read.Participant.Revision);
            }
        }
        catch
        {
            output.WriteLine(service.Output.Length <= 8000 ? service.Output : service.Output[^8000..]);
            throw;
        }
        finally
        {
            await service.DisposeAsync();
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout) => WaitUntilAsync(() => Task.FromResult(condition()), timeout);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(50);
        }
    }
}
