using System.Diagnostics;
using HomaBone.Contracts.V1;

namespace HomaBone.Cluster.Bench;

/// <summary>Latency of the full analysis (every analysis RPC, asked together) per new cohort version.</summary>
internal sealed record AnalysisTimes(double FirstMs, IReadOnlyList<double> PerVersionMs, IReadOnlyList<double> CachedMs, long FirstVersion, long LastVersion)
{
    public double Median => Percentile(PerVersionMs, 0.5);

    public double P90 => Percentile(PerVersionMs, 0.9);

    public double CachedMedian => Percentile(CachedMs, 0.5);

    private static double Percentile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * q))];
    }
}

internal static class AnalysisTimer
{
    private const int CorrectionsPerVersion = 5;

    /// <summary>
    /// The first ask (the version after the import: the cohort builds its incremental state from the shards), then
    /// <paramref name="rounds"/> times: <see cref="CorrectionsPerVersion"/> corrections (a participant's weight moved by
    /// 0.1 to 0.5 kg, acknowledged before the clock starts; the default disclosure.min_changes_per_version is 5, so the
    /// next read publishes a new version) and the full analysis timed, then asked once more (that version's archived
    /// answers). Every round must see a newer version than the last.
    /// </summary>
    public static async Task<AnalysisTimes> RunAsync(
        ParticipantService.ParticipantServiceClient participants,
        CohortService.CohortServiceClient cohorts,
        string cohortId,
        IReadOnlyList<(string Id, ParticipantRecord Record)> records,
        int rounds,
        int seed)
    {
        var name = "cohorts/" + cohortId;
        var sw = Stopwatch.StartNew();
        var version = await AskAllAsync(cohorts, name);
        var first = sw.Elapsed.TotalMilliseconds;
        var firstVersion = version;
        var random = new Random(seed);
        var corrections = new Dictionary<string, ParticipantRecord>(StringComparer.Ordinal);
        var perVersion = new List<double>();
        var cached = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            for (var c = 0; c < CorrectionsPerVersion; c++)
            {
                (string Id, ParticipantRecord Record) pick;
                do
                {
                    pick = records[random.Next(records.Count)];
                }
                while (!pick.Record.Anthropometry.HasWeightKg);

                var corrected = (corrections.TryGetValue(pick.Id, out var previous) ? previous : pick.Record).Clone();
                var delta = random.Next(1, 6) * 0.1 * (random.Next(2) == 0 ? -1 : 1);
                corrected.Anthropometry.WeightKg = Math.Round(corrected.Anthropometry.WeightKg + delta, 1);
                corrections[pick.Id] = corrected;
                await participants.UpsertParticipantAsync(new UpsertParticipantRequest
                {
                    Participant = new Participant { Name = $"{name}/participants/{pick.Id}", Record = corrected },
                    RequestId = $"bench-correction-{round}-{c}",
                });
            }

            sw.Restart();
            var next = await AskAllAsync(cohorts, name);
            perVersion.Add(sw.Elapsed.TotalMilliseconds);
            if (next <= version)
            {
                throw new InvalidOperationException($"round {round}: version {next} after {CorrectionsPerVersion} corrections is not newer than {version}");
            }

            version = next;
            sw.Restart();
            if (await AskAllAsync(cohorts, name) != version)
            {
                throw new InvalidOperationException($"round {round}: the version moved without a change");
            }

            cached.Add(sw.Elapsed.TotalMilliseconds);
        }

        return new AnalysisTimes(first, perVersion, cached, firstVersion, version);
    }

    /// <summary>Every analysis RPC at the latest version, issued together as a client assembling the whole study would.</summary>
    private static async Task<long> AskAllAsync(CohortService.CohortServiceClient cohorts, string name)
    {
        var flow = cohorts.GetFlowAsync(new GetFlowRequest { Name = name }).ResponseAsync;
        var quartiles = cohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = name }).ResponseAsync;
        var characteristics = cohorts.GetCharacteristicsAsync(new GetCharacteristicsRequest { Name = name }).ResponseAsync;
        var half = cohorts.GetGroupDifferencesAsync(new GetGroupDifferencesRequest { Name = name, Comparison = GroupComparison.TopHalfVsBottomHalf }).ResponseAsync;
        var each = cohorts.GetGroupDifferencesAsync(new GetGroupDifferencesRequest { Name = name, Comparison = GroupComparison.EachVsLowest }).ResponseAsync;
        var associations = cohorts.GetAssociationsAsync(new GetAssociationsRequest { Name = name }).ResponseAsync;
        await Task.WhenAll(flow, quartiles, characteristics, half, each, associations);
        var versions = new[]
        {
            (await flow).Metadata.CohortVersion, (await quartiles).Metadata.CohortVersion, (await characteristics).Metadata.CohortVersion,
            (await half).Metadata.CohortVersion, (await each).Metadata.CohortVersion, (await associations).Metadata.CohortVersion,
        };

        // Asked together, the six answers may straddle a publication only if a write came in between: none does here.
        return versions.Distinct().Count() == 1 ? versions[0] : throw new InvalidOperationException($"answers at different versions: {string.Join(", ", versions)}");
    }
}
