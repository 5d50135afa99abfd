using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using HomaBone.Contracts.V1;
using HomaBone.Synthetic;

namespace HomaBone.Ingest.Bench;

/// <summary>The outcome of one ingest run.</summary>
internal sealed record IngestResult(string CohortId, long Stored, long Failed, TimeSpan Elapsed, long CohortCount, string? FirstFailure);

/// <summary>Streams synthetic participants through ImportParticipants on a few concurrent streams.</summary>
internal static class IngestRunner
{
    /// <summary>Batches in the order sent, encoded beforehand so generation is not part of the timing.</summary>
    public static List<byte[]> PrepareBatches(BenchOptions options)
    {
        var paperExclusions = SyntheticCohortOptions.PaperExclusionCounts.Values.Sum();
        var cohortOptions = options.Count > 2 * paperExclusions
            ? new SyntheticCohortOptions { Eligible = options.Count - paperExclusions }
            : new SyntheticCohortOptions { Eligible = options.Count, Excluded = new Dictionary<HomaBone.Domain.ExclusionReason, int>() };
        var batches = new List<byte[]>();
        var batch = new ImportParticipantsRequest();
        foreach (var participant in SyntheticCohort.Generate(options.Seed, cohortOptions).Take(options.Count))
        {
            batch.Entries.Add(new ImportEntry
            {
                ParticipantId = participant.ParticipantId,
                Record = HomaBone.Grains.ParticipantMapping.FromDomain(participant.Record),
                RequestId = "bench-" + participant.ParticipantId,
            });
            if (batch.Entries.Count == options.BatchSize)
            {
                batches.Add(batch.ToByteArray());
                batch = new ImportParticipantsRequest();
            }
        }

        if (batch.Entries.Count > 0)
        {
            batches.Add(batch.ToByteArray());
        }

        return batches;
    }

    public static async Task<IngestResult> RunAsync(string address, IReadOnlyList<byte[]> batches, BenchOptions options)
    {
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        var cohorts = new CohortService.CohortServiceClient(channel);
        var participants = new ParticipantService.ParticipantServiceClient(channel);
        var cohortId = "bench-" + Guid.NewGuid().ToString("n")[..12];
        var parent = "cohorts/" + cohortId;
        await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = cohortId, Cohort = new Cohort() });

        var next = -1;
        long stored = 0, failed = 0;
        string? firstFailure = null;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Streams).Select(_ => Task.Run(StreamAsync)));
        clock.Stop();
        var count = (await cohorts.GetCohortAsync(new GetCohortRequest { Name = parent })).Cohort.ParticipantCount;
        return new IngestResult(cohortId, stored, failed, clock.Elapsed, count, firstFailure);

        async Task StreamAsync()
        {
            using var call = participants.ImportParticipants();

            // At most two batches in flight per stream: the server answers a batch only after every record in it is
            // durable, so this bounds memory without leaving the store idle.
            using var window = new SemaphoreSlim(2);
            var reading = Task.Run(async () =>
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync())
                {
                    foreach (var result in response.Results)
                    {
                        if (result.Status.Code == 0)
                        {
                            Interlocked.Increment(ref stored);
                        }
                        else
                        {
                            Interlocked.Increment(ref failed);
                            Interlocked.CompareExchange(ref firstFailure, $"{result.Name}: {result.Status.Code} {result.Status.Message}", null);
                        }
                    }

                    window.Release();
                }
            });

            int index;
            while ((index = Interlocked.Increment(ref next)) < batches.Count)
            {
                await window.WaitAsync();
                var message = ImportParticipantsRequest.Parser.ParseFrom(batches[index]);
                message.Parent = parent;
                await call.RequestStream.WriteAsync(message);
            }

            await call.RequestStream.CompleteAsync();
            await reading;
        }
    }
}
