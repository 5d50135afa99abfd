using System.Globalization;

namespace HomaBone.Statistics;

/// <summary>The SD that converts ANCOVA differences into SD units.</summary>
public enum SdUnitScale
{
    /// <summary>Raw-outcome SD (n − 1) of the reference group in the estimation sample (default; "SD units of the reference group").</summary>
    ReferenceGroupSd = 0,

    /// <summary>The model's residual SD σ̂ = √(RSS/(n − p)).</summary>
    ResidualSd = 1,

    /// <summary>Pooled within-group raw SD √(Σ_g Σ(y − ȳ_g)²/(N − G)).</summary>
    PooledSd = 2,
}

/// <summary>Options of <see cref="Ancova.Fit"/>.</summary>
public sealed record AncovaOptions
{
    /// <summary>SD convention for the SD-unit columns. Default <see cref="SdUnitScale.ReferenceGroupSd"/>.</summary>
    public SdUnitScale Scale { get; init; } = SdUnitScale.ReferenceGroupSd;

    /// <summary>Confidence level. Default 0.95.</summary>
    public double ConfidenceLevel { get; init; } = 0.95;

    /// <summary>Relative rank tolerance passed to <see cref="Ols"/>.</summary>
    public double RankTolerance { get; init; } = OlsOptions.DefaultRankTolerance;
}

/// <summary>One group-vs-reference comparison (methods.md §4 field list).</summary>
/// <param name="Group">The compared group value.</param>
/// <param name="Difference">Adjusted mean difference δ̂ (dummy coefficient).</param>
/// <param name="StandardError">SE(δ̂).</param>
/// <param name="Lower">δ̂ − t·SE.</param>
/// <param name="Upper">δ̂ + t·SE.</param>
/// <param name="P">Two-sided t-test P with <paramref name="Df"/> df.</param>
/// <param name="Df">n − p.</param>
/// <param name="N">Estimation-sample size.</param>
/// <param name="SdRef">The SD used for SD units (null when undefined).</param>
/// <param name="DifferenceSd">δ̂/SD_ref (null when SD_ref undefined).</param>
/// <param name="LowerSd">Lower/SD_ref.</param>
/// <param name="UpperSd">Upper/SD_ref.</param>
public sealed record AncovaComparison(
    double Group,
    double Difference,
    double StandardError,
    double Lower,
    double Upper,
    double P,
    int Df,
    int N,
    double? SdRef,
    double? DifferenceSd,
    double? LowerSd,
    double? UpperSd);

/// <summary>ANCOVA result: comparisons and the underlying OLS fit.</summary>
/// <param name="ReferenceGroup">Reference group value.</param>
/// <param name="Comparisons">One per non-reference group present, ascending group value.</param>
/// <param name="Model">The OLS fit (dummies named "group=g", then covariates).</param>
/// <param name="SdNotComputableReason">Why SD units are undefined (empty/constant reference group), or null.</param>
public sealed record AncovaResult(double ReferenceGroup, IReadOnlyList<AncovaComparison> Comparisons, OlsResult Model, string? SdNotComputableReason);

/// <summary>
/// Analysis of covariance by OLS: y = β₀ + Σ_g δ_g·1{group = g} + Σ βₖ·covariateₖ + ε (g ≠ reference).
/// δ̂_g is the covariate-adjusted mean difference versus the reference group (= the difference of Stata
/// <c>margins</c> adjusted means in a model without interactions); SE, CI and P from OLS with n − p df.
/// SD units divide δ̂ and its CI by SD_ref (default the reference group's raw SD, methods.md §4), SD_ref
/// treated as fixed (P unchanged). Complete cases over y, group and covariates. Rank-deficient designs
/// (e.g. an empty group after deletion) throw <see cref="RankDeficientException"/>.
/// </summary>
public static class Ancova
{
    /// <summary>Fits the ANCOVA model.</summary>
    /// <param name="y">Outcome (NaN = missing).</param>
    /// <param name="group">Group value per row (NaN = missing), e.g. quartile 1..4 or High 0/1.</param>
    /// <param name="referenceGroup">The reference group value (must be present in the estimation sample).</param>
    /// <param name="covariates">Covariate columns (NaN = missing).</param>
    /// <param name="covariateNames">Covariate names.</param>
    /// <param name="options">Options; null = defaults.</param>
    /// <returns>The comparisons.</returns>
    /// <exception cref="ArgumentException">Reference group absent, or fewer than two groups.</exception>
    public static AncovaResult Fit(
        IReadOnlyList<double> y,
        IReadOnlyList<double> group,
        double referenceGroup,
        IReadOnlyList<IReadOnlyList<double>> covariates,
        IReadOnlyList<string> covariateNames,
        AncovaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(covariates);
        ArgumentNullException.ThrowIfNull(covariateNames);
        options ??= new AncovaOptions();

        var complete = new List<int>();
        for (var i = 0; i < y.Count; i++)
        {
            var ok = !double.IsNaN(y[i]) && !double.IsNaN(group[i]);
            for (var k = 0; ok && k < covariates.Count; k++)
            {
                ok = !double.IsNaN(covariates[k][i]);
            }

            if (ok)
            {
                complete.Add(i);
            }
        }

        var groups = complete.Select(i => group[i]).Distinct().Order().ToArray();
        if (Array.IndexOf(groups, referenceGroup) < 0)
        {
            throw new ArgumentException("The reference group has no complete case.", nameof(referenceGroup));
        }

        var others = groups.Where(g => g != referenceGroup).ToArray();
        if (others.Length == 0)
        {
            throw new ArgumentException("Need at least one group besides the reference.", nameof(group));
        }

        var n = complete.Count;
        var yy = complete.Select(i => y[i]).ToArray();
        var columns = new List<IReadOnlyList<double>>();
        var names = new List<string>();
        foreach (var g in others)
        {
            columns.Add(complete.Select(i => group[i] == g ? 1.0 : 0.0).ToArray());
            names.Add("group=" + g.ToString("R", CultureInfo.InvariantCulture));
        }

        for (var k = 0; k < covariates.Count; k++)
        {
            var col = covariates[k];
            columns.Add(complete.Select(i => col[i]).ToArray());
            names.Add(covariateNames[k]);
        }

        var fit = Ols.Fit(yy, columns, names, new OlsOptions { ConfidenceLevel = options.ConfidenceLevel, RankTolerance = options.RankTolerance });

        var byGroup = new Dictionary<double, RunningMoments>();
        for (var r = 0; r < n; r++)
        {
            var g = group[complete[r]];
            byGroup.TryGetValue(g, out var m);
            m.Add(yy[r]);
            byGroup[g] = m;
        }

        var refMoments = RunningMoments.FromValues(complete.Where(i => group[i] == referenceGroup).Select(i => y[i]).ToArray());
        return FromFit(fit, referenceGroup, others, refMoments, [.. byGroup.Values], options.Scale);
    }

    /// <summary>
    /// The comparisons of a fitted ANCOVA (coefficients 1..|others| are the dummies of <paramref name="others"/>, in
    /// order) in raw and SD units — shared by the batch fit and fits from co-moments.
    /// </summary>
    /// <param name="fit">The OLS fit.</param>
    /// <param name="referenceGroup">The reference group value.</param>
    /// <param name="others">The compared group values, in the order of their dummies.</param>
    /// <param name="reference">The outcome's moments in the reference group (estimation sample).</param>
    /// <param name="groups">The outcome's moments in every group present (estimation sample).</param>
    /// <param name="scale">The SD convention.</param>
    /// <returns>The result.</returns>
    public static AncovaResult FromFit(OlsResult fit, double referenceGroup, IReadOnlyList<double> others, RunningMoments reference, IReadOnlyCollection<RunningMoments> groups, SdUnitScale scale)
    {
        ArgumentNullException.ThrowIfNull(fit);
        ArgumentNullException.ThrowIfNull(others);
        ArgumentNullException.ThrowIfNull(groups);
        double? sdRef = null;
        string? reason = null;
        switch (scale)
        {
            case SdUnitScale.ReferenceGroupSd:
                if (reference.Count < 2)
                {
                    reason = "Reference group has fewer than two observations.";
                }
                else if (!(reference.StandardDeviation > 0))
                {
                    reason = "Reference group SD is 0.";
                }
                else
                {
                    sdRef = reference.StandardDeviation;
                }

                break;
            case SdUnitScale.ResidualSd:
                sdRef = fit.ResidualStandardDeviation > 0 ? fit.ResidualStandardDeviation : null;
                reason = sdRef is null ? "Residual SD is 0." : null;
                break;
            default:
                var within = groups.Sum(m => m.SumSquaredDeviations);
                var df = fit.N - groups.Count;
                if (df > 0 && within > 0)
                {
                    sdRef = Math.Sqrt(within / df);
                }
                else
                {
                    reason = "Pooled within-group SD is undefined.";
                }

                break;
        }

        var comparisons = new List<AncovaComparison>();
        for (var k = 0; k < others.Count; k++)
        {
            var c = fit.Coefficients[k + 1];
            comparisons.Add(new AncovaComparison(
                others[k],
                c.Estimate,
                c.StandardError,
                c.Lower,
                c.Upper,
                c.P,
                fit.DfResidual,
                fit.N,
                sdRef,
                c.Estimate / sdRef,
                c.Lower / sdRef,
                c.Upper / sdRef));
        }

        return new AncovaResult(referenceGroup, comparisons, fit, reason);
    }
}
