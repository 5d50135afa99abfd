namespace HomaBone.Statistics;

/// <summary>Cuzick's trend statistic with its parts (Stata <c>nptrend</c> stored results r(T), r(z), r(p), r(N)).</summary>
/// <param name="N">Observations used (non-missing outcome and group).</param>
/// <param name="T">T = Σ lᵢRᵢ (group score × rank sum).</param>
/// <param name="ExpectedT">E(T) = (N + 1)L/2, L = Σ lᵢnᵢ.</param>
/// <param name="Variance">V = V₀·(1 − Σ(t³ − t)/(N³ − N)); null when not computable.</param>
/// <param name="Z">(T − E(T))/√V; null when not computable.</param>
/// <param name="P">Two-sided P = 2Φ(−|z|) = erfc(|z|/√2); null when not computable.</param>
/// <param name="NotComputableReason">Why z is undefined (V = 0), or null.</param>
public sealed record CuzickResult(long N, double T, double ExpectedT, double? Variance, double? Z, double? P, string? NotComputableReason)
{
    /// <summary>True when z is defined.</summary>
    public bool IsComputable => NotComputableReason is null;
}

/// <summary>
/// Cuzick's Wilcoxon-type test for trend across ordered groups (Cuzick J. Stat Med 1985;4:87–90), as Stata
/// <c>nptrend</c> (STB-9 snp4; STB-32 snp11): mid-ranks over all N, T = Σ lᵢRᵢ, E(T) = (N+1)L/2,
/// V₀ = (N+1)/12·(N Σlᵢ²nᵢ − L²), tie-corrected V = V₀(1 − Σ(t³−t)/(N³−N)) with tie blocks found by exact
/// equality on runs of the sorted outcome, z = (T − E(T))/√V, P two-sided normal, no continuity correction.
/// </summary>
public static class Cuzick
{
    /// <summary>
    /// Runs the test. Rows with NaN outcome or group are excluded. Scores default to the group values
    /// (Stata's default). Minimum: N ≥ 2, two non-empty groups with different scores and two distinct outcome
    /// values — otherwise V = 0 and the result is "not computable" with a reason.
    /// </summary>
    /// <param name="outcome">Outcome y.</param>
    /// <param name="group">Group value per row (e.g. quartile 1..4).</param>
    /// <param name="scores">Optional map group value → score lᵢ; null = the group value itself.</param>
    /// <returns>The statistic.</returns>
    public static CuzickResult Test(IReadOnlyList<double> outcome, IReadOnlyList<double> group, IReadOnlyDictionary<double, double>? scores = null)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(group);
        if (outcome.Count != group.Count)
        {
            throw new ArgumentException("outcome and group differ in length.", nameof(group));
        }

        var ys = new List<double>(outcome.Count);
        var ls = new List<double>(outcome.Count);
        for (var i = 0; i < outcome.Count; i++)
        {
            if (double.IsNaN(outcome[i]) || double.IsNaN(group[i]))
            {
                continue;
            }

            ys.Add(outcome[i]);
            ls.Add(scores is null ? group[i] : scores[group[i]]);
        }

        return FromScored(ys.ToArray(), ls.ToArray());
    }

    /// <summary>The statistic from complete (outcome, score) pairs.</summary>
    /// <param name="y">Outcomes (no NaN).</param>
    /// <param name="score">Score per row (no NaN).</param>
    /// <returns>The statistic.</returns>
    public static CuzickResult FromScored(double[] y, double[] score)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(score);
        var n = y.Length;
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var keys = (double[])y.Clone();
        Array.Sort(keys, order);

        // Twice the mid-ranks (integers) and Σ(t³ − t) from exact-equality runs of the sorted outcome.
        var twiceRank = new long[n];
        Int128 tieSum = 0;
        var start = 0;
        while (start < n)
        {
            var end = start + 1;
            while (end < n && keys[end] == keys[start])
            {
                end++;
            }

            long t = end - start;
            var twice = start + 1 + end; // 2 × mean of ranks start+1..end
            for (var k = start; k < end; k++)
            {
                twiceRank[order[k]] = twice;
            }

            tieSum += ((Int128)t * t * t) - t;
            start = end;
        }

        return Assemble(n, twiceRank, score, tieSum);
    }

    internal static CuzickResult Assemble(long n, long[] twiceRank, double[] score, Int128 tieSum)
    {
        var integerScores = score.All(s => s == Math.Round(s) && Math.Abs(s) < 1e6);
        double t;
        double diff; // T − E(T)
        var sumL = 0.0;
        double spread; // N Σ lᵢ²nᵢ − L² = N Σ nᵢ(lᵢ − l̄)²
        if (integerScores)
        {
            Int128 twiceT = 0;
            Int128 l = 0;
            Int128 l2 = 0;
            for (var i = 0; i < score.Length; i++)
            {
                var s = (long)score[i];
                twiceT += (Int128)s * twiceRank[i];
                l += s;
                l2 += (Int128)s * s;
            }

            t = (double)twiceT / 2.0;
            diff = (double)(twiceT - ((n + 1) * l)) / 2.0;
            sumL = (double)l;
            spread = (double)((n * l2) - (l * l));
        }
        else
        {
            var lBar = Summation.Mean(score);
            var acc = 0.0;
            var accT = 0.0;
            for (var i = 0; i < score.Length; i++)
            {
                acc += (score[i] - lBar) * ((twiceRank[i] - (n + 1)) / 2.0);
                accT += score[i] * twiceRank[i] / 2.0;
                sumL += score[i];
            }

            t = accT;
            diff = acc;
            spread = n * RunningMoments.FromValues(score).SumSquaredDeviations;
        }

        var expected = (n + 1) * sumL / 2.0;
        return Finish(n, t, expected, diff, spread, tieSum);
    }

    internal static CuzickResult Finish(long n, double t, double expected, double diff, double spread, Int128 tieSum)
    {
        if (n < 2)
        {
            return new CuzickResult(n, t, expected, null, null, null, "Fewer than two observations.");
        }

        // V₀ = (N+1)/12 · (N Σ lᵢ²nᵢ − L²).
        var v0 = (n + 1) / 12.0 * spread;
        var nCubed = ((Int128)n * n * n) - n;
        var factor = 1.0 - ((double)tieSum / (double)nCubed);
        if (tieSum == nCubed)
        {
            factor = 0.0;
        }

        var v = v0 * factor;
        if (!(v0 > 0))
        {
            return new CuzickResult(n, t, expected, null, null, null, "Fewer than two non-empty groups with distinct scores (V₀ = 0).");
        }

        if (!(v > 0))
        {
            return new CuzickResult(n, t, expected, null, null, null, "All outcome values are tied (V = 0).");
        }

        var z = diff / Math.Sqrt(v);
        return new CuzickResult(n, t, expected, v, z, Tails.NormalTwoSided(z), null);
    }
}
