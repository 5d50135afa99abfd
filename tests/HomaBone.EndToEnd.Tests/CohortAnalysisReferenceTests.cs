using System.Globalization;
using HomaBone.Contracts.V1;
using Xunit.Abstractions;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// Issue 5, "Show" — reference test: the synthetic cohort (seed 2018: 1,008 eligible plus the excluded, loaded by
/// demo mode through the participant grains) is analysed by the real service, and every number of every analysis
/// RPC is compared with R computing the same analysis from the same stored records exported to CSV
/// (Scripts/cohort_reference.R): counts and cut points exactly, estimates ≤ 1e-10 relative, P ≤ 1e-8 relative.
/// </summary>
public sealed class CohortAnalysisReferenceTests(ITestOutputHelper output)
{
    private const string Name = "cohorts/demo";

    [Fact]
    public async Task SyntheticCohort_EveryAnalysisRpc_EqualsIndependentRComputation()
    {
        await using var service = new ServiceProcess();
        await service.StartAsync("--HomaBone:Demo=true");
        var channel = service.CreateChannel();
        var cohorts = new CohortService.CohortServiceClient(channel);
        var participants = new ParticipantService.ParticipantServiceClient(channel);
        var settings = await WaitForParticipantsAsync(cohorts, 2178);
        Assert.Equal(Exposure.HomaIr, settings.Exposure);
        Assert.Equal(BinaryTrendTest.CochranArmitage, settings.BinaryTrendTest);
        Assert.Equal(OrdinalTrendTest.Cuzick, settings.OrdinalTrendTest);
        Assert.Equal(SdConvention.ReferenceGroup, settings.SdConvention);
        Assert.Equal(3, settings.Disclosure.MinCellCount);

        var answers = await CohortReference.AskAllAsync(cohorts, Name, 0);
        var version = answers.Version;
        Assert.True(version > 0);
        Assert.Equal(2178, answers.Flow.Metadata.NUsed);
        Assert.Equal(2178, answers.Flow.Enrolled);
        foreach (var metadata in new[] { answers.Quartiles.Metadata, answers.Characteristics.Metadata, answers.Half.Metadata, answers.Each.Metadata, answers.Associations.Metadata })
        {
            Assert.Equal(1008, metadata.NUsed);
            Assert.NotNull(metadata.DataTime);
        }

        Assert.Equal(3 * 28 + 1, answers.Associations.Fits.Count);
        Assert.Equal(28, answers.Half.Differences.Count);
        Assert.Equal(28 * 3, answers.Each.Differences.Count);

        // As-of determinism: the same questions at that version give the same bytes.
        var asOf = await CohortReference.AskAllAsync(cohorts, Name, version);
        var first = answers.Bytes();
        var again = asOf.Bytes();
        for (var i = 0; i < first.Count; i++)
        {
            Assert.True(first[i].AsSpan().SequenceEqual(again[i]), $"answer {i} at version {version} differs from the latest answer");
        }

        var records = await CohortReference.ListAllAsync(participants, Name);
        Assert.Equal(2178, records.Count);
        var directory = Directory.CreateTempSubdirectory("homabone-cohort-ref-");
        try
        {
            var csv = Path.Combine(directory.FullName, "records.csv");
            CohortReference.WriteCsv(records, csv, settings.InsulinPmolPerUiu);
            var reference = CohortReference.RunR(csv);
            // The stored derived values the analysis uses equal their formulas (methods.md §1) on the stored inputs.
            var checks = reference.Where(r => r.Value.Kind == "check").ToList();
            output.WriteLine($"version {version}; derived-value checks: {string.Join(", ", checks.Select(c => $"{c.Key} {c.Value.Value:G3}"))}");
            Assert.Equal(0, reference["check.homa_formula_max_rel"].Value);
            Assert.True(checks.All(c => c.Value.Value <= 1e-13), "a derived value differs from its formula");
            var (values, suppressed) = CohortReference.Flatten(answers.Flow, answers.Quartiles, answers.Characteristics, answers.Half, answers.Each, answers.Associations);
            CheckSuppressions(reference, suppressed, settings.Disclosure.MinCellCount);

            var (mismatches, errors) = CohortReference.Compare(reference, values, [.. suppressed.Select(s => s.Key)]);
            foreach (var (quantity, (max, count, worst)) in errors)
            {
                var r = reference[worst];
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{quantity,-32} n = {count,5}  max relative error {max:G3}  ({worst}: {r.Value:G6}, scale {r.Scale:G3})"));
            }

            Assert.True(mismatches.Count == 0, $"{mismatches.Count} numbers differ from R:\n" + string.Join('\n', mismatches.Take(40)));
            Assert.True(values.Count > 5000, $"only {values.Count} numbers compared");
            output.WriteLine($"{values.Count} numbers compared; suppressed: {string.Join(", ", suppressed.Select(s => $"{s.Key} ({s.Reason})"))}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Every suppression is justified by the reference's own counts: first-reason flow cells of 1–2 participants
    /// (the synthetic cohort has 2 missing glucose/insulin, 2 QCT missing, 2 glucocorticoid, 1 liver cirrhosis),
    /// any-reason counts below the threshold, Table 1 count cells with fewer than k participants on either side;
    /// nothing else with 1,008 participants.
    /// </summary>
    internal static void CheckSuppressions(IReadOnlyDictionary<string, ReferenceValue> reference, IReadOnlyList<(string Key, SuppressionReason Reason)> suppressed, int minCell)
    {
        bool Small(string key) => reference[key].Value is > 0 and var v && v < minCell;
        var primaryFlow = suppressed.Where(s => s.Key.StartsWith("flow.first.", StringComparison.Ordinal) && s.Reason == SuppressionReason.SmallCell).Select(s => s.Key).ToList();
        var expectedPrimary = Enumerable.Range(1, 9).Select(r => $"flow.first.{r}").Where(Small).ToList();
        Assert.Equal(expectedPrimary, primaryFlow);
        var complementary = suppressed.Where(s => s.Reason == SuppressionReason.Complementary).ToList();
        Assert.True(complementary.Count == 0 || primaryFlow.Count == 1, "complementary suppression only protects a single primary cell");
        foreach (var (key, reason) in suppressed)
        {
            if (key.StartsWith("flow.first.", StringComparison.Ordinal))
            {
                Assert.True(reason == SuppressionReason.Complementary || Small(key), $"{key} suppressed ({reason}) with {reference[key].Value} participants");
            }
            else if (key.StartsWith("flow.any.", StringComparison.Ordinal))
            {
                var first = "flow.first." + key["flow.any.".Length..];
                Assert.True(suppressed.Any(s => s.Key == first) || Small(key), $"{key} suppressed ({reason}) with {reference[key].Value} participants");
            }
            else if (key.StartsWith("t1.", StringComparison.Ordinal) && reference.TryGetValue(key + ".count", out var count))
            {
                var rest = reference[key + ".n"].Value - count.Value;
                if (reason == SuppressionReason.Complementary)
                {
                    // Secondary suppression protects a single small group cell of the same row from "overall − others".
                    var row = key[..key.LastIndexOf('.')] + ".";
                    Assert.Single(suppressed, s => s.Key.StartsWith(row, StringComparison.Ordinal) && s.Reason == SuppressionReason.SmallCell);
                    continue;
                }

                Assert.Equal(SuppressionReason.SmallCell, reason);
                Assert.True(count.Value is > 0 && count.Value < minCell || rest > 0 && rest < minCell, $"{key} suppressed with count {count.Value} and {rest} others");
            }
            else
            {
                Assert.Fail($"{key} suppressed ({reason}): nothing but small flow cells or counts should be suppressed at n = 1,008");
            }
        }

        // The synthetic cohort's small exclusion cells (study.md: 2, 2, 2 and 1 participants).
        Assert.Equal(
            [ExclusionReason.GlucoseOrInsulinMissing, ExclusionReason.QctMissing, ExclusionReason.Glucocorticoid, ExclusionReason.LiverCirrhosis],
            primaryFlow.Select(k => (ExclusionReason)int.Parse(k["flow.first.".Length..], CultureInfo.InvariantCulture)));
    }

    private static async Task<CohortSettings> WaitForParticipantsAsync(CohortService.CohortServiceClient cohorts, int count)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        Cohort? cohort = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                cohort = (await cohorts.GetCohortAsync(new GetCohortRequest { Name = Name })).Cohort;
                if (cohort.ParticipantCount == count)
                {
                    return cohort.Settings;
                }
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.NotFound)
            {
            }

            await Task.Delay(250);
        }

        Assert.Fail($"demo mode stored {cohort?.ParticipantCount} of {count} participants within 2 minutes");
        return null!;
    }
}
