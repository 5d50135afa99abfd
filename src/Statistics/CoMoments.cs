namespace HomaBone.Statistics;

/// <summary>
/// Mergeable multivariate co-moments of k variables: n, mean vector x̄ and C = Σ(x − x̄)(x − x̄)ᵀ.
/// add: n←n+1, δ = x − x̄, x̄ ← x̄ + δ/n, C ← C + δ(x − x̄_new)ᵀ (Welford 1962);
/// remove: δ = x − x̄, x̄ ← x̄ − δ/(n−1), C ← C − δ(x − x̄_new)ᵀ (its exact inverse, n ≥ 2);
/// merge: Δ = x̄_B − x̄_A, x̄ = x̄_A + Δ n_B/n, C = C_A + C_B + ΔΔᵀ n_A n_B/n (Chan, Golub &amp; LeVeque 1983;
/// Pébay 2008 SAND2008-6212). Means are kept relative to a shift (the first row), so large offsets cost no
/// digits. Rows must be complete (no NaN): keep one accumulator per missingness pattern / model.
/// Removing most rows loses digits (C shrinks while its rounding error does not): <see cref="LostDigits"/>
/// estimates log10(peak C_jj / C_jj) since the last rebuild; rebuild from rows when it exceeds ~2
/// (<see cref="CoMomentsStore"/> does this automatically).
/// Determinism: results depend on operation order at the ~1e-15 relative level (methods.md §6.6); rebuild
/// from rows in canonical (id) order for bit-reproducible snapshots.
/// </summary>
public sealed class CoMoments
{
    private readonly int _k;
    private readonly double[] _shift;
    private readonly double[] _mean;
    private readonly double[] _c;
    private readonly double[] _peak;
    private readonly double[] _delta;
    private long _n;

    /// <summary>Creates an empty accumulator of <paramref name="dimension"/> variables.</summary>
    /// <param name="dimension">k ≥ 1.</param>
    public CoMoments(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        _k = dimension;
        _shift = new double[dimension];
        _mean = new double[dimension];
        _c = new double[dimension * dimension];
        _peak = new double[dimension];
        _delta = new double[dimension];
    }

    /// <summary>Number of variables k.</summary>
    public int Dimension => _k;

    /// <summary>Number of rows n.</summary>
    public long Count => _n;

    /// <summary>Estimated decimal digits lost to cancellation by removals since the last rebuild: max_j log10(peak C_jj / C_jj).</summary>
    public double LostDigits
    {
        get
        {
            var lost = 0.0;
            for (var j = 0; j < _k; j++)
            {
                var cjj = _c[(j * _k) + j];
                if (_peak[j] > 0)
                {
                    lost = Math.Max(lost, cjj > 0 ? Math.Log10(_peak[j] / cjj) : 16.0);
                }
            }

            return lost;
        }
    }

    /// <summary>Batch twin: two-pass means then C = Σ(x − x̄)(x − x̄)ᵀ.</summary>
    /// <param name="dimension">k.</param>
    /// <param name="rows">Complete rows of length k.</param>
    /// <returns>The co-moments.</returns>
    public static CoMoments FromRows(int dimension, IEnumerable<double[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var result = new CoMoments(dimension);
        result.Rebuild(rows);
        return result;
    }

    /// <summary>Mean of variable j (NaN when n = 0).</summary>
    /// <param name="j">Variable index.</param>
    /// <returns>x̄_j.</returns>
    public double Mean(int j) => _n == 0 ? double.NaN : _shift[j] + _mean[j];

    /// <summary>C_ij = Σ(x_i − x̄_i)(x_j − x̄_j).</summary>
    /// <param name="i">Row.</param>
    /// <param name="j">Column.</param>
    /// <returns>The co-moment.</returns>
    public double Comoment(int i, int j) => _c[(i * _k) + j];

    /// <summary>Sample covariance C_ij/(n − 1); NaN when n &lt; 2.</summary>
    /// <param name="i">Row.</param>
    /// <param name="j">Column.</param>
    /// <returns>The covariance.</returns>
    public double Covariance(int i, int j) => _n < 2 ? double.NaN : _c[(i * _k) + j] / (_n - 1);

    /// <summary>Adds a row (Welford).</summary>
    /// <param name="x">Row of length k, no NaN.</param>
    public void Add(ReadOnlySpan<double> x)
    {
        CheckRow(x);
        if (_n == 0)
        {
            x.CopyTo(_shift);
            Array.Clear(_mean);
            Array.Clear(_c);
            Array.Clear(_peak);
            _n = 1;
            return;
        }

        _n++;
        var invN = 1.0 / _n;
        for (var j = 0; j < _k; j++)
        {
            _delta[j] = (x[j] - _shift[j]) - _mean[j];
            _mean[j] += _delta[j] * invN;
        }

        for (var i = 0; i < _k; i++)
        {
            var di = _delta[i];
            var row = i * _k;
            for (var j = 0; j < _k; j++)
            {
                _c[row + j] += di * ((x[j] - _shift[j]) - _mean[j]);
            }
        }

        TrackPeak();
    }

    /// <summary>Removes a row previously added (inverse Welford). Removing the last row empties the accumulator.</summary>
    /// <param name="x">The row.</param>
    /// <exception cref="InvalidOperationException">Empty accumulator.</exception>
    public void Remove(ReadOnlySpan<double> x)
    {
        CheckRow(x);
        if (_n == 0)
        {
            throw new InvalidOperationException("Cannot remove from empty co-moments.");
        }

        if (_n == 1)
        {
            Clear();
            return;
        }

        var inv = 1.0 / (_n - 1);
        for (var j = 0; j < _k; j++)
        {
            _delta[j] = (x[j] - _shift[j]) - _mean[j];
            _mean[j] -= _delta[j] * inv;
        }

        _n--;
        for (var i = 0; i < _k; i++)
        {
            var di = _delta[i];
            var row = i * _k;
            for (var j = 0; j < _k; j++)
            {
                _c[row + j] -= di * ((x[j] - _shift[j]) - _mean[j]);
            }
        }
    }

    /// <summary>Merges <paramref name="other"/> into this accumulator (Chan et al.).</summary>
    /// <param name="other">Accumulator of the same dimension (unchanged).</param>
    public void Merge(CoMoments other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._k != _k)
        {
            throw new ArgumentException("Dimension mismatch.", nameof(other));
        }

        if (other._n == 0)
        {
            return;
        }

        if (_n == 0)
        {
            Array.Copy(other._shift, _shift, _k);
            Array.Copy(other._mean, _mean, _k);
            Array.Copy(other._c, _c, _c.Length);
            Array.Copy(other._peak, _peak, _k);
            _n = other._n;
            return;
        }

        var n = _n + other._n;
        var f = (double)_n * other._n / n;
        for (var j = 0; j < _k; j++)
        {
            _delta[j] = ((other._shift[j] - _shift[j]) + other._mean[j]) - _mean[j];
        }

        for (var i = 0; i < _k; i++)
        {
            for (var j = 0; j < _k; j++)
            {
                _c[(i * _k) + j] += other._c[(i * _k) + j] + (_delta[i] * _delta[j] * f);
            }
        }

        for (var j = 0; j < _k; j++)
        {
            _mean[j] += _delta[j] * ((double)other._n / n);
        }

        _n = n;
        TrackPeak();
    }

    /// <summary>Copies the state.</summary>
    /// <returns>An independent copy.</returns>
    public CoMoments Clone()
    {
        var copy = new CoMoments(_k);
        copy.Merge(this);
        return copy;
    }

    /// <summary>Empties the accumulator.</summary>
    public void Clear()
    {
        _n = 0;
        Array.Clear(_mean);
        Array.Clear(_c);
        Array.Clear(_peak);
    }

    /// <summary>
    /// Replaces the state by the two-pass batch computation over <paramref name="rows"/> (mean with a
    /// compensated correction pass, then Σ(x − x̄)(x − x̄)ᵀ); resets <see cref="LostDigits"/>.
    /// </summary>
    /// <param name="rows">Complete rows.</param>
    public void Rebuild(IEnumerable<double[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var list = rows as IReadOnlyList<double[]> ?? rows.ToList();
        Clear();
        if (list.Count == 0)
        {
            return;
        }

        var col = new double[list.Count];
        for (var j = 0; j < _k; j++)
        {
            for (var r = 0; r < list.Count; r++)
            {
                col[r] = list[r][j];
            }

            _shift[j] = Summation.Mean(col);
            _mean[j] = 0.0;
        }

        for (var i = 0; i < _k; i++)
        {
            for (var j = i; j < _k; j++)
            {
                var s = 0.0;
                for (var r = 0; r < list.Count; r++)
                {
                    s += (list[r][i] - _shift[i]) * (list[r][j] - _shift[j]);
                }

                _c[(i * _k) + j] = s;
                _c[(j * _k) + i] = s;
            }
        }

        _n = list.Count;
        TrackPeak();
    }

    /// <summary>
    /// OLS of variable <paramref name="yIndex"/> on the subset <paramref name="xIndices"/> (with intercept)
    /// from the centered block of C: b = C_zz⁻¹c_zy by Cholesky of the correlation-scaled block,
    /// b₀ = ȳ − z̄ᵀb, RSS = c_yy − c_zyᵀb (loses log10(1/(1 − R²)) digits when R² → 1: use <see cref="Ols"/>
    /// on the rows when R² ≈ 1), Var(b) = σ̂²C_zz⁻¹, Var(b₀) = σ̂²(1/n + z̄ᵀC_zz⁻¹z̄) (methods.md §7.2).
    /// Rank: a Cholesky pivot of the correlation matrix below <see cref="OlsOptions.RankTolerance"/>² × 1e6
    /// (i.e. |R_jj| &lt; 1e-7 for the default; co-moments cannot resolve finer) throws
    /// <see cref="RankDeficientException"/>. Needs n &gt; |subset| + 1.
    /// </summary>
    /// <param name="yIndex">Response variable.</param>
    /// <param name="xIndices">Predictor variables.</param>
    /// <param name="names">Predictor names (null = "v{index}").</param>
    /// <param name="options">Options (Intercept must be true).</param>
    /// <returns>The fit, in the same shape as <see cref="Ols.Fit"/>.</returns>
    public OlsResult Regress(int yIndex, IReadOnlyList<int> xIndices, IReadOnlyList<string>? names = null, OlsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(xIndices);
        options ??= new OlsOptions();
        if (!options.Intercept)
        {
            throw new ArgumentException("Centered co-moments only give models with an intercept.", nameof(options));
        }

        var q = xIndices.Count;
        var p = q + 1;
        if (_n <= p)
        {
            throw new InvalidOperationException($"Need n > p (n = {_n}, p = {p}).");
        }

        var allNames = new string[p];
        allNames[0] = Ols.InterceptName;
        for (var j = 0; j < q; j++)
        {
            allNames[j + 1] = names?[j] ?? "v" + xIndices[j].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        // Correlation scaling: d_j = √C_jj.
        var d = new double[q];
        for (var j = 0; j < q; j++)
        {
            d[j] = Math.Sqrt(Comoment(xIndices[j], xIndices[j]));
            if (!(d[j] > 0))
            {
                throw new RankDeficientException(allNames[j + 1], j + 1, 0.0, options.RankTolerance);
            }
        }

        var a = new double[q * q];
        var rhs = new double[q];
        for (var i = 0; i < q; i++)
        {
            for (var j = 0; j < q; j++)
            {
                a[(i * q) + j] = Comoment(xIndices[i], xIndices[j]) / (d[i] * d[j]);
            }

            rhs[i] = Comoment(xIndices[i], yIndex) / d[i];
        }

        var pivotTolerance = Math.Max(options.RankTolerance * options.RankTolerance * 1e6, 1e-14);
        var l = Cholesky(a, q, allNames, pivotTolerance, options.RankTolerance);
        var inv = CholeskyInverse(l, q);
        var bScaled = new double[q];
        for (var i = 0; i < q; i++)
        {
            var s = 0.0;
            for (var j = 0; j < q; j++)
            {
                s += inv[(i * q) + j] * rhs[j];
            }

            bScaled[i] = s;
        }

        var beta = new double[p];
        var yBar = Mean(yIndex);
        var b0 = yBar;
        var explained = 0.0;
        for (var j = 0; j < q; j++)
        {
            beta[j + 1] = bScaled[j] / d[j];
            b0 -= Mean(xIndices[j]) * beta[j + 1];
            explained += rhs[j] * bScaled[j];
        }

        beta[0] = b0;
        var tss = Comoment(yIndex, yIndex);
        var rss = Math.Max(tss - explained, 0.0);
        var sigma2 = rss / (_n - p);
        var cov = new double[p, p];
        for (var i = 0; i < q; i++)
        {
            for (var j = 0; j < q; j++)
            {
                cov[i + 1, j + 1] = sigma2 * inv[(i * q) + j] / (d[i] * d[j]);
            }
        }

        var v00 = 1.0 / _n;
        for (var i = 0; i < q; i++)
        {
            var zi = Mean(xIndices[i]);
            var ci0 = 0.0;
            for (var j = 0; j < q; j++)
            {
                var zj = Mean(xIndices[j]);
                v00 += zi * zj * inv[(i * q) + j] / (d[i] * d[j]);
                ci0 -= inv[(i * q) + j] / (d[i] * d[j]) * zj;
            }

            cov[i + 1, 0] = sigma2 * ci0;
            cov[0, i + 1] = sigma2 * ci0;
        }

        cov[0, 0] = sigma2 * v00;
        var dfResid = (int)(_n - p);
        var tcrit = Tails.StudentQuantile(0.5 + (options.ConfidenceLevel / 2.0), dfResid);
        var sdY = Math.Sqrt(tss / (_n - 1));
        var coefficients = new OlsCoefficient[p];
        for (var j = 0; j < p; j++)
        {
            var se = Math.Sqrt(cov[j, j]);
            var t = beta[j] / se;
            double? standardized = j == 0 ? null : beta[j] * Math.Sqrt(Comoment(xIndices[j - 1], xIndices[j - 1]) / (_n - 1)) / sdY;
            coefficients[j] = new OlsCoefficient(allNames[j], beta[j], se, t, Tails.StudentTwoSided(t, dfResid), beta[j] - (tcrit * se), beta[j] + (tcrit * se), standardized);
        }

        return new OlsResult(coefficients, cov, (int)_n, 0, true, rss, tss, double.NaN);
    }

    private static double[] Cholesky(double[] a, int q, string[] names, double pivotTolerance, double reportedTolerance)
    {
        var l = new double[q * q];
        for (var j = 0; j < q; j++)
        {
            var s = a[(j * q) + j];
            for (var k = 0; k < j; k++)
            {
                s -= l[(j * q) + k] * l[(j * q) + k];
            }

            if (!(s > pivotTolerance))
            {
                throw new RankDeficientException(names[j + 1], j + 1, Math.Sqrt(Math.Max(s, 0)), Math.Max(reportedTolerance, Math.Sqrt(pivotTolerance)));
            }

            l[(j * q) + j] = Math.Sqrt(s);
            for (var i = j + 1; i < q; i++)
            {
                var t = a[(i * q) + j];
                for (var k = 0; k < j; k++)
                {
                    t -= l[(i * q) + k] * l[(j * q) + k];
                }

                l[(i * q) + j] = t / l[(j * q) + j];
            }
        }

        return l;
    }

    private static double[] CholeskyInverse(double[] l, int q)
    {
        // inv(A) = L⁻ᵀ L⁻¹.
        var li = new double[q * q];
        for (var j = 0; j < q; j++)
        {
            li[(j * q) + j] = 1.0 / l[(j * q) + j];
            for (var i = j + 1; i < q; i++)
            {
                var s = 0.0;
                for (var k = j; k < i; k++)
                {
                    s += l[(i * q) + k] * li[(k * q) + j];
                }

                li[(i * q) + j] = -s / l[(i * q) + i];
            }
        }

        var inv = new double[q * q];
        for (var i = 0; i < q; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var s = 0.0;
                for (var k = i; k < q; k++)
                {
                    s += li[(k * q) + i] * li[(k * q) + j];
                }

                inv[(i * q) + j] = s;
                inv[(j * q) + i] = s;
            }
        }

        return inv;
    }

    private void TrackPeak()
    {
        for (var j = 0; j < _k; j++)
        {
            _peak[j] = Math.Max(_peak[j], _c[(j * _k) + j]);
        }
    }

    private void CheckRow(ReadOnlySpan<double> x)
    {
        if (x.Length != _k)
        {
            throw new ArgumentException($"Row length {x.Length} differs from dimension {_k}.", nameof(x));
        }

        foreach (var v in x)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException("Rows must be complete and finite (no NaN).", nameof(x));
            }
        }
    }
}

/// <summary>
/// <see cref="CoMoments"/> plus the rows it was built from (keyed by participant id), rebuilding by the
/// two-pass batch formula in ascending id order when removals have cost more than
/// <see cref="MaxLostDigits"/> digits (default 2) — the "safety rebuild" of methods.md §7.1/§7.2.
/// </summary>
public sealed class CoMomentsStore
{
    private readonly SortedDictionary<long, double[]> _rows = [];

    /// <summary>Creates an empty store.</summary>
    /// <param name="dimension">Variables per row.</param>
    /// <param name="maxLostDigits">Rebuild threshold on <see cref="CoMoments.LostDigits"/>.</param>
    public CoMomentsStore(int dimension, double maxLostDigits = 2.0)
    {
        Moments = new CoMoments(dimension);
        MaxLostDigits = maxLostDigits;
    }

    /// <summary>The maintained co-moments.</summary>
    public CoMoments Moments { get; }

    /// <summary>Rebuild threshold in decimal digits.</summary>
    public double MaxLostDigits { get; }

    /// <summary>How many safety rebuilds have run.</summary>
    public int RebuildCount { get; private set; }

    /// <summary>Adds a row under a unique id.</summary>
    /// <param name="id">Participant id.</param>
    /// <param name="row">Complete row.</param>
    public void Add(long id, double[] row)
    {
        ArgumentNullException.ThrowIfNull(row);
        _rows.Add(id, (double[])row.Clone());
        Moments.Add(row);
    }

    /// <summary>Removes the row stored under <paramref name="id"/>; rebuilds if digits were lost.</summary>
    /// <param name="id">Participant id.</param>
    public void Remove(long id)
    {
        if (!_rows.Remove(id, out var row))
        {
            throw new KeyNotFoundException($"No row with id {id}.");
        }

        Moments.Remove(row);
        if (Moments.LostDigits > MaxLostDigits)
        {
            Moments.Rebuild(_rows.Values);
            RebuildCount++;
        }
    }
}
