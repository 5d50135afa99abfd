using HomaBone.Contracts.V1;
using HomaBone.Statistics;
using ProtoQuantile = HomaBone.Contracts.V1.QuantileDefinition;
using StatQuantile = HomaBone.Statistics.QuantileDefinition;

namespace HomaBone.Analysis;

/// <summary>
/// The batch twin: every number computed from the canonical rows (ordered by participant id) with the batch
/// routines of HomaBone.Statistics (Householder QR, sorting). Deterministic: the same rows give the same bits.
/// </summary>
internal sealed class RowStudySource : IStudySource
{
    private readonly IReadOnlyList<AnalysisRow> _rows;
    private readonly List<AnalysisRow> _analysed;
    private readonly int[] _group;
    private readonly long[] _groupSizes;
    private readonly int _groupCount;

    public RowStudySource(IReadOnlyList<AnalysisRow> canonicalRows, CohortSettings settings)
    {
        _rows = canonicalRows;
        _groupCount = settings.GroupCount;
        var exposureColumn = StudyAnalysis.ExposureIndex(settings.Exposure);
        _analysed = [.. canonicalRows.Where(r => r.Active && r.Eligible && !double.IsNaN(r.Values[exposureColumn]))];
        var exposure = _analysed.Select(r => r.Values[exposureColumn]).ToArray();
        Cuts = exposure.Length >= settings.GroupCount ? CutPoints(exposure, settings.GroupCount, settings.QuantileDefinition) : [];
        _group = Cuts.Length == 0 ? new int[_analysed.Count] : [.. exposure.Select(x => Xtile.Assign(x, Cuts))];
        _groupSizes = new long[settings.GroupCount + 1];
        foreach (var g in _group)
        {
            _groupSizes[g]++;
        }
        var first = new long[StudyAnalysis.ReasonSlots];
        var any = new long[StudyAnalysis.ReasonSlots];
        long active = 0, eligible = 0, withdrawn = 0;
        foreach (var row in canonicalRows)
        {
            if (!row.Active)
            {
                withdrawn++;
                continue;
            }

            active++;
            eligible += row.Eligible ? 1 : 0;
            first[StudyAnalysis.ReasonSlot(row.FirstReason)]++;
            foreach (var reason in row.Reasons.Distinct())
            {
                any[StudyAnalysis.ReasonSlot(reason)]++;
            }
        }

        Flow = new FlowCounts(active, eligible, withdrawn, first, any);
    }

    public FlowCounts Flow { get; }

    public int AnalysedCount => _analysed.Count;

    public double[] Cuts { get; }

    /// <summary>The analysed rows in canonical order (for user-specified models).</summary>
    public IReadOnlyList<AnalysisRow> Analysed => _analysed;

    public long GroupSize(int group) => group == 0 ? _analysed.Count : (Cuts.Length == 0 || group > _groupCount ? 0 : _groupSizes[group]);

    public ContinuousSummary Summary(Variable variable, int group) => Descriptive.Summarize(Column(variable, group));

    public CuzickResult Cuzick(Variable variable)
    {
        var (values, scores) = Complete(variable);
        return Statistics.Cuzick.Test(values, scores);
    }

    public (long NonMissing, long Count) LevelCount(Variable variable, double level, int group)
    {
        var values = Column(variable, group);
        return (values.Count(v => !double.IsNaN(v)), values.Count(v => v == level));
    }

    public TestResult CochranArmitage(Variable variable, CochranArmitageVariance variance)
    {
        var (values, scores) = Complete(variable);
        return Statistics.CochranArmitage.FromObservations(values, scores, variance);
    }

    public TestResult LinearByLinear(Variable variable)
    {
        var (values, scores) = Complete(variable);
        return ContingencyTests.LinearByLinear(scores, values);
    }

    public TestResult PearsonChiSquare(Variable variable)
    {
        var (values, scores) = Complete(variable);
        var rowLevels = scores.Distinct().Order().ToArray();
        var columnLevels = values.Distinct().Order().ToArray();
        var table = rowLevels.Select(_ => new long[columnLevels.Length]).ToArray();
        for (var i = 0; i < scores.Length; i++)
        {
            table[Array.IndexOf(rowLevels, scores[i])][Array.IndexOf(columnLevels, values[i])]++;
        }

        return ContingencyTests.PearsonChiSquare(table);
    }

    public GroupComparisonData GroupComparison(Variable outcome, ModelDesign covariates, bool half, AncovaOptions options)
    {
        var y = new List<double>();
        var g = new List<double>();
        var x = covariates.Columns.Select(_ => new List<double>()).ToList();
        var values = new double[covariates.Columns.Count];
        for (var i = 0; i < _analysed.Count; i++)
        {
            var yi = _analysed[i].Values[outcome.Index];
            if (double.IsNaN(yi) || !covariates.TryExtract(_analysed[i].Values, values))
            {
                continue;
            }

            y.Add(yi);
            g.Add(half ? (_group[i] > _groupCount / 2 ? 1 : 0) : _group[i]);
            for (var c = 0; c < values.Length; c++)
            {
                x[c].Add(values[c]);
            }
        }

        var counts = g.GroupBy(v => v).ToDictionary(v => v.Key, v => v.Count());
        return new GroupComparisonData(
            counts,
            () => Ancova.Fit(y, g, half ? 0 : 1, x.Select(c => (IReadOnlyList<double>)c).ToList(), covariates.Names, options));
    }

    public ModelData? Model(Variable outcome, Transform transform, ModelDesign design)
    {
        var y = new List<double>();
        var x = design.Columns.Select(_ => new List<double>()).ToList();
        var values = new double[design.Columns.Count];
        foreach (var row in _analysed)
        {
            var yi = ModelDesign.Apply(row.Values[outcome.Index], transform);
            if (double.IsNaN(yi) || !design.TryExtract(row.Values, values))
            {
                continue;
            }

            y.Add(yi);
            for (var c = 0; c < values.Length; c++)
            {
                x[c].Add(values[c]);
            }
        }

        return new ModelData(y.Count, () => Ols.Fit(y, x.Select(c => (IReadOnlyList<double>)c).ToList(), design.Names));
    }

    private static double[] CutPoints(double[] values, int groups, ProtoQuantile definition)
    {
        if (definition is ProtoQuantile.Unspecified or ProtoQuantile.Type2)
        {
            return Xtile.CutPoints(values, groups);
        }

        var sorted = values.Order().ToArray();
        return [.. Enumerable.Range(1, groups - 1).Select(j => Quantiles.FromSorted(sorted, j, groups, (StatQuantile)(int)definition))];
    }

    private double[] Column(Variable variable, int group)
    {
        var values = new List<double>();
        for (var i = 0; i < _analysed.Count; i++)
        {
            if (group == 0 || _group[i] == group)
            {
                values.Add(_analysed[i].Values[variable.Index]);
            }
        }

        return [.. values];
    }

    private (double[] Values, double[] Scores) Complete(Variable variable)
    {
        var values = new List<double>();
        var scores = new List<double>();
        for (var i = 0; i < _analysed.Count; i++)
        {
            var v = _analysed[i].Values[variable.Index];
            if (!double.IsNaN(v))
            {
                values.Add(v);
                scores.Add(_group[i]);
            }
        }

        return ([.. values], [.. scores]);
    }
}
