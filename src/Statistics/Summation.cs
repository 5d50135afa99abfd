namespace HomaBone.Statistics;

/// <summary>Compensated summation (Neumaier 1974, ZAMM 54:39, improved Kahan–Babuška).</summary>
internal static class Summation
{
    public static double Neumaier(ReadOnlySpan<double> values)
    {
        var sum = 0.0;
        var c = 0.0;
        foreach (var v in values)
        {
            var t = sum + v;
            c += Math.Abs(sum) >= Math.Abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }

        return sum + c;
    }

    /// <summary>Two-pass mean: compensated sum, then a correction pass (Björck 1996 §2.7 style).</summary>
    public static double Mean(ReadOnlySpan<double> values)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }

        var m = Neumaier(values) / values.Length;
        var corr = 0.0;
        foreach (var v in values)
        {
            corr += v - m;
        }

        return m + (corr / values.Length);
    }

    /// <summary>Σ(x − x̄)² by the corrected two-pass algorithm (Chan, Golub &amp; LeVeque 1983, eq. 1.7).</summary>
    public static double SumSquaredDeviations(ReadOnlySpan<double> values, double mean)
    {
        var s = 0.0;
        var c = 0.0;
        foreach (var v in values)
        {
            var d = v - mean;
            s += d * d;
            c += d;
        }

        return values.Length == 0 ? 0.0 : s - (c * c / values.Length);
    }
}
