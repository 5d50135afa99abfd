namespace HomaBone.Qct;

/// <summary>
/// Medians and percentiles by selection (expected linear time) instead of sorting a copy: the same order statistics,
/// so the same values, as indexing into the sorted array (a sort of ~10⁵ densities took ~10 ms per median).
/// </summary>
internal static class OrderStatistics
{
    /// <summary>The value at index <paramref name="k"/> of <paramref name="values"/> sorted ascending; the input is not changed.</summary>
    public static double Select(ReadOnlySpan<double> values, int k) => SelectPair(values, k).Low;

    /// <summary>
    /// Linear interpolation between the order statistics around (n − 1)·p, as <c>sorted[lo] + (h − lo)·(sorted[lo + 1] − sorted[lo])</c>
    /// with h = (n − 1)·p; NaN for no values. The input is not changed.
    /// </summary>
    public static double Percentile(ReadOnlySpan<double> values, double p)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }

        var h = (values.Length - 1) * p;
        var lo = (int)Math.Floor(h);
        var (low, high) = SelectPair(values, lo);
        return low + ((h - lo) * (high - low));
    }

    /// <summary>The median (mean of the two middle values for an even count); <paramref name="empty"/> for no values.</summary>
    public static double Median(ReadOnlySpan<double> values, double empty)
    {
        if (values.Length == 0)
        {
            return empty;
        }

        if (values.Length % 2 == 1)
        {
            return Select(values, values.Length / 2);
        }

        var (low, high) = SelectPair(values, (values.Length / 2) - 1);
        return 0.5 * (low + high);
    }

    /// <summary>sorted[k] and sorted[min(k + 1, n − 1)].</summary>
    private static (double Low, double High) SelectPair(ReadOnlySpan<double> values, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, values.Length);
        var work = values.ToArray().AsSpan();
        if (work.Contains(double.NaN))
        {
            // NaN sorts first (double.CompareTo); comparisons in the partition below would not place it.
            work.Sort();
            return (work[k], work[Math.Min(k + 1, work.Length - 1)]);
        }

        var low = SelectInPlace(work, k);
        // Every element after index k is ≥ sorted[k], and they are the elements of rank > k: the next one is their minimum.
        var high = low;
        if (k + 1 < work.Length)
        {
            high = work[k + 1];
            foreach (var v in work[(k + 2)..])
            {
                high = Math.Min(high, v);
            }
        }

        return (low, high);
    }

    /// <summary>
    /// Three-way quickselect (median-of-three pivots; duplicates end a round at once), sorting what is left when the
    /// range is small or the rounds exceed 2·log₂(n): afterwards work[k] is the k-th order statistic and nothing after k
    /// is smaller.
    /// </summary>
    private static double SelectInPlace(Span<double> work, int k)
    {
        int lo = 0, hi = work.Length - 1;
        var rounds = 2 * (int)Math.Log2(work.Length + 1) + 4;
        while (hi > lo)
        {
            if (hi - lo < 32 || rounds-- == 0)
            {
                work[lo..(hi + 1)].Sort();
                return work[k];
            }

            var pivot = MedianOfThree(work[lo], work[lo + ((hi - lo) / 2)], work[hi]);
            int lt = lo, i = lo, gt = hi;
            while (i <= gt)
            {
                var v = work[i];
                if (v < pivot)
                {
                    (work[lt], work[i]) = (work[i], work[lt]);
                    lt++;
                    i++;
                }
                else if (v > pivot)
                {
                    (work[gt], work[i]) = (work[i], work[gt]);
                    gt--;
                }
                else
                {
                    i++;
                }
            }

            // [lo, lt) < pivot, [lt, gt] == pivot, (gt, hi] > pivot.
            if (k < lt)
            {
                hi = lt - 1;
            }
            else if (k > gt)
            {
                lo = gt + 1;
            }
            else
            {
                return pivot;
            }
        }

        return work[k];
    }

    private static double MedianOfThree(double a, double b, double c) =>
        a < b ? (b < c ? b : Math.Max(a, c)) : (a < c ? a : Math.Max(b, c));
}
