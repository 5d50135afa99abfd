namespace HomaBone.Statistics;

/// <summary>
/// The nine sample-quantile definitions of Hyndman &amp; Fan (1996), "Sample quantiles in statistical
/// packages", Am Stat 50:361–365, numbered as in R's <c>quantile(type = …)</c>.
/// </summary>
public enum QuantileDefinition
{
    /// <summary>Type 1: inverse of the empirical CDF, x₍⌈np⌉₎ (SAS PCTLDEF=3).</summary>
    InverseCdf = 1,

    /// <summary>
    /// Type 2: inverse empirical CDF with averaging at discontinuities — np integer i → (x₍ᵢ₎ + x₍ᵢ₊₁₎)/2,
    /// otherwise x₍⌈np⌉₎. = Stata <c>pctile</c>/<c>xtile</c>/<c>summarize, detail</c>, SAS PCTLDEF=5,
    /// numpy "averaged_inverted_cdf". The study's definition.
    /// </summary>
    AveragedInverseCdf = 2,

    /// <summary>Type 3: nearest even order statistic (SAS PCTLDEF=2).</summary>
    ClosestObservation = 3,

    /// <summary>Type 4: linear interpolation of the empirical CDF, p(k) = k/n (California).</summary>
    InterpolatedInverseCdf = 4,

    /// <summary>Type 5: piecewise linear with nodes at (k − 0.5)/n (Hazen).</summary>
    Hazen = 5,

    /// <summary>Type 6: p(k) = k/(n+1) (Weibull; Stata <c>centile</c> and <c>pctile, altdef</c>, SAS PCTLDEF=4).</summary>
    Weibull = 6,

    /// <summary>Type 7: p(k) = (k−1)/(n−1) (Gumbel; R and Excel default).</summary>
    Linear = 7,

    /// <summary>Type 8: p(k) = (k−1/3)/(n+1/3), approximately median-unbiased (Hyndman &amp; Fan's recommendation).</summary>
    MedianUnbiased = 8,

    /// <summary>Type 9: p(k) = (k−3/8)/(n+1/4), approximately unbiased for normal data (Blom).</summary>
    NormalUnbiased = 9,
}

/// <summary>
/// Sample quantiles by an explicit Hyndman–Fan definition. NaN inputs are excluded (treated as missing);
/// an empty sample gives NaN. The arithmetic mirrors R 4.2 <c>quantile.default</c> so the two agree bit for
/// bit on the same double <c>p</c>; the rational overload decides "np is an integer" exactly.
/// </summary>
public static class Quantiles
{
    /// <summary>
    /// The p-quantile of <paramref name="values"/> (unsorted is fine; a sorted copy is made). p in [0, 1].
    /// For types 1–3 the integer test on n·p is made on the double product exactly as R does; use
    /// <see cref="Compute(IReadOnlyList{double}, long, long, QuantileDefinition)"/> for Stata's exact rule.
    /// </summary>
    /// <param name="values">Sample; NaN = missing, excluded.</param>
    /// <param name="p">Probability in [0, 1].</param>
    /// <param name="definition">Hyndman–Fan type (required: there is no default on purpose).</param>
    /// <returns>The quantile, or NaN when no non-missing value exists.</returns>
    /// <exception cref="ArgumentOutOfRangeException">p outside [0, 1] or NaN.</exception>
    public static double Compute(IReadOnlyList<double> values, double p, QuantileDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = SortedNonMissing(values);
        return FromSorted(sorted, p, definition);
    }

    /// <summary>
    /// The (num/den)-quantile with the position test "n·num mod den = 0" done in exact integer arithmetic
    /// (types 1–3; Stata <c>pctile</c> semantics, as in stata-gtools' rational arithmetic). Continuous types
    /// use p = num/den in double.
    /// </summary>
    /// <param name="values">Sample; NaN = missing, excluded.</param>
    /// <param name="numerator">Numerator of p, 0 ≤ num ≤ den.</param>
    /// <param name="denominator">Denominator of p, &gt; 0.</param>
    /// <param name="definition">Hyndman–Fan type.</param>
    /// <returns>The quantile, or NaN when the sample is empty.</returns>
    public static double Compute(IReadOnlyList<double> values, long numerator, long denominator, QuantileDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(values);
        return FromSorted(SortedNonMissing(values), numerator, denominator, definition);
    }

    /// <summary>As <see cref="Compute(IReadOnlyList{double}, double, QuantileDefinition)"/> on an ascending, NaN-free array.</summary>
    /// <param name="sorted">Ascending sample without NaN (not checked).</param>
    /// <param name="p">Probability in [0, 1].</param>
    /// <param name="definition">Hyndman–Fan type.</param>
    /// <returns>The quantile, NaN for an empty sample.</returns>
    public static double FromSorted(ReadOnlySpan<double> sorted, double p, QuantileDefinition definition)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "p must lie in [0, 1].");
        }

        var n = sorted.Length;
        if (n == 0)
        {
            return double.NaN;
        }

        var type = (int)definition;
        if (type == 7)
        {
            var index = 1.0 + (Math.Max(n - 1, 0) * p);
            var lo = (int)Math.Floor(index);
            var hi = (int)Math.Ceiling(index);
            var qs = sorted[lo - 1];
            var hv = sorted[hi - 1];
            if (index > lo && hv != qs)
            {
                var h = index - lo;
                qs = ((1 - h) * qs) + (h * hv);
            }

            return qs;
        }

        double nppm;
        double j;
        double hh;
        if (type <= 3)
        {
            nppm = type == 3 ? (n * p) - 0.5 : n * p;
            j = Math.Floor(nppm);
            hh = type switch
            {
                1 => nppm > j ? 1.0 : 0.0,
                2 => ((nppm > j ? 1.0 : 0.0) + 1.0) / 2.0,
                _ => (nppm != j) || (Mod2(j) == 1) ? 1.0 : 0.0,
            };
        }
        else
        {
            var (a, b) = ContinuousParameters(definition);
            const double fuzz = 4 * 2.220446049250313e-16; // R: 4 * .Machine$double.eps
            nppm = a + (p * (n + 1 - a - b));
            j = Math.Floor(nppm + fuzz);
            hh = nppm - j;
            if (Math.Abs(hh) < fuzz)
            {
                hh = 0;
            }
        }

        return Pick(sorted, (long)j, hh);
    }

    /// <summary>As the rational <c>Compute</c> overload on an ascending, NaN-free array.</summary>
    /// <param name="sorted">Ascending sample without NaN (not checked).</param>
    /// <param name="numerator">Numerator of p.</param>
    /// <param name="denominator">Denominator of p.</param>
    /// <param name="definition">Hyndman–Fan type.</param>
    /// <returns>The quantile, NaN for an empty sample.</returns>
    public static double FromSorted(ReadOnlySpan<double> sorted, long numerator, long denominator, QuantileDefinition definition)
    {
        if (denominator <= 0 || numerator < 0 || numerator > denominator)
        {
            throw new ArgumentOutOfRangeException(nameof(numerator), "Need 0 ≤ numerator ≤ denominator, denominator > 0.");
        }

        var n = sorted.Length;
        if (n == 0)
        {
            return double.NaN;
        }

        var type = (int)definition;
        if (type > 3)
        {
            return FromSorted(sorted, (double)numerator / denominator, definition);
        }

        // n·p = n·num/den; for type 3, n·p − 1/2 = (2·n·num − den)/(2·den).
        var top = (Int128)n * numerator;
        var bottom = (Int128)denominator;
        if (type == 3)
        {
            top = (2 * top) - bottom;
            bottom *= 2;
        }

        var j = FloorDiv(top, bottom);
        var isInteger = top - (j * bottom) == 0;
        double h = type switch
        {
            1 => isInteger ? 0.0 : 1.0,
            2 => isInteger ? 0.5 : 1.0,
            _ => (!isInteger || (j & 1) == 1) ? 1.0 : 0.0,
        };
        return Pick(sorted, (long)j, h);
    }

    internal static double[] SortedNonMissing(IReadOnlyList<double> values)
    {
        var list = new List<double>(values.Count);
        foreach (var v in values)
        {
            if (!double.IsNaN(v))
            {
                list.Add(v);
            }
        }

        var arr = list.ToArray();
        Array.Sort(arr);
        return arr;
    }

    private static double Pick(ReadOnlySpan<double> x, long j, double h)
    {
        // R pads x as c(x1, x1, x, xn, xn) and takes x[j+2] (and x[j+3]); j + 2 in padded = order statistic j.
        var n = x.Length;
        var lo = At(x, j, n);
        if (h == 0)
        {
            return lo;
        }

        var hi = At(x, j + 1, n);
        if (h == 1)
        {
            return hi;
        }

        return lo != hi ? ((1 - h) * lo) + (h * hi) : lo;
    }

    private static double At(ReadOnlySpan<double> x, long orderStatistic, int n)
    {
        // Order statistic k (1-based), clamped to [1, n] as R's padding does.
        var k = Math.Clamp(orderStatistic, 1, n);
        return x[(int)k - 1];
    }

    private static int Mod2(double j)
    {
        var r = j % 2.0;
        return r < 0 ? (int)(r + 2) : (int)r;
    }

    private static Int128 FloorDiv(Int128 a, Int128 b)
    {
        var q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0)))
        {
            q -= 1;
        }

        return q;
    }

    private static (double A, double B) ContinuousParameters(QuantileDefinition definition) => definition switch
    {
        QuantileDefinition.InterpolatedInverseCdf => (0.0, 1.0),
        QuantileDefinition.Hazen => (0.5, 0.5),
        QuantileDefinition.Weibull => (0.0, 0.0),
        QuantileDefinition.Linear => (1.0, 1.0),
        QuantileDefinition.MedianUnbiased => (1.0 / 3.0, 1.0 / 3.0),
        QuantileDefinition.NormalUnbiased => (3.0 / 8.0, 3.0 / 8.0),
        _ => throw new ArgumentOutOfRangeException(nameof(definition), definition, "Unknown quantile definition."),
    };
}
