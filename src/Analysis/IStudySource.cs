using HomaBone.Contracts.V1;
using HomaBone.Statistics;

namespace HomaBone.Analysis;

/// <summary>Flow-diagram counts of a cohort version.</summary>
/// <param name="Active">Participants not withdrawn.</param>
/// <param name="Eligible">Active and eligible.</param>
/// <param name="Withdrawn">Withdrawn participants.</param>
/// <param name="FirstReason">Active participants by first exclusion reason (index = reason number).</param>
/// <param name="AnyReason">Active participants by any exclusion reason (index = reason number).</param>
internal sealed record FlowCounts(long Active, long Eligible, long Withdrawn, long[] FirstReason, long[] AnyReason);

/// <summary>What a group comparison needs before (and for) its ANCOVA fit.</summary>
/// <param name="GroupCounts">Complete cases per compared group value (0/1 for halves, 1..k for each group).</param>
/// <param name="Fit">Fits the ANCOVA (may throw <see cref="RankDeficientException"/>).</param>
internal sealed record GroupComparisonData(IReadOnlyDictionary<double, int> GroupCounts, Func<AncovaResult> Fit);

/// <summary>What a model needs before (and for) its OLS fit.</summary>
/// <param name="N">Complete cases of the model.</param>
/// <param name="Fit">Fits the model (may throw <see cref="RankDeficientException"/>).</param>
internal sealed record ModelData(int N, Func<OlsResult> Fit);

/// <summary>
/// The numbers the study's answers are made of, for one cohort version: either computed from the canonical rows
/// (<see cref="RowStudySource"/>, the batch twin) or read from the incrementally maintained state
/// (<see cref="LiveStudy"/>). <see cref="StudyAnalysis"/> turns them into answers with disclosure control.
/// Group numbers are 1..k; group 0 means the overall column.
/// </summary>
internal interface IStudySource
{
    /// <summary>Flow-diagram counts.</summary>
    FlowCounts Flow { get; }

    /// <summary>Active, eligible participants with an exposure value: the analysed sample.</summary>
    int AnalysedCount { get; }

    /// <summary>The exposure cut points (empty when there are fewer analysed participants than groups).</summary>
    double[] Cuts { get; }

    /// <summary>Analysed participants in group <paramref name="group"/> (0 = all).</summary>
    long GroupSize(int group);

    /// <summary>Table 1 summary of a continuous variable in a group (0 = overall).</summary>
    ContinuousSummary Summary(Variable variable, int group);

    /// <summary>Cuzick's trend test of a variable over the groups (complete cases).</summary>
    CuzickResult Cuzick(Variable variable);

    /// <summary>Non-missing values and the number equal to <paramref name="level"/> in a group (0 = overall).</summary>
    (long NonMissing, long Count) LevelCount(Variable variable, double level, int group);

    /// <summary>Cochran–Armitage trend test of a 0/1 variable over the groups.</summary>
    TestResult CochranArmitage(Variable variable, CochranArmitageVariance variance);

    /// <summary>Linear-by-linear association of an ordinal variable with the group.</summary>
    TestResult LinearByLinear(Variable variable);

    /// <summary>Pearson χ² of the group × level table of an ordinal variable.</summary>
    TestResult PearsonChiSquare(Variable variable);

    /// <summary>A group comparison of <paramref name="outcome"/> adjusted for the design's covariates.</summary>
    GroupComparisonData GroupComparison(Variable outcome, ModelDesign covariates, bool half, AncovaOptions options);

    /// <summary>A linear model, or null when this source does not hold it.</summary>
    ModelData? Model(Variable outcome, Transform transform, ModelDesign design);
}
