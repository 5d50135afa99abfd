namespace HomaBone.Statistics;

/// <summary>Which null variance the Cochran–Armitage statistic uses.</summary>
public enum CochranArmitageVariance
{
    /// <summary>
    /// Var_CA = p̄(1 − p̄) Σ nᵢ(sᵢ − s̄)² (binomial, denominator N): Armitage (1955) Biometrics 11:375, R
    /// <c>prop.trend.test</c>, Stata 17 <c>nptrend …, carmitage</c>, SAS PROC FREQ TREND.
    /// </summary>
    Binomial = 0,

    /// <summary>
    /// Var_MH = Var_CA·N/(N − 1) (permutation / hypergeometric): Mantel (1963), Agresti CDA M² = (N − 1)r²,
    /// Stata ≤ 16 <c>nptrend</c> on a 0/1 outcome, SAS CMH row-mean scores.
    /// </summary>
    Permutation = 1,
}

/// <summary>
/// Cochran–Armitage test for trend in proportions across ordered groups (Cochran 1954 Biometrics 10:417;
/// Armitage 1955 Biometrics 11:375): T = Σ yᵢ(sᵢ − s̄), s̄ = Σnᵢsᵢ/N, z = T/√Var, P = 2Φ(−|z|), X² = z².
/// </summary>
public static class CochranArmitage
{
    /// <summary>
    /// Test from a k-group table. Groups with nᵢ = 0 contribute nothing. Not computable (with a reason) when
    /// N &lt; 2, p̄ ∈ {0, 1}, or all non-empty groups share one score.
    /// </summary>
    /// <param name="events">Events yᵢ per group.</param>
    /// <param name="totals">Group sizes nᵢ.</param>
    /// <param name="scores">Group scores sᵢ.</param>
    /// <param name="variance">Variance convention (explicit; see <see cref="CochranArmitageVariance"/>).</param>
    /// <returns>z, X², P.</returns>
    public static TestResult Test(IReadOnlyList<long> events, IReadOnlyList<long> totals, IReadOnlyList<double> scores, CochranArmitageVariance variance)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(totals);
        ArgumentNullException.ThrowIfNull(scores);
        if (events.Count != totals.Count || scores.Count != totals.Count)
        {
            throw new ArgumentException("events, totals and scores differ in length.", nameof(scores));
        }

        var method = variance == CochranArmitageVariance.Binomial ? "Cochran–Armitage (N variance)" : "Cochran–Armitage (N − 1 variance)";
        long n = 0;
        long y = 0;
        for (var i = 0; i < totals.Count; i++)
        {
            if (events[i] < 0 || events[i] > totals[i])
            {
                throw new ArgumentOutOfRangeException(nameof(events), "Need 0 ≤ events ≤ totals.");
            }

            n += totals[i];
            y += events[i];
        }

        if (n < 2)
        {
            return TestResult.NotComputable(method, n, 1, "Fewer than two observations.");
        }

        var sBar = 0.0;
        for (var i = 0; i < totals.Count; i++)
        {
            sBar += totals[i] * scores[i];
        }

        sBar /= n;
        var t = 0.0;
        var ss = 0.0;
        for (var i = 0; i < totals.Count; i++)
        {
            if (totals[i] == 0)
            {
                continue;
            }

            var d = scores[i] - sBar;
            t += events[i] * d;
            ss += totals[i] * d * d;
        }

        if (y == 0 || y == n)
        {
            return TestResult.NotComputable(method, n, 1, "All outcomes equal (p̄ = 0 or 1): variance 0.");
        }

        if (!(ss > 0))
        {
            return TestResult.NotComputable(method, n, 1, "Fewer than two non-empty groups with distinct scores.");
        }

        var pBar = (double)y / n;
        var v = pBar * (1 - pBar) * ss;
        if (variance == CochranArmitageVariance.Permutation)
        {
            v = v * n / (n - 1);
        }

        return TestResult.FromZ(method, n, t / Math.Sqrt(v));
    }

    /// <summary>
    /// Test from individual rows: a 0/1 outcome and a group score per row (NaN in either = missing; each
    /// distinct score forms a group).
    /// </summary>
    /// <param name="outcome">0/1 outcome.</param>
    /// <param name="score">Group score per row.</param>
    /// <param name="variance">Variance convention.</param>
    /// <returns>z, X², P.</returns>
    public static TestResult FromObservations(IReadOnlyList<double> outcome, IReadOnlyList<double> score, CochranArmitageVariance variance)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(score);
        var table = new SortedDictionary<double, (long Events, long Total)>();
        for (var i = 0; i < outcome.Count; i++)
        {
            if (double.IsNaN(outcome[i]) || double.IsNaN(score[i]))
            {
                continue;
            }

            if (outcome[i] is not (0.0 or 1.0))
            {
                throw new ArgumentException("Outcome must be 0 or 1.", nameof(outcome));
            }

            table.TryGetValue(score[i], out var cell);
            table[score[i]] = (cell.Events + (outcome[i] == 1.0 ? 1 : 0), cell.Total + 1);
        }

        return Test(
            table.Values.Select(c => c.Events).ToArray(),
            table.Values.Select(c => c.Total).ToArray(),
            table.Keys.ToArray(),
            variance);
    }
}
