using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace HomaBone.Statistics;

/// <summary>
/// Tail probabilities and quantiles used by every test in the library, computed so that tiny P-values keep
/// their relative accuracy (no <c>1 − CDF</c> subtraction).
/// </summary>
/// <remarks>
/// Normal tails use the complementary error function; Student t and F tails use the regularized incomplete
/// beta function (Abramowitz &amp; Stegun 26.7.1 and 26.6.2); χ² tails use the regularized upper incomplete
/// gamma function (A&amp;S 26.4.19). Implementations: MathNet.Numerics <c>SpecialFunctions</c>.
/// </remarks>
public static class Tails
{
    /// <summary>Two-sided normal P = 2·Φ(−|z|) = erfc(|z|/√2). NaN in → NaN out.</summary>
    /// <param name="z">Standard normal deviate.</param>
    /// <returns>The two-sided P-value in [0, 1].</returns>
    public static double NormalTwoSided(double z) => SpecialFunctions.Erfc(Math.Abs(z) / Math.Sqrt(2.0));

    /// <summary>Upper normal tail Φ(−z) = erfc(z/√2)/2 (one-sided P for an increasing trend).</summary>
    /// <param name="z">Standard normal deviate.</param>
    /// <returns>P(Z ≥ z).</returns>
    public static double NormalUpper(double z) => 0.5 * SpecialFunctions.Erfc(z / Math.Sqrt(2.0));

    /// <summary>
    /// Two-sided Student t P = P(|T_ν| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, 1/2) (A&amp;S 26.7.1), which keeps relative
    /// accuracy for tiny P. |t| = ∞ gives 0; NaN gives NaN.
    /// </summary>
    /// <param name="t">The t statistic.</param>
    /// <param name="df">Degrees of freedom, &gt; 0.</param>
    /// <returns>The two-sided P-value.</returns>
    public static double StudentTwoSided(double t, double df)
    {
        if (double.IsNaN(t) || !(df > 0))
        {
            return double.NaN;
        }

        if (double.IsInfinity(t))
        {
            return 0.0;
        }

        var t2 = t * t;
        var x = df / (df + t2);
        return SpecialFunctions.BetaRegularized(df / 2.0, 0.5, x);
    }

    /// <summary>
    /// Upper F tail P(F_{d1,d2} ≥ f) = I_{d2/(d2+d1·f)}(d2/2, d1/2) (A&amp;S 26.6.2). f = ∞ gives 0.
    /// </summary>
    /// <param name="f">The F statistic (≥ 0).</param>
    /// <param name="df1">Numerator degrees of freedom.</param>
    /// <param name="df2">Denominator degrees of freedom.</param>
    /// <returns>The upper-tail probability.</returns>
    public static double FUpper(double f, double df1, double df2)
    {
        if (double.IsNaN(f) || !(df1 > 0) || !(df2 > 0))
        {
            return double.NaN;
        }

        if (double.IsPositiveInfinity(f))
        {
            return 0.0;
        }

        if (f <= 0)
        {
            return 1.0;
        }

        return SpecialFunctions.BetaRegularized(df2 / 2.0, df1 / 2.0, df2 / (df2 + (df1 * f)));
    }

    /// <summary>Upper χ² tail Q(df/2, x/2) (regularized upper incomplete gamma); for df = 1, erfc(√(x/2)).</summary>
    /// <param name="x">The χ² statistic (≥ 0).</param>
    /// <param name="df">Degrees of freedom, &gt; 0.</param>
    /// <returns>P(χ²_df ≥ x).</returns>
    public static double ChiSquareUpper(double x, double df)
    {
        if (double.IsNaN(x) || !(df > 0))
        {
            return double.NaN;
        }

        if (x <= 0)
        {
            return 1.0;
        }

        if (df == 1.0)
        {
            return SpecialFunctions.Erfc(Math.Sqrt(x / 2.0));
        }

        return SpecialFunctions.GammaUpperRegularized(df / 2.0, x / 2.0);
    }

    /// <summary>
    /// Student t quantile t_{p,ν}: MathNet's inverse CDF polished by Newton steps on the accurate tail
    /// (<see cref="StudentTwoSided"/>), so CI limits carry full double precision.
    /// </summary>
    /// <param name="p">Lower-tail probability in (0, 1).</param>
    /// <param name="df">Degrees of freedom, &gt; 0.</param>
    /// <returns>The quantile.</returns>
    public static double StudentQuantile(double p, double df)
    {
        if (!(p > 0 && p < 1) || !(df > 0))
        {
            return double.NaN;
        }

        // A pure function, asked again and again with the same (level, df) — every model of one estimation
        // sample — and costly (MathNet's inverse CDF is a root search): memoised, bounded.
        if (QuantileCache.TryGetValue((p, df), out var cached))
        {
            return cached;
        }

        var value = StudentQuantileCore(p, df);
        if (QuantileCache.Count >= 4096)
        {
            QuantileCache.Clear();
        }

        QuantileCache[(p, df)] = value;
        return value;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(double P, double Df), double> QuantileCache = new();

    private static double StudentQuantileCore(double p, double df)
    {
        if (p == 0.5)
        {
            return 0.0;
        }

        var upper = p > 0.5;
        var tail = upper ? 1.0 - p : p; // target one-sided tail mass
        var t = Math.Abs(StudentT.InvCDF(0.0, 1.0, df, tail));
        for (var i = 0; i < 8; i++)
        {
            var f = (0.5 * StudentTwoSided(t, df)) - tail;
            var density = StudentT.PDF(0.0, 1.0, df, t);
            if (!(density > 0))
            {
                break;
            }

            var step = f / density;
            t += step;
            if (Math.Abs(step) <= 1e-15 * Math.Abs(t))
            {
                break;
            }
        }

        return upper ? t : -t;
    }

    /// <summary>Standard normal quantile Φ⁻¹(p) (MathNet, ~1e-15 relative).</summary>
    /// <param name="p">Probability in (0, 1).</param>
    /// <returns>The quantile.</returns>
    public static double NormalQuantile(double p) => Normal.InvCDF(0.0, 1.0, p);
}
