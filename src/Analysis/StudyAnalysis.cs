using Google.Protobuf.WellKnownTypes;
using HomaBone.Contracts.V1;
using HomaBone.Statistics;

namespace HomaBone.Analysis;

/// <summary>
/// The study's analyses over one cohort version: a pure function of the canonical row set (ordered by
/// participant id) and the settings, so the same version always gives the same bytes. Disclosure control
/// is applied here (DisclosureSettings), and every action taken is reported in <see cref="Disclosures"/>.
/// </summary>
public sealed class StudyAnalysis
{
    /// <summary>Slots of the per-reason flow counters (reason numbers above the last slot share it).</summary>
    internal const int ReasonSlots = 64;

    private readonly IStudySource _source;
    private readonly RowStudySource? _rows;
    private readonly CohortSettings _settings;
    private readonly double[] _cuts;
    private readonly List<string> _disclosures = [];

    /// <summary>Prepares the batch analysis of the canonical rows (ordered by participant id).</summary>
    public StudyAnalysis(IReadOnlyList<AnalysisRow> canonicalRows, CohortSettings settings, long version, Timestamp dataTime)
        : this(new RowStudySource(canonicalRows ?? throw new ArgumentNullException(nameof(canonicalRows)), settings ?? throw new ArgumentNullException(nameof(settings))), settings, version, dataTime)
    {
    }

    /// <summary>Prepares the answers of the incrementally maintained state (the settings' own analyses; user-specified models are not held).</summary>
    public StudyAnalysis(LiveStudy live, long version, Timestamp dataTime)
        : this(live ?? throw new ArgumentNullException(nameof(live)), live.Settings, version, dataTime)
    {
    }

    private StudyAnalysis(IStudySource source, CohortSettings settings, long version, Timestamp dataTime)
    {
        _source = source;
        _rows = source as RowStudySource;
        _settings = settings;
        Version = version;
        DataTime = dataTime;
        ExposureColumn = ExposureIndex(settings.Exposure);
        _cuts = source.Cuts;
    }

    /// <summary>The cohort version.</summary>
    public long Version { get; }

    /// <summary>The data time of the version.</summary>
    public Timestamp DataTime { get; }

    /// <summary>The exposure column.</summary>
    public int ExposureColumn { get; }

    /// <summary>Disclosure actions taken by the answers computed so far.</summary>
    public IReadOnlyList<string> Disclosures => _disclosures;

    private int MinCell => _settings.Disclosure is { Disabled: false } d ? Math.Max(1, d.MinCellCount) : 1;

    private AnalysisMetadata Metadata => new() { CohortVersion = Version, DataTime = DataTime, NUsed = _source.AnalysedCount };

    /// <summary>The catalogue column of an exposure.</summary>
    public static int ExposureIndex(Exposure exposure) => exposure switch
    {
        Exposure.Quicki => Variables.Quicki.Index,
        Exposure.TygIndex => Variables.TygIndex.Index,
        _ => Variables.HomaIr.Index,
    };

    /// <summary>The model term of an exposure (its log for HOMA-IR).</summary>
    public static string ExposureTerm(Exposure exposure) => exposure switch { Exposure.Quicki => "quicki", Exposure.TygIndex => "tyg_index", _ => "log_homa_ir" };

    internal static int ReasonSlot(int reason) => Math.Clamp(reason, 0, ReasonSlots - 1);

    /// <summary>Fig. 1: first-reason and any-reason counts in the configured order.</summary>
    public GetFlowResponse Flow(IReadOnlyList<ExclusionReason> order)
    {
        ArgumentNullException.ThrowIfNull(order);
        var flow = _source.Flow;
        var response = new GetFlowResponse
        {
            Metadata = new AnalysisMetadata { CohortVersion = Version, DataTime = DataTime, NUsed = flow.Active },
            Enrolled = flow.Active,
            Analysed = flow.Eligible,
            Withdrawn = flow.Withdrawn,
        };
        var steps = order.Select(reason => new FlowStep
        {
            Reason = reason.ToString(),
            FirstReasonCount = flow.FirstReason[ReasonSlot((int)reason)],
            AnyReasonCount = flow.AnyReason[ReasonSlot((int)reason)],
        }).ToList();

        // Primary suppression of small non-zero first-reason cells, then one complementary cell so that no
        // suppressed cell can be derived from enrolled − analysed − the others.
        var suppressed = steps.Where(s => s.FirstReasonCount > 0 && s.FirstReasonCount < MinCell).ToList();
        if (suppressed.Count == 1)
        {
            var complement = steps.Where(s => s != suppressed[0] && s.FirstReasonCount > 0).OrderBy(s => s.FirstReasonCount).ThenBy(s => s.Reason, StringComparer.Ordinal).FirstOrDefault();
            if (complement is not null)
            {
                complement.Suppression = SuppressionReason.Complementary;
                complement.FirstReasonCount = 0;
                complement.AnyReasonCount = 0;
                _disclosures.Add("flow: complementary suppression of " + complement.Reason);
            }
        }

        foreach (var s in suppressed)
        {
            s.Suppression = SuppressionReason.SmallCell;
            s.FirstReasonCount = 0;
            s.AnyReasonCount = 0;
            _disclosures.Add("flow: small cell suppressed for " + s.Reason);
        }

        foreach (var s in steps.Where(s => s.Suppression == SuppressionReason.Unspecified && s.AnyReasonCount > 0 && s.AnyReasonCount < MinCell))
        {
            s.AnyReasonCount = 0;
            s.Suppression = SuppressionReason.SmallCell;
            _disclosures.Add("flow: small any-reason count suppressed for " + s.Reason);
        }

        response.Steps.AddRange(steps);
        return response;
    }

    /// <summary>Exposure groups: cut points and n per group.</summary>
    public GetQuartilesResponse Quartiles()
    {
        var response = new GetQuartilesResponse
        {
            Metadata = Metadata,
            Exposure = _settings.Exposure,
            QuantileDefinition = _settings.QuantileDefinition,
        };
        if (_cuts.Length == 0)
        {
            return response;
        }

        response.Groups.AddRange(Groups());
        if (response.Groups.Any(g => g.Suppression != SuppressionReason.Unspecified))
        {
            // Cut points and group sizes of a cohort with a suppressed group would disclose it: withhold them.
            _disclosures.Add("quartiles: cut points withheld because a group is below the threshold");
            return response;
        }

        response.CutPoints.AddRange(_cuts);
        return response;
    }

    /// <summary>Table 1 by group plus overall, with P for trend.</summary>
    public GetCharacteristicsResponse Characteristics()
    {
        var response = new GetCharacteristicsResponse { Metadata = Metadata };
        if (_cuts.Length == 0)
        {
            return response;
        }

        response.Groups.AddRange(Groups());
        foreach (var variable in Table1Variables)
        {
            if (variable.Kind == VariableKind.Ordinal)
            {
                foreach (var level in new[] { (1, "inactive"), (2, "minimally active"), (3, "HEPA active") })
                {
                    response.Rows.Add(CountRow(variable, level.Item1, variable.Label + ": " + level.Item2));
                }

                continue;
            }

            response.Rows.Add(variable.Kind == VariableKind.Binary ? CountRow(variable, 1, variable.Label) : ContinuousRow(variable));
        }

        return response;
    }

    /// <summary>Fig. 2 / Fig. 3: adjusted group differences in SD units.</summary>
    public GetGroupDifferencesResponse GroupDifferences(GroupComparison comparison, IReadOnlyList<string> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var response = new GetGroupDifferencesResponse { Metadata = Metadata };
        response.Covariates.AddRange(_settings.GroupDifferenceCovariates);
        if (_cuts.Length == 0)
        {
            return response;
        }

        var k = _settings.GroupCount;
        var half = comparison != GroupComparison.EachVsLowest;
        foreach (var outcomeName in outcomes.Count > 0 ? outcomes : _settings.Outcomes)
        {
            if (!Variables.TryGet(outcomeName, out var outcome))
            {
                response.Differences.Add(new GroupDifference { Outcome = outcomeName, Suppression = SuppressionReason.NotComputable, Note = "unknown outcome" });
                continue;
            }

            var data = _source.GroupComparison(outcome, ModelDesign.Build(_settings.GroupDifferenceCovariates), half, new AncovaOptions { Scale = SdScale() });
            var groupCounts = data.GroupCounts;
            var labels = half
                ? new[] { (1.0, $"Q{(k / 2) + 1}-{k} vs Q1-{k / 2}") }
                : Enumerable.Range(2, k - 1).Select(j => ((double)j, $"Q{j} vs Q1")).ToArray();
            if (groupCounts.Values.Any(n => n < MinCell) || groupCounts.Count < (half ? 2 : k))
            {
                foreach (var (_, label) in labels)
                {
                    response.Differences.Add(new GroupDifference { Outcome = outcomeName, Comparison = label, Suppression = SuppressionReason.SmallCell, Note = "a group has fewer participants than the disclosure threshold" });
                }

                _disclosures.Add($"group differences: {outcomeName} suppressed (small group)");
                continue;
            }

            try
            {
                var result = data.Fit();
                foreach (var (group, label) in labels)
                {
                    var c = result.Comparisons.First(cmp => cmp.Group == group);
                    response.Differences.Add(new GroupDifference
                    {
                        Outcome = outcomeName,
                        Comparison = label,
                        Difference = c.Difference,
                        StandardError = c.StandardError,
                        ReferenceSd = c.SdRef ?? 0,
                        DifferenceSd = c.DifferenceSd ?? 0,
                        LowerCiSd = c.LowerSd ?? 0,
                        UpperCiSd = c.UpperSd ?? 0,
                        PValue = c.P,
                        Df = c.Df,
                        N = c.N,
                        Suppression = c.SdRef is null ? SuppressionReason.NotComputable : SuppressionReason.Unspecified,
                        Note = result.SdNotComputableReason ?? string.Empty,
                    });
                }
            }
            catch (Exception ex) when (ex is RankDeficientException or InvalidOperationException)
            {
                foreach (var (_, label) in labels)
                {
                    response.Differences.Add(new GroupDifference { Outcome = outcomeName, Comparison = label, Suppression = SuppressionReason.NotComputable, Note = ex.Message });
                }
            }
        }

        return response;
    }

    /// <summary>Table 2 models for every outcome, and user-specified models.</summary>
    public GetAssociationsResponse Associations(IReadOnlyList<string> models, IReadOnlyList<string> outcomes, IReadOnlyList<ModelSpec> custom)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(custom);
        var response = new GetAssociationsResponse { Metadata = Metadata };
        var exposure = new ModelTerm { Variable = ExposureTerm(_settings.Exposure) };
        foreach (var set in _settings.Models.Where(m => models.Count == 0 || models.Contains(m.Label)))
        {
            foreach (var outcome in outcomes.Count > 0 ? outcomes : _settings.Outcomes)
            {
                response.Fits.Add(Fit(set.Label, new ModelTerm { Variable = outcome }, exposure, set.Covariates));
            }
        }

        response.Fits.AddRange(CustomFits(custom));
        return response;
    }

    /// <summary>User-specified models (computed from the rows; a live source answers them as not computable).</summary>
    public IReadOnlyList<ModelFit> CustomFits(IEnumerable<ModelSpec> custom)
    {
        ArgumentNullException.ThrowIfNull(custom);
        var exposure = new ModelTerm { Variable = ExposureTerm(_settings.Exposure) };
        return [.. custom.Select(spec => Fit(spec.Label, spec.Outcome ?? new ModelTerm(), spec.Exposure ?? exposure, spec.Covariates))];
    }

    /// <summary>The Table 1 variables of study.md, in order.</summary>
    public static IReadOnlyList<Variable> Table1Variables { get; } =
    [
        Variables.Age, Variables.Weight, Variables.Bmi, Variables.Waist, Variables.Thigh, Variables.Glucose, Variables.Insulin,
        Variables.Triglycerides, Variables.Hdl, Variables.VitaminD, Variables.Egfr,
        Catalogue("femoral_neck.total_vbmd"), Catalogue("trochanter.total_vbmd"), Catalogue("intertrochanter.total_vbmd"), Catalogue("total_hip.total_vbmd"),
        Variables.CorticalDepth, Variables.NeckWidth, Variables.HipAxisLength, Variables.NeckAngle,
        Variables.HsCrp, Variables.Alcohol, Variables.Smoking, Variables.PhysicalActivity,
    ];

    private static Variable Catalogue(string name) => Variables.TryGet(name, out var v) ? v : throw new InvalidOperationException(name);

    private ModelFit Fit(string label, ModelTerm outcome, ModelTerm exposure, IEnumerable<ModelTerm> covariates)
    {
        var fit = new ModelFit { Model = label, Outcome = ModelDesign.Describe(outcome) };
        var terms = new List<ModelTerm> { exposure };
        terms.AddRange(covariates);
        if (!Variables.TryGet(outcome.Variable, out var outcomeVariable))
        {
            fit.Suppression = SuppressionReason.NotComputable;
            fit.Note = $"unknown outcome '{outcome.Variable}'";
            return fit;
        }

        var unknown = terms.FirstOrDefault(t => !Variables.TryGet(t.Variable, out _));
        if (unknown is not null)
        {
            fit.Suppression = SuppressionReason.NotComputable;
            fit.Note = $"unknown variable '{unknown.Variable}'";
            return fit;
        }

        var design = ModelDesign.Build(terms);
        var data = _source.Model(outcomeVariable, outcome.Transform, design) ?? _rows?.Model(outcomeVariable, outcome.Transform, design);
        if (data is null)
        {
            fit.Suppression = SuppressionReason.NotComputable;
            fit.Note = "this model is computed on request from the rows";
            return fit;
        }

        fit.N = data.N;
        var parameters = design.Columns.Count + 1;
        var fraction = _settings.Disclosure is { Disabled: false } d ? d.MaxParameterFraction : 1.0;
        if (data.N < MinCell || parameters > fraction * data.N)
        {
            fit.Suppression = SuppressionReason.ModelTooLarge;
            fit.Note = $"{parameters} parameters exceed {fraction} x n = {fraction * data.N:0.##}";
            _disclosures.Add($"associations: {label}/{outcome.Variable} refused (parameters vs n)");
            return fit;
        }

        try
        {
            var ols = data.Fit();
            fit.RSquared = ols.RSquared;
            fit.AdjustedRSquared = ols.AdjustedRSquared;
            fit.ResidualSd = ols.ResidualStandardDeviation;
            fit.Df = ols.DfResidual;
            // Exposure first, intercept last (the contract of ModelFit.coefficients).
            foreach (var c in ols.Coefficients.Where(c => c.Name != "(Intercept)").Concat(ols.Coefficients.Where(c => c.Name == "(Intercept)")))
            {
                fit.Coefficients.Add(new Coefficient
                {
                    Term = c.Name,
                    Estimate = c.Estimate,
                    StandardError = c.StandardError,
                    TValue = c.T,
                    PValue = c.P,
                    LowerCi = c.Lower,
                    UpperCi = c.Upper,
                    StandardizedEstimate = c.Standardized ?? 0,
                });
            }
        }
        catch (Exception ex) when (ex is RankDeficientException or InvalidOperationException)
        {
            fit.Suppression = SuppressionReason.NotComputable;
            fit.Note = ex.Message;
        }

        return fit;
    }

    private List<ExposureGroup> Groups()
    {
        var groups = new List<ExposureGroup>();
        for (var j = 1; j <= _settings.GroupCount; j++)
        {
            var n = _source.GroupSize(j);
            var group = new ExposureGroup { Index = j, Label = "Q" + j, N = n };
            if (j > 1)
            {
                group.LowerExclusive = _cuts[j - 2];
            }

            if (j < _settings.GroupCount)
            {
                group.UpperInclusive = _cuts[j - 1];
            }

            if (n < MinCell)
            {
                group.N = 0;
                group.Suppression = SuppressionReason.SmallCell;
                _disclosures.Add($"groups: Q{j} below threshold");
            }

            groups.Add(group);
        }

        return groups;
    }

    private CharacteristicRow ContinuousRow(Variable variable)
    {
        var row = new CharacteristicRow { Variable = variable.Name, Label = variable.Label, Unit = variable.Unit, Kind = variable.Kind == VariableKind.Skewed ? SummaryKind.MedianIqr : SummaryKind.MeanSd };
        var values = new long[_settings.GroupCount + 1];
        for (var j = 1; j <= _settings.GroupCount + 1; j++)
        {
            var s = _source.Summary(variable, j <= _settings.GroupCount ? j : 0);
            values[j - 1] = s.N;
            var cell = new SummaryCell { N = s.N, Missing = s.MissingN };
            if (s.N < MinCell)
            {
                cell.Suppression = SuppressionReason.SmallCell;
                cell.N = 0;
                _disclosures.Add($"table 1: {variable.Name} cell suppressed");
            }
            else if (row.Kind == SummaryKind.MeanSd)
            {
                cell.Mean = s.Mean;
                cell.Sd = Finite(s.StandardDeviation);
            }
            else
            {
                cell.Median = s.Median;
                cell.P25 = s.P25;
                cell.P75 = s.P75;
            }

            row.Cells.Add(cell);
        }

        // Secondary suppression: a single hidden group cell with values would follow from the overall cell and the
        // other groups (n·mean sums, and the n from the group sizes and missing counts). Hide the smallest other
        // group cell with values too.
        var groupCells = row.Cells.Take(_settings.GroupCount).ToList();
        var hidden = groupCells.Where(c => c.Suppression == SuppressionReason.SmallCell).ToList();
        if (hidden.Count == 1 && row.Cells[_settings.GroupCount].Suppression == SuppressionReason.Unspecified && values[groupCells.IndexOf(hidden[0])] > 0)
        {
            var complement = groupCells.Where(c => c.Suppression == SuppressionReason.Unspecified).OrderBy(c => c.N).FirstOrDefault();
            if (complement is not null)
            {
                complement.Suppression = SuppressionReason.Complementary;
                complement.N = 0;
                complement.Mean = 0;
                complement.Sd = 0;
                complement.Median = 0;
                complement.P25 = 0;
                complement.P75 = 0;
                _disclosures.Add($"table 1: {variable.Name} complementary cell suppressed");
            }
        }

        var cuzick = _source.Cuzick(variable);
        row.Trend = new TrendTestResult
        {
            Method = "cuzick",
            Statistic = cuzick.Z ?? 0,
            PValue = cuzick.P ?? 0,
            NotComputableReason = cuzick.NotComputableReason ?? string.Empty,
        };
        return row;
    }

    private CharacteristicRow CountRow(Variable variable, int level, string label)
    {
        var row = new CharacteristicRow { Variable = variable.Kind == VariableKind.Ordinal ? $"{variable.Name}={level}" : variable.Name, Label = label, Kind = SummaryKind.CountPercent };
        for (var j = 1; j <= _settings.GroupCount + 1; j++)
        {
            var group = j <= _settings.GroupCount ? j : 0;
            var (nonMissing, count) = _source.LevelCount(variable, level, group);
            var cell = new SummaryCell { N = nonMissing, Missing = _source.GroupSize(group) - nonMissing, Count = count, Percent = nonMissing == 0 ? 0 : 100.0 * count / nonMissing };
            var rest = nonMissing - count;
            if ((count > 0 && count < MinCell) || (rest > 0 && rest < MinCell))
            {
                cell.Suppression = SuppressionReason.SmallCell;
                cell.Count = 0;
                cell.Percent = 0;
                _disclosures.Add($"table 1: {row.Variable} count suppressed");
            }

            row.Cells.Add(cell);
        }

        // Secondary suppression: one suppressed group cell would be the overall count minus the others. Suppress
        // the smallest other non-zero group count too, or the overall cell when there is none.
        var groupCells = row.Cells.Take(_settings.GroupCount).ToList();
        var overall = row.Cells[_settings.GroupCount];
        if (groupCells.Count(c => c.Suppression == SuppressionReason.SmallCell) == 1 && overall.Suppression == SuppressionReason.Unspecified)
        {
            var complement = groupCells.Where(c => c.Suppression == SuppressionReason.Unspecified && c.Count > 0).OrderBy(c => c.Count).FirstOrDefault() ?? overall;
            complement.Suppression = SuppressionReason.Complementary;
            complement.Count = 0;
            complement.Percent = 0;
            _disclosures.Add($"table 1: {row.Variable} complementary count suppressed");
        }

        if (variable.Kind == VariableKind.Ordinal)
        {
            row.Trend = _settings.OrdinalTrendTest switch
            {
                OrdinalTrendTest.LinearByLinear => Trend(_source.LinearByLinear(variable), "linear-by-linear"),
                OrdinalTrendTest.PearsonChiSquared => Trend(_source.PearsonChiSquare(variable), "pearson-chi-squared"),
                _ => CuzickTrend(_source.Cuzick(variable)),
            };
        }
        else
        {
            var variance = _settings.BinaryTrendTest == BinaryTrendTest.MantelHaenszel ? CochranArmitageVariance.Permutation : CochranArmitageVariance.Binomial;
            row.Trend = Trend(_source.CochranArmitage(variable, variance), "cochran-armitage");
        }

        return row;
    }

    private static TrendTestResult CuzickTrend(CuzickResult c)
    {
        return new TrendTestResult { Method = "cuzick", Statistic = c.Z ?? 0, PValue = c.P ?? 0, NotComputableReason = c.NotComputableReason ?? string.Empty };
    }

    private static TrendTestResult Trend(TestResult t, string method) => new()
    {
        Method = method,
        Statistic = t.Z ?? t.ChiSquare ?? 0,
        PValue = t.P ?? 0,
        Df = (int)t.DegreesOfFreedom,
        NotComputableReason = t.NotComputableReason ?? string.Empty,
    };

    private SdUnitScale SdScale() => _settings.SdConvention switch
    {
        SdConvention.Residual => SdUnitScale.ResidualSd,
        SdConvention.Pooled => SdUnitScale.PooledSd,
        _ => SdUnitScale.ReferenceGroupSd,
    };

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

}
