namespace HomaBone.Statistics;

/// <summary>
/// Table-1 summary of a continuous variable: n, missing n, mean, SD (n − 1), median and quartiles by
/// Hyndman–Fan type 2 (Stata <c>summarize, detail</c> / <c>tabstat … p25 p50 p75</c>).
/// </summary>
/// <param name="N">Non-missing count.</param>
/// <param name="MissingN">Count of NaN entries.</param>
/// <param name="Mean">Mean (NaN when N = 0).</param>
/// <param name="StandardDeviation">SD with divisor n − 1 (NaN when N &lt; 2).</param>
/// <param name="Median">Type-2 median.</param>
/// <param name="P25">Type-2 25th percentile.</param>
/// <param name="P75">Type-2 75th percentile.</param>
public sealed record ContinuousSummary(long N, long MissingN, double Mean, double StandardDeviation, double Median, double P25, double P75)
{
    /// <summary>Interquartile range P75 − P25 (type 2).</summary>
    public double InterquartileRange => P75 - P25;
}

/// <summary>n (%) of a binary or categorical level: count over the non-missing denominator.</summary>
/// <param name="Count">Number with the level.</param>
/// <param name="Denominator">Non-missing n.</param>
public sealed record CategoricalCount(long Count, long Denominator)
{
    /// <summary>Percentage 100·Count/Denominator; NaN when the denominator is 0.</summary>
    public double Percent => Denominator == 0 ? double.NaN : 100.0 * Count / Denominator;
}

/// <summary>Which SD the standardized mean difference divides by.</summary>
public enum SmdDenominator
{
    /// <summary>Pooled SD √(((n₁−1)s₁² + (n₂−1)s₂²)/(n₁+n₂−2)) — Cohen's d (Cohen 1988, eq. 2.5.1).</summary>
    Pooled = 0,

    /// <summary>√((s₁² + s₂²)/2) — the balance diagnostic of Austin (2009) Stat Med 28:3083.</summary>
    AverageVariance = 1,

    /// <summary>SD of the second (reference) group only — Glass's Δ (Glass 1976).</summary>
    Reference = 2,
}

/// <summary>Descriptive statistics for Table 1; numerically stable (two-pass / Welford, never Σx² − n·x̄²).</summary>
public static class Descriptive
{
    /// <summary>Summarizes a continuous variable; NaN entries count as missing. Minimum n: 0 (fields NaN).</summary>
    /// <param name="values">Sample.</param>
    /// <returns>The summary.</returns>
    public static ContinuousSummary Summarize(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = Quantiles.SortedNonMissing(values);
        var moments = RunningMoments.FromValues(sorted);
        var def = QuantileDefinition.AveragedInverseCdf;
        return new ContinuousSummary(
            sorted.Length,
            values.Count - sorted.Length,
            moments.Mean,
            moments.StandardDeviation,
            Quantiles.FromSorted(sorted, 1, 2, def),
            Quantiles.FromSorted(sorted, 1, 4, def),
            Quantiles.FromSorted(sorted, 3, 4, def));
    }

    /// <summary>n (%) of entries equal to <paramref name="level"/> among non-missing (non-NaN) entries.</summary>
    /// <param name="values">Coded values.</param>
    /// <param name="level">The level to count (exact equality).</param>
    /// <returns>Count and denominator.</returns>
    public static CategoricalCount Count(IReadOnlyList<double> values, double level)
    {
        ArgumentNullException.ThrowIfNull(values);
        long count = 0;
        long denominator = 0;
        foreach (var v in values)
        {
            if (double.IsNaN(v))
            {
                continue;
            }

            denominator++;
            if (v == level)
            {
                count++;
            }
        }

        return new CategoricalCount(count, denominator);
    }

    /// <summary>
    /// Standardized mean difference (x̄₁ − x̄₂)/SD with the chosen denominator. NaN entries are missing.
    /// Needs n ≥ 2 in each group (n ≥ 2 in group 2 for <see cref="SmdDenominator.Reference"/>); otherwise,
    /// or when the SD is 0, returns NaN.
    /// </summary>
    /// <param name="group1">First group (e.g. exposed).</param>
    /// <param name="group2">Second group (reference).</param>
    /// <param name="denominator">SD convention.</param>
    /// <returns>The SMD.</returns>
    public static double StandardizedMeanDifference(IReadOnlyList<double> group1, IReadOnlyList<double> group2, SmdDenominator denominator)
    {
        ArgumentNullException.ThrowIfNull(group1);
        ArgumentNullException.ThrowIfNull(group2);
        var a = RunningMoments.FromValues(group1.ToArray());
        var b = RunningMoments.FromValues(group2.ToArray());
        double sd = denominator switch
        {
            SmdDenominator.Pooled => a.Count + b.Count > 2
                ? Math.Sqrt((a.SumSquaredDeviations + b.SumSquaredDeviations) / (a.Count + b.Count - 2))
                : double.NaN,
            SmdDenominator.AverageVariance => Math.Sqrt((a.Variance + b.Variance) / 2.0),
            _ => b.StandardDeviation,
        };
        if (a.Count < 1 || b.Count < 2 || !(sd > 0))
        {
            return double.NaN;
        }

        return (a.Mean - b.Mean) / sd;
    }
}
