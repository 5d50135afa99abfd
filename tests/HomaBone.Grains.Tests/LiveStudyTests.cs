using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HomaBone.Analysis;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;
using HomaBone.TestSupport;
using Xunit.Abstractions;

namespace HomaBone.Grains.Tests;

/// <summary>
/// The incremental state (<see cref="LiveStudy"/>) against its batch twin (<see cref="StudyAnalysis"/> over the
/// canonical rows, Householder QR and sorting): the synthetic cohort arrives in random order with corrections
/// (values and exposure moved, so participants cross cut points) and withdrawals interleaved; after every 100
/// changes every answer must match — counts, cut points, group sizes, quantiles and Cuzick statistics exactly,
/// every other number within 1e-12 relative (P values 1e-9: a tail probability amplifies the last bits of t).
/// </summary>
public sealed class LiveStudyTests(ITestOutputHelper output)
{
    private static IReadOnlyList<ExclusionReason> FlowOrder => CohortGrain.FlowOrder;

    [Fact]
    public void RandomInsertsCorrectionsAndWithdrawals_EveryCheckpointMatchesBatch()
    {
        var settings = CohortDefaults.Apply(new CohortSettings());
        var source = Rows(settings, 400);
        var random = new Random(20261126);
        var order = source.OrderBy(_ => random.Next()).ToList();
        var live = new LiveStudy(settings);
        var current = new Dictionary<string, AnalysisRow>(StringComparer.Ordinal);
        var changes = 0;
        var checkpoints = 0;
        var worstTwin = 0.0;
        var worstQr = 0.0;
        var next = 0;
        while (next < order.Count || changes < order.Count + 300)
        {
            AnalysisRow row;
            var roll = random.NextDouble();
            if (next < order.Count && (roll < 0.8 || current.Count < 50))
            {
                row = order[next++];
            }
            else if (current.Count > 0)
            {
                var held = current.Values.ElementAt(random.Next(current.Count));
                row = roll < 0.95 ? Correct(held, random) : held with { Revision = held.Revision + 1, Active = false };
                if (!held.Active)
                {
                    continue;
                }
            }
            else
            {
                break;
            }

            current[row.ParticipantId] = row;
            live.Apply(row, changes);
            changes++;
            if (changes % 100 == 0)
            {
                live.Complete();
                (worstTwin, worstQr) = Checkpoint(live, current.Values, settings, changes, worstTwin, worstQr);
                checkpoints++;
            }
        }

        live.Complete();
        (worstTwin, worstQr) = Checkpoint(live, current.Values, settings, changes, worstTwin, worstQr);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{changes} changes, {checkpoints + 1} checkpoints; worst relative difference to the fresh rebuild {worstTwin:G3}, to the QR batch {worstQr:G3}; safety rebuilds {live.Rebuilds}"));
        Assert.True(checkpoints >= 10);
    }

    [Fact]
    public void TinyCohorts_EveryAnswerComputes_InBothSources()
    {
        // The first versions of a cohort hold a handful of participants: every answer must still be computed
        // (suppressed or not computable), never throw — a publication computes all of them.
        var settings = CohortDefaults.Apply(new CohortSettings());
        var rows = Rows(settings, 40);
        for (var n = 0; n <= 30; n++)
        {
            var subset = rows.Take(n).ToList();
            var live = new StudyAnalysis(LiveStudy.Build(settings, subset.Select(r => (r, 0L))), 1, Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch));
            var batch = Batch(subset, settings);
            foreach (var analysis in new[] { live, batch })
            {
                _ = analysis.Flow(FlowOrder);
                _ = analysis.Quartiles();
                _ = analysis.Characteristics();
                _ = analysis.GroupDifferences(GroupComparison.TopHalfVsBottomHalf, []);
                _ = analysis.GroupDifferences(GroupComparison.EachVsLowest, []);
                _ = analysis.Associations([], [], []);
            }
        }
    }

    [Fact]
    public void ExactParts_AreBitIdenticalToBatch()
    {
        var settings = CohortDefaults.Apply(new CohortSettings());
        var rows = Rows(settings, 300);
        var live = LiveStudy.Build(settings, rows.Select((r, i) => (r, (long)i)));
        var batch = Batch(rows, settings);
        var mine = new StudyAnalysis(live, 1, Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch));
        Assert.Equal(batch.Flow(FlowOrder), mine.Flow(FlowOrder));
        Assert.Equal(batch.Quartiles(), mine.Quartiles());
        var a = batch.Characteristics();
        var b = mine.Characteristics();
        Assert.Equal(a.Groups, b.Groups);
        for (var r = 0; r < a.Rows.Count; r++)
        {
            // Trend statistics, counts, medians and quartiles are exact; means and SDs may differ in the last bits.
            Assert.Equal(a.Rows[r].Trend, b.Rows[r].Trend);
            for (var c = 0; c < a.Rows[r].Cells.Count; c++)
            {
                var (x, y) = (a.Rows[r].Cells[c], b.Rows[r].Cells[c]);
                Assert.Equal((x.N, x.Missing, x.Count, x.Median, x.P25, x.P75, x.Suppression), (y.N, y.Missing, y.Count, y.Median, y.P25, y.P75, y.Suppression));
            }
        }
    }

    [Fact]
    public void Table1ContinuousCell_HiddenForSmallN_GetsOneComplementaryCell()
    {
        // Waist measured for only two participants of the lowest quartile: that cell is hidden (n < 3), and one
        // other group cell with it, so the hidden mean cannot be recovered from the overall mean; same in both sources.
        var settings = CohortDefaults.Apply(new CohortSettings());
        var rows = Rows(settings, 300);
        var cuts = Batch(rows, settings).Quartiles().CutPoints;
        var kept = 0;
        var edited = rows.Select(r =>
        {
            var x = r.Values[Variables.HomaIr.Index];
            if (!r.Eligible || double.IsNaN(x) || x > cuts[0] || kept++ < 2)
            {
                return r;
            }

            var values = (double[])r.Values.Clone();
            values[Variables.Waist.Index] = double.NaN;
            return r with { Values = values };
        }).ToList();
        foreach (var analysis in new[] { Batch(edited, settings), new StudyAnalysis(LiveStudy.Build(settings, edited.Select(r => (r, 0L))), 1, Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch)) })
        {
            var waist = analysis.Characteristics().Rows.Single(r => r.Variable == Variables.Waist.Name);
            Assert.Equal(SuppressionReason.SmallCell, waist.Cells[0].Suppression);
            Assert.Equal(0, waist.Cells[0].Mean);
            Assert.Equal(1, waist.Cells.Take(4).Count(c => c.Suppression == SuppressionReason.Complementary));
            Assert.All(waist.Cells.Where(c => c.Suppression == SuppressionReason.Complementary), c => Assert.Equal((0.0, 0L), (c.Mean, c.N)));
            Assert.Equal(SuppressionReason.Unspecified, waist.Cells[4].Suppression);
            Assert.Contains(analysis.Disclosures, d => d.Contains("complementary", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void PublishedAnswersComputedInParallel_AreTheBytesOfOneSequentialAnalysis()
    {
        var settings = CohortDefaults.Apply(new CohortSettings());
        var live = LiveStudy.Build(settings, Rows(settings, 300).Select(r => (r, 0L)));
        var time = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));
        var sequential = new StudyAnalysis(live, 7, time);
        byte[][] expected =
        [
            sequential.Flow(FlowOrder).ToByteArray(),
            sequential.Quartiles().ToByteArray(),
            sequential.Characteristics().ToByteArray(),
            sequential.GroupDifferences(GroupComparison.TopHalfVsBottomHalf, []).ToByteArray(),
            sequential.GroupDifferences(GroupComparison.EachVsLowest, []).ToByteArray(),
            sequential.Associations([], [], []).ToByteArray(),
        ];
        Assert.Equal(3, settings.Models.Count);
        Assert.True(GetAssociationsResponse.Parser.ParseFrom(expected[5]).Fits.Count >= 3 * settings.Outcomes.Count);
        for (var run = 0; run < 5; run++)
        {
            var parallel = CohortGrain.ComputeAnswers(live, settings, 7, time);
            Assert.Equal(expected.Length, parallel.Length);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], parallel[i]);
            }
        }
    }

    [Fact]
    public void ParallelBuild_IsBitIdenticalToTheSequentialBuild()
    {
        var settings = CohortDefaults.Apply(new CohortSettings());
        var rows = Rows(settings, 600).Select(r => (r, 0L, (byte[]?)null)).ToList();
        Assert.True(rows.Count >= 1000, "the parallel build starts at 1,000 rows");
        var time = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));
        var sequential = CohortGrain.ComputeAnswers(LiveStudy.Build(settings, rows, parallel: false), settings, 3, time);
        for (var run = 0; run < 3; run++)
        {
            var parallel = CohortGrain.ComputeAnswers(LiveStudy.Build(settings, rows), settings, 3, time);
            for (var i = 0; i < sequential.Length; i++)
            {
                Assert.Equal(sequential[i], parallel[i]);
            }
        }
    }

    private static StudyAnalysis Batch(IEnumerable<AnalysisRow> rows, CohortSettings settings) =>
        new([.. rows.OrderBy(r => r.ParticipantId, StringComparer.Ordinal)], settings, 1, Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch));

    private static (double Twin, double Qr) Checkpoint(LiveStudy live, IReadOnlyCollection<AnalysisRow> rows, CohortSettings settings, int changes, double worstTwin, double worstQr)
    {
        // The batch twin of the same estimator: the state built afresh from the current rows in canonical order.
        var fresh = LiveStudy.Build(settings, rows.OrderBy(r => r.ParticipantId, StringComparer.Ordinal).Select(r => (r, 0L)));
        var twin = new StudyAnalysis(fresh, 1, Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch));
        worstTwin = Math.Max(worstTwin, Compare(twin, live, changes, AnswerComparer.Tolerance.Twin));

        // The Householder batch (another algorithm: co-moment regressions lose log10 κ² digits against it).
        worstQr = Math.Max(worstQr, Compare(Batch(rows, settings), live, changes, AnswerComparer.Tolerance.Qr));
        return (worstTwin, worstQr);
    }

    private static double Compare(StudyAnalysis batch, LiveStudy live, int changes, AnswerComparer.Tolerance tolerance)
    {
        var mine = new StudyAnalysis(live, 1, Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch));
        var worst = 0.0;
        IMessage[] expected = [batch.Flow(FlowOrder), batch.Quartiles(), batch.Characteristics(), batch.GroupDifferences(GroupComparison.TopHalfVsBottomHalf, []), batch.GroupDifferences(GroupComparison.EachVsLowest, []), batch.Associations([], [], [])];
        IMessage[] actual = [mine.Flow(FlowOrder), mine.Quartiles(), mine.Characteristics(), mine.GroupDifferences(GroupComparison.TopHalfVsBottomHalf, []), mine.GroupDifferences(GroupComparison.EachVsLowest, []), mine.Associations([], [], [])];
        for (var i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, AnswerComparer.Same(expected[i], actual[i], $"after {changes} changes: {expected[i].Descriptor.Name}", tolerance));
        }

        return worst;
    }

    private static AnalysisRow Correct(AnalysisRow held, Random random)
    {
        var values = (double[])held.Values.Clone();
        for (var j = 0; j < values.Length; j++)
        {
            if (!double.IsNaN(values[j]) && random.NextDouble() < 0.3 && j != Variables.Alcohol.Index && j != Variables.Smoking.Index && j != Variables.PhysicalActivity.Index)
            {
                values[j] *= 1 + ((random.NextDouble() - 0.5) * 0.2);
            }
        }

        // Keep ln HOMA-IR consistent with HOMA-IR (the exposure moves, participants cross cut points).
        if (!double.IsNaN(values[Variables.HomaIr.Index]))
        {
            values[Variables.LogHomaIr.Index] = Math.Log(values[Variables.HomaIr.Index]);
        }

        return held with { Revision = held.Revision + 1, Values = values };
    }

    internal static List<AnalysisRow> Rows(CohortSettings settings, int eligible)
    {
        var deriver = new DomainDeriver();
        var rows = new List<AnalysisRow>();
        foreach (var p in SyntheticCohort.Generate(2018, new SyntheticCohortOptions { Eligible = eligible }))
        {
            var d = deriver.Derive(ParticipantMapping.FromDomain(p.Record), settings);
            var participant = new Participant { Record = d.Record, Derived = d.Derived, Eligibility = d.Eligibility, Revision = 1, State = ParticipantState.Active };
            rows.Add(AnalysisRows.ToAnalysis(AnalysisRows.FromParticipant(participant, p.ParticipantId, rows.Count + 1, settings)));
        }

        return rows;
    }
}
