namespace HomaBone.Statistics;

/// <summary>
/// Result of a hypothesis test. When the statistic is undefined (a zero variance, too few groups) the
/// numeric fields are null and <see cref="NotComputableReason"/> says why — never NaN or ±∞.
/// </summary>
/// <param name="Method">Test name, e.g. "Cochran–Armitage (N variance)".</param>
/// <param name="N">Observations used.</param>
/// <param name="Z">Signed normal deviate, when the test has one.</param>
/// <param name="ChiSquare">χ² statistic (z² for 1-df tests).</param>
/// <param name="DegreesOfFreedom">χ² degrees of freedom.</param>
/// <param name="P">Two-sided P-value.</param>
/// <param name="NotComputableReason">Why the test is undefined, or null.</param>
public sealed record TestResult(string Method, long N, double? Z, double? ChiSquare, double DegreesOfFreedom, double? P, string? NotComputableReason)
{
    /// <summary>True when the statistic is defined.</summary>
    public bool IsComputable => NotComputableReason is null;

    internal static TestResult NotComputable(string method, long n, double df, string reason) => new(method, n, null, null, df, null, reason);

    internal static TestResult FromZ(string method, long n, double z) => new(method, n, z, z * z, 1, Tails.NormalTwoSided(z), null);
}
