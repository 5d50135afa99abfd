using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;
using Xunit.Abstractions;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// Issue 5, WatchCohort through real gRPC: heartbeats while nothing is published, a summary for every new version
/// as enrollment grows (versions increasing, each equal to the flow and quartiles asked at that version), the
/// differencing guard (a version only after min_changes_per_version changes), and resuming from a version.
/// </summary>
public sealed class WatchCohortTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Watch_HeartbeatsThenSummariesPerVersion_ResumableFromAVersion()
    {
        await using var service = new ServiceProcess();
        await service.StartAsync();
        var channel = service.CreateChannel();
        var cohorts = new CohortService.CohortServiceClient(channel);
        var participants = new ParticipantService.ParticipantServiceClient(channel);
        await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = "watch", Cohort = new Cohort { DisplayName = "watch test" } });
        var records = SyntheticCohort.Generate(2018, new SyntheticCohortOptions { Eligible = 60 }).Take(40).ToList();

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var watch = cohorts.WatchCohort(new WatchCohortRequest { Name = "cohorts/watch", HeartbeatInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)) }, cancellationToken: cancel.Token);

        // Nothing is published yet: a heartbeat at version 0.
        Assert.True(await watch.ResponseStream.MoveNext(cancel.Token));
        Assert.Equal(WatchCohortResponse.EventOneofCase.Heartbeat, watch.ResponseStream.Current.EventCase);
        Assert.Equal(0, watch.ResponseStream.Current.Heartbeat.CohortVersion);

        // Four changes: below the differencing guard (5), still heartbeats only.
        for (var i = 0; i < 4; i++)
        {
            await UpsertAsync(participants, records[i]);
        }

        var quiet = await NextAsync(watch, cancel.Token);
        Assert.Equal(WatchCohortResponse.EventOneofCase.Heartbeat, quiet.EventCase);
        Assert.Equal(0, quiet.Heartbeat.CohortVersion);

        // Enrollment grows in steps of 5: each step is one more version, announced with its summary.
        var summaries = new List<CohortSummary>();
        for (var i = 4; i < records.Count; i++)
        {
            await UpsertAsync(participants, records[i]);
            if ((i + 1) % 5 == 0)
            {
                var summary = await NextSummaryAsync(watch, cancel.Token);
                summaries.Add(summary);
                Assert.Equal(i + 1, summary.Flow.Enrolled);
            }
        }

        output.WriteLine($"{summaries.Count} summaries: versions {string.Join(", ", summaries.Select(s => s.Metadata.CohortVersion))}");
        Assert.Equal(records.Count / 5, summaries.Count);
        Assert.True(summaries.Zip(summaries.Skip(1)).All(p => p.Second.Metadata.CohortVersion == p.First.Metadata.CohortVersion + 1));

        // Each summary is the version's own answer: the same bytes as asking GetFlow / GetQuartiles at that version.
        foreach (var summary in summaries)
        {
            var version = summary.Metadata.CohortVersion;
            Assert.Equal(summary.Flow.ToByteArray(), (await cohorts.GetFlowAsync(new GetFlowRequest { Name = "cohorts/watch", Version = version })).ToByteArray());
            Assert.Equal(summary.Quartiles.ToByteArray(), (await cohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = "cohorts/watch", Version = version })).ToByteArray());
        }

        // Resuming after an earlier version returns the latest version at once, then heartbeats.
        var latest = summaries[^1].Metadata.CohortVersion;
        using var resumed = cohorts.WatchCohort(new WatchCohortRequest { Name = "cohorts/watch", AfterVersion = summaries[1].Metadata.CohortVersion, HeartbeatInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)) }, cancellationToken: cancel.Token);
        var first = await NextAsync(resumed, cancel.Token);
        Assert.Equal(WatchCohortResponse.EventOneofCase.Summary, first.EventCase);
        Assert.Equal(latest, first.Summary.Metadata.CohortVersion);
        var then = await NextAsync(resumed, cancel.Token);
        Assert.Equal(WatchCohortResponse.EventOneofCase.Heartbeat, then.EventCase);
        Assert.Equal(latest, then.Heartbeat.CohortVersion);

        // Resuming at the latest version: heartbeats only.
        using var current = cohorts.WatchCohort(new WatchCohortRequest { Name = "cohorts/watch", AfterVersion = latest, HeartbeatInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)) }, cancellationToken: cancel.Token);
        Assert.Equal(WatchCohortResponse.EventOneofCase.Heartbeat, (await NextAsync(current, cancel.Token)).EventCase);

        // Bad requests: unknown cohort, heartbeat out of range.
        var missing = await Assert.ThrowsAsync<RpcException>(() => NextAsync(cohorts.WatchCohort(new WatchCohortRequest { Name = "cohorts/nope" }, cancellationToken: cancel.Token), cancel.Token));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var invalid = await Assert.ThrowsAsync<RpcException>(() => NextAsync(cohorts.WatchCohort(new WatchCohortRequest { Name = "cohorts/watch", HeartbeatInterval = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(10)) }, cancellationToken: cancel.Token), cancel.Token));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
    }

    private static async Task UpsertAsync(ParticipantService.ParticipantServiceClient participants, SyntheticParticipant p) =>
        await participants.UpsertParticipantAsync(new UpsertParticipantRequest
        {
            Participant = new Participant { Name = $"cohorts/watch/participants/{p.ParticipantId}", Record = ParticipantMapping.FromDomain(p.Record) },
            RequestId = "watch-" + p.ParticipantId,
        });

    private static async Task<WatchCohortResponse> NextAsync(AsyncServerStreamingCall<WatchCohortResponse> call, CancellationToken cancellationToken)
    {
        Assert.True(await call.ResponseStream.MoveNext(cancellationToken), "the watch ended");
        return call.ResponseStream.Current;
    }

    private static async Task<CohortSummary> NextSummaryAsync(AsyncServerStreamingCall<WatchCohortResponse> call, CancellationToken cancellationToken)
    {
        while (true)
        {
            var next = await NextAsync(call, cancellationToken);
            if (next.EventCase == WatchCohortResponse.EventOneofCase.Summary)
            {
                return next.Summary;
            }
        }
    }
}
