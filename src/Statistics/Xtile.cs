namespace HomaBone.Statistics;

/// <summary>
/// Stata <c>xtile, nq(k)</c> grouping: cut points c_j = type-2 quantile at j/k (j = 1..k−1) with the
/// integer-position test n·j mod k = 0 in exact integer arithmetic, and category = 1 + #{j : x &gt; c_j}
/// (ties at a cut go to the lower group). Sources: Stata [D] pctile, Methods and formulas; michaelstepner
/// fastxtile (1 + irecode); Hyndman &amp; Fan (1996) type 2.
/// </summary>
public static class Xtile
{
    /// <summary>
    /// The k−1 cut points of xtile into <paramref name="groups"/> groups. NaN values are missing and excluded.
    /// Minimum n = 1; an empty sample gives an array of NaN.
    /// </summary>
    /// <param name="values">Sample (unsorted).</param>
    /// <param name="groups">Number of groups k ≥ 2.</param>
    /// <returns>Ascending cut points c₁ ≤ … ≤ c_{k−1}.</returns>
    public static double[] CutPoints(IReadOnlyList<double> values, int groups)
    {
        ArgumentNullException.ThrowIfNull(values);
        return CutPointsFromSorted(Quantiles.SortedNonMissing(values), groups);
    }

    /// <summary>As <see cref="CutPoints"/> on an ascending NaN-free array.</summary>
    /// <param name="sorted">Ascending sample.</param>
    /// <param name="groups">Number of groups k ≥ 2.</param>
    /// <returns>The k−1 cut points.</returns>
    public static double[] CutPointsFromSorted(ReadOnlySpan<double> sorted, int groups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 2);
        var cuts = new double[groups - 1];
        for (var j = 1; j < groups; j++)
        {
            cuts[j - 1] = Quantiles.FromSorted(sorted, j, groups, QuantileDefinition.AveragedInverseCdf);
        }

        return cuts;
    }

    /// <summary>
    /// The 1-based xtile category of <paramref name="value"/>: 1 + #{c_j &lt; x}. NaN → 0 (missing).
    /// </summary>
    /// <param name="value">The value to classify.</param>
    /// <param name="cuts">Ascending cut points from <see cref="CutPoints"/>.</param>
    /// <returns>Category 1..k, or 0 for a missing value.</returns>
    public static int Assign(double value, IReadOnlyList<double> cuts)
    {
        ArgumentNullException.ThrowIfNull(cuts);
        if (double.IsNaN(value))
        {
            return 0;
        }

        var category = 1;
        for (var j = 0; j < cuts.Count; j++)
        {
            if (value > cuts[j])
            {
                category++;
            }
        }

        return category;
    }

    /// <summary>Categories for every value (0 for missing), with cut points computed from the same values.</summary>
    /// <param name="values">Sample.</param>
    /// <param name="groups">Number of groups k ≥ 2.</param>
    /// <returns>Category per input position.</returns>
    public static int[] Categorize(IReadOnlyList<double> values, int groups)
    {
        ArgumentNullException.ThrowIfNull(values);
        var cuts = CutPoints(values, groups);
        var result = new int[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            result[i] = Assign(values[i], cuts);
        }

        return result;
    }
}
