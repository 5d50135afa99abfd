namespace HomaBone.Statistics;

/// <summary>Options of <see cref="Ols.Fit"/>.</summary>
public sealed record OlsOptions
{
    /// <summary>
    /// Default relative rank tolerance 1e-10 on |R_jj| / max|R_kk| of the column-scaled design. R's
    /// <c>lm</c> uses 1e-7 (dqrdc2, on unscaled columns) and wrongly declares NIST Filip rank deficient;
    /// Filip's smallest ratio here is ≈ 1e-8 while exactly collinear columns give ≈ 1e-16.
    /// </summary>
    public const double DefaultRankTolerance = 1e-10;

    /// <summary>Include an intercept column (named "(Intercept)"). Default true.</summary>
    public bool Intercept { get; init; } = true;

    /// <summary>Confidence level of the coefficient intervals. Default 0.95.</summary>
    public double ConfidenceLevel { get; init; } = 0.95;

    /// <summary>Relative rank tolerance; see <see cref="DefaultRankTolerance"/>.</summary>
    public double RankTolerance { get; init; } = DefaultRankTolerance;
}

/// <summary>One row of the coefficient table.</summary>
/// <param name="Name">Column name.</param>
/// <param name="Estimate">β̂.</param>
/// <param name="StandardError">σ̂·√[(XᵀX)⁻¹]ⱼⱼ.</param>
/// <param name="T">β̂/SE.</param>
/// <param name="P">Two-sided Student-t P with n − p df.</param>
/// <param name="Lower">β̂ − t_{(1+level)/2, n−p}·SE.</param>
/// <param name="Upper">β̂ + t_{(1+level)/2, n−p}·SE.</param>
/// <param name="Standardized">β̂·SD(x)/SD(y) on the estimation sample (Stata <c>regress, beta</c>); null for the intercept.</param>
public sealed record OlsCoefficient(string Name, double Estimate, double StandardError, double T, double P, double Lower, double Upper, double? Standardized);

/// <summary>Result of an OLS fit. Every quantity refers to the model's own complete-case estimation sample.</summary>
public sealed class OlsResult
{
    internal OlsResult(
        IReadOnlyList<OlsCoefficient> coefficients,
        double[,] covariance,
        int n,
        int droppedN,
        bool hasIntercept,
        double rss,
        double tss,
        double minRelativeDiagonal)
    {
        Coefficients = coefficients;
        _covariance = covariance;
        N = n;
        DroppedN = droppedN;
        HasIntercept = hasIntercept;
        ResidualSumOfSquares = rss;
        TotalSumOfSquares = tss;
        MinRelativeDiagonal = minRelativeDiagonal;
        var p = coefficients.Count;
        DfResidual = n - p;
        DfModel = hasIntercept ? p - 1 : p;
        ResidualStandardDeviation = Math.Sqrt(rss / DfResidual);
        RSquared = 1.0 - (rss / tss);
        AdjustedRSquared = 1.0 - ((1.0 - RSquared) * ((double)(n - (hasIntercept ? 1 : 0)) / DfResidual));
        if (DfModel > 0)
        {
            FStatistic = (tss - rss) / DfModel / (rss / DfResidual);
            FPValue = Tails.FUpper(FStatistic, DfModel, DfResidual);
        }
        else
        {
            FStatistic = double.NaN;
            FPValue = double.NaN;
        }
    }

    private readonly double[,] _covariance;

    /// <summary>Coefficient table in design order (intercept first when present).</summary>
    public IReadOnlyList<OlsCoefficient> Coefficients { get; }

    /// <summary>Number of rows used (complete cases).</summary>
    public int N { get; }

    /// <summary>Rows dropped by listwise deletion (a NaN in y or any column).</summary>
    public int DroppedN { get; }

    /// <summary>Whether the model has an intercept.</summary>
    public bool HasIntercept { get; }

    /// <summary>RSS = Σ rᵢ², computed from the residuals (compensated dot products).</summary>
    public double ResidualSumOfSquares { get; }

    /// <summary>TSS: Σ(y − ȳ)² with an intercept, Σy² (uncentered) without.</summary>
    public double TotalSumOfSquares { get; }

    /// <summary>n − p.</summary>
    public int DfResidual { get; }

    /// <summary>p − 1 with an intercept, p without.</summary>
    public int DfModel { get; }

    /// <summary>σ̂ = √(RSS/(n − p)).</summary>
    public double ResidualStandardDeviation { get; }

    /// <summary>1 − RSS/TSS (uncentered without intercept, as R's <c>summary.lm</c>).</summary>
    public double RSquared { get; }

    /// <summary>1 − (1 − R²)(n − i)/(n − p), i = 1 with intercept else 0 (R <c>summary.lm</c>).</summary>
    public double AdjustedRSquared { get; }

    /// <summary>F = ((TSS − RSS)/df_model)/(RSS/df_resid); NaN when df_model = 0.</summary>
    public double FStatistic { get; }

    /// <summary>Upper-tail P of F (regularized incomplete beta).</summary>
    public double FPValue { get; }

    /// <summary>Smallest |R_jj|/max|R_kk| of the scaled design: a conditioning diagnostic.</summary>
    public double MinRelativeDiagonal { get; }

    /// <summary>Estimated covariance σ̂²(XᵀX)⁻¹ entry (i, j), design order.</summary>
    /// <param name="i">Row.</param>
    /// <param name="j">Column.</param>
    /// <returns>The covariance.</returns>
    public double Covariance(int i, int j) => _covariance[i, j];

    /// <summary>Finds a coefficient by name (ordinal comparison).</summary>
    /// <param name="name">Column name.</param>
    /// <returns>The coefficient.</returns>
    /// <exception cref="KeyNotFoundException">No such column.</exception>
    public OlsCoefficient this[string name]
    {
        get
        {
            foreach (var c in Coefficients)
            {
                if (string.Equals(c.Name, name, StringComparison.Ordinal))
                {
                    return c;
                }
            }

            throw new KeyNotFoundException(name);
        }
    }
}

/// <summary>
/// Ordinary least squares by Householder QR of the column-scaled design (never an explicit inverse of raw
/// XᵀX). β = R⁻¹Qᵀy; SE_j = σ̂‖row j of R⁻¹‖/scale_j; σ̂² = RSS/(n − p) with RSS from the residuals;
/// P from Student t via the regularized incomplete beta. Listwise deletion of rows with a NaN in y or any
/// column. Reference behaviour: R <c>lm()</c> + <c>summary()</c>; accuracy certified against NIST StRD
/// (Norris, Pontius, NoInt1/2, Longley LRE ≥ 9; Wampler1–5 ≥ 6; Filip ≥ 7).
/// </summary>
public static class Ols
{
    /// <summary>The name given to the intercept column.</summary>
    public const string InterceptName = "(Intercept)";

    /// <summary>
    /// Fits y on the given columns. Minimum n: complete cases &gt; p (p counts the intercept).
    /// </summary>
    /// <param name="y">Outcome; NaN = missing.</param>
    /// <param name="columns">Predictor columns (each of y's length); NaN = missing.</param>
    /// <param name="names">Predictor names (same count as columns).</param>
    /// <param name="options">Options; null = defaults (intercept, 95 % CI, tolerance 1e-10).</param>
    /// <returns>The fit.</returns>
    /// <exception cref="ArgumentException">Lengths disagree, or n ≤ p after deletion, or an infinite value.</exception>
    /// <exception cref="RankDeficientException">A column is collinear with earlier ones (named).</exception>
    public static OlsResult Fit(IReadOnlyList<double> y, IReadOnlyList<IReadOnlyList<double>> columns, IReadOnlyList<string> names, OlsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(names);
        options ??= new OlsOptions();
        if (columns.Count != names.Count)
        {
            throw new ArgumentException("columns and names differ in count.", nameof(names));
        }

        var rows = new List<int>(y.Count);
        for (var i = 0; i < y.Count; i++)
        {
            var complete = !double.IsNaN(y[i]);
            for (var j = 0; complete && j < columns.Count; j++)
            {
                if (columns[j].Count != y.Count)
                {
                    throw new ArgumentException($"Column '{names[j]}' has a different length from y.", nameof(columns));
                }

                complete = !double.IsNaN(columns[j][i]);
            }

            if (complete)
            {
                rows.Add(i);
            }
        }

        var n = rows.Count;
        var offset = options.Intercept ? 1 : 0;
        var p = columns.Count + offset;
        if (n <= p)
        {
            throw new ArgumentException($"Need more complete cases than parameters (n = {n}, p = {p}).", nameof(y));
        }

        var design = new double[p][];
        var allNames = new string[p];
        if (options.Intercept)
        {
            design[0] = new double[n];
            Array.Fill(design[0], 1.0);
            allNames[0] = InterceptName;
        }

        for (var j = 0; j < columns.Count; j++)
        {
            var col = new double[n];
            var src = columns[j];
            for (var r = 0; r < n; r++)
            {
                col[r] = src[rows[r]];
                if (double.IsInfinity(col[r]))
                {
                    throw new ArgumentException($"Column '{names[j]}' contains an infinite value.", nameof(columns));
                }
            }

            design[j + offset] = col;
            allNames[j + offset] = names[j];
        }

        var yy = new double[n];
        for (var r = 0; r < n; r++)
        {
            yy[r] = y[rows[r]];
            if (double.IsInfinity(yy[r]))
            {
                throw new ArgumentException("y contains an infinite value.", nameof(y));
            }
        }

        return FitComplete(yy, design, allNames, options, y.Count - n);
    }

    internal static OlsResult FitComplete(double[] y, double[][] design, string[] names, OlsOptions options, int droppedN)
    {
        var n = y.Length;
        var p = design.Length;
        var qr = new HouseholderQr(design, y, names, options.RankTolerance);
        var beta = qr.Solve();

        // RSS from residuals with compensated dot products (Ogita, Rump & Oishi 2005, Dot2).
        var residuals = new double[n];
        for (var i = 0; i < n; i++)
        {
            residuals[i] = Dot2Residual(y[i], design, beta, i);
        }

        var rss = SumOfSquares(residuals);
        double tss;
        var yMoments = RunningMoments.FromValues(y);
        if (options.Intercept)
        {
            tss = yMoments.SumSquaredDeviations;
        }
        else
        {
            tss = SumOfSquares(y);
        }

        var dfResid = n - p;
        var sigma2 = rss / dfResid;
        var unscaled = qr.UnscaledCovariance();
        var cov = new double[p, p];
        for (var i = 0; i < p; i++)
        {
            for (var j = 0; j < p; j++)
            {
                cov[i, j] = sigma2 * unscaled[i, j];
            }
        }

        var tcrit = Tails.StudentQuantile(0.5 + (options.ConfidenceLevel / 2.0), dfResid);
        var sdY = yMoments.StandardDeviation;
        var coefficients = new OlsCoefficient[p];
        for (var j = 0; j < p; j++)
        {
            var se = Math.Sqrt(sigma2) * Math.Sqrt(unscaled[j, j]);
            var t = beta[j] / se;
            double? standardized = null;
            if (!(options.Intercept && j == 0))
            {
                var sdX = RunningMoments.FromValues(design[j]).StandardDeviation;
                standardized = beta[j] * sdX / sdY;
            }

            coefficients[j] = new OlsCoefficient(
                names[j],
                beta[j],
                se,
                t,
                Tails.StudentTwoSided(t, dfResid),
                beta[j] - (tcrit * se),
                beta[j] + (tcrit * se),
                standardized);
        }

        return new OlsResult(coefficients, cov, n, droppedN, options.Intercept, rss, tss, qr.MinRelativeDiagonal);
    }

    private static double SumOfSquares(ReadOnlySpan<double> values)
    {
        var sq = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            sq[i] = values[i] * values[i];
        }

        return Summation.Neumaier(sq);
    }

    /// <summary>y − Σ xⱼβⱼ with error-free products (FMA) and compensated summation.</summary>
    private static double Dot2Residual(double y, double[][] design, double[] beta, int row)
    {
        var s = y;
        var c = 0.0;
        for (var j = 0; j < beta.Length; j++)
        {
            var prod = -design[j][row] * beta[j];
            var prodErr = Math.FusedMultiplyAdd(-design[j][row], beta[j], -prod);
            var t = s + prod;
            var z = t - s;
            c += (s - (t - z)) + (prod - z) + prodErr;
            s = t;
        }

        return s + c;
    }
}
