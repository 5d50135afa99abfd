namespace HomaBone.Statistics;

/// <summary>
/// An updatable least-squares factor: upper-triangular R (p × p), z = Qᵀy and ρ = √RSS, maintained row by
/// row. Add: p Givens rotations of the augmented row [x, y] into [R z] (Gentleman 1974 AS 75; Miller 1992
/// AS 274, as in R <c>biglm</c>). Remove: LINPACK <c>dchdd</c> downdating (Saunders; Stewart 1979 J Inst
/// Math Appl 23:203): solve Rᵀa = x, α² = 1 − ‖a‖², rotations from the bottom, ρ ← ρ√(1 − (ζ/ρ)²).
/// Downdating is only conditionally stable (error ~ 1/α²; Bojanczyk et al. 1987), so the factor is
/// rebuilt from the stored rows (ascending id order — deterministic) when α² &lt; <see cref="AlphaSquaredThreshold"/>,
/// when ρ cannot be downdated, or after <see cref="RebuildAfterRemovals"/> removals. Rows are stored
/// internally unless a row source is supplied (then the caller owns the rows and must return the current
/// set, after the removal, when asked). The design is whatever the caller passes: include a leading 1 for
/// an intercept.
/// </summary>
public sealed class UpdatableQr
{
    private readonly int _p;
    private readonly double[,] _r;
    private readonly double[] _z;
    private readonly double[] _work;
    private readonly double[] _c;
    private readonly double[] _s;
    private readonly SortedDictionary<long, (double[] X, double Y)>? _rows;
    private readonly Func<IEnumerable<(double[] X, double Y)>>? _rowSource;
    private double _rho;
    private int _removalsSinceRebuild;

    /// <summary>Creates an empty factor.</summary>
    /// <param name="parameters">p, the design width (including any intercept column).</param>
    /// <param name="rebuildAfterRemovals">K: rebuild after this many removals since the last rebuild.</param>
    /// <param name="alphaSquaredThreshold">Rebuild when α² = 1 − ‖R⁻ᵀx‖² falls below this (default 1e-8).</param>
    /// <param name="rowSource">Optional caller-owned row set used for rebuilds; null = store rows internally.</param>
    public UpdatableQr(int parameters, int rebuildAfterRemovals = 1000, double alphaSquaredThreshold = 1e-8, Func<IEnumerable<(double[] X, double Y)>>? rowSource = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parameters, 1);
        _p = parameters;
        _r = new double[parameters, parameters];
        _z = new double[parameters];
        _work = new double[parameters];
        _c = new double[parameters];
        _s = new double[parameters];
        RebuildAfterRemovals = rebuildAfterRemovals;
        AlphaSquaredThreshold = alphaSquaredThreshold;
        _rowSource = rowSource;
        _rows = rowSource is null ? [] : null;
    }

    /// <summary>Design width p.</summary>
    public int Parameters => _p;

    /// <summary>Rows currently in the factor.</summary>
    public long Count { get; private set; }

    /// <summary>K of the periodic rebuild.</summary>
    public int RebuildAfterRemovals { get; }

    /// <summary>α² threshold of the safety rebuild.</summary>
    public double AlphaSquaredThreshold { get; }

    /// <summary>Number of rebuilds performed.</summary>
    public int RebuildCount { get; private set; }

    /// <summary>Current residual sum of squares ρ².</summary>
    public double ResidualSumOfSquares => _rho * _rho;

    /// <summary>Adds a row.</summary>
    /// <param name="id">Unique row id (used for internal storage and canonical rebuild order).</param>
    /// <param name="x">Design row of length p.</param>
    /// <param name="y">Response.</param>
    public void Add(long id, ReadOnlySpan<double> x, double y)
    {
        Check(x, y);
        _rows?.Add(id, (x.ToArray(), y));
        AddRow(x, y);
        Count++;
    }

    /// <summary>Removes a row previously added under <paramref name="id"/> (internal storage).</summary>
    /// <param name="id">Row id.</param>
    public void Remove(long id)
    {
        if (_rows is null)
        {
            throw new InvalidOperationException("Rows are caller-owned: use Remove(id, x, y).");
        }

        if (!_rows.Remove(id, out var row))
        {
            throw new KeyNotFoundException($"No row with id {id}.");
        }

        Downdate(row.X, row.Y);
    }

    /// <summary>Removes a row given its values (caller-owned rows: the row source must already exclude it).</summary>
    /// <param name="id">Row id (removed from internal storage if present).</param>
    /// <param name="x">Design row.</param>
    /// <param name="y">Response.</param>
    public void Remove(long id, ReadOnlySpan<double> x, double y)
    {
        Check(x, y);
        _rows?.Remove(id);
        Downdate(x, y);
    }

    /// <summary>Refactors from the rows (internal store in id order, or the row source).</summary>
    public void Rebuild()
    {
        Array.Clear(_r);
        Array.Clear(_z);
        _rho = 0;
        IEnumerable<(double[] X, double Y)> rows = _rows is not null ? _rows.Values : _rowSource!();
        long count = 0;
        foreach (var (x, y) in rows)
        {
            AddRow(x, y);
            count++;
        }

        Count = count;
        _removalsSinceRebuild = 0;
        RebuildCount++;
    }

    /// <summary>β = R⁻¹z by back-substitution.</summary>
    /// <returns>Coefficients in design order.</returns>
    public double[] Coefficients() => HouseholderQr.BackSubstitute(_r, _z, _p);

    /// <summary>
    /// The OLS fit of the full design or of a column subset: R[:, S] is re-triangularised by Givens
    /// rotations applied to z as well; β_S from the top |S| rows, RSS_S = ρ² + ‖z_rot[|S|:]‖² (methods.md §7.2).
    /// TSS and standardized β use the same trick with S = {intercept}, S = {intercept, j}.
    /// </summary>
    /// <param name="columns">Design columns S (ascending not required); null = all.</param>
    /// <param name="names">Names of the selected columns.</param>
    /// <param name="interceptColumn">Index of the all-ones column, or null for a model without intercept.</param>
    /// <param name="options">Confidence level and rank tolerance (Intercept is taken from interceptColumn).</param>
    /// <returns>The fit.</returns>
    /// <exception cref="RankDeficientException">A selected column is collinear (relative to the largest |R_jj|).</exception>
    public OlsResult Fit(IReadOnlyList<int>? columns, IReadOnlyList<string> names, int? interceptColumn = 0, OlsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(names);
        options ??= new OlsOptions();
        var cols = columns?.ToArray() ?? Enumerable.Range(0, _p).ToArray();
        var q = cols.Length;
        if (Count <= q)
        {
            throw new InvalidOperationException($"Need n > p (n = {Count}, p = {q}).");
        }

        var (rs, zs, rss) = SubFactor(cols);

        // Relative rank test on the column-scaled factor: |R_jj|/‖R[:,j]‖.
        var rel = new double[q];
        var maxRel = 0.0;
        for (var j = 0; j < q; j++)
        {
            var norm = 0.0;
            for (var i = 0; i <= j; i++)
            {
                norm += rs[i, j] * rs[i, j];
            }

            rel[j] = norm > 0 ? Math.Abs(rs[j, j]) / Math.Sqrt(norm) : 0.0;
            maxRel = Math.Max(maxRel, rel[j]);
        }

        for (var j = 0; j < q; j++)
        {
            var ratio = maxRel > 0 ? rel[j] / maxRel : 0.0;
            if (!(ratio >= options.RankTolerance))
            {
                throw new RankDeficientException(names[j], j, ratio, options.RankTolerance);
            }
        }

        var beta = HouseholderQr.BackSubstitute(rs, zs, q);
        var rinv = HouseholderQr.InvertUpper(rs, q);
        var n = (int)Count;
        var dfResid = n - q;
        var sigma2 = rss / dfResid;
        var cov = new double[q, q];
        for (var i = 0; i < q; i++)
        {
            for (var j = 0; j < q; j++)
            {
                var s = 0.0;
                for (var k = Math.Max(i, j); k < q; k++)
                {
                    s += rinv[i, k] * rinv[j, k];
                }

                cov[i, j] = sigma2 * s;
            }
        }

        var hasIntercept = interceptColumn is not null && Array.IndexOf(cols, interceptColumn.Value) >= 0;
        double tss;
        double sdY;
        if (hasIntercept)
        {
            tss = SubFactor([interceptColumn!.Value]).Rss;
            sdY = Math.Sqrt(tss / (n - 1));
        }
        else
        {
            tss = 0;
            for (var i = 0; i < _p; i++)
            {
                tss += _z[i] * _z[i];
            }

            tss += _rho * _rho;
            sdY = double.NaN;
            if (interceptColumn is not null)
            {
                sdY = Math.Sqrt(SubFactor([interceptColumn.Value]).Rss / (n - 1));
            }
        }

        var tcrit = Tails.StudentQuantile(0.5 + (options.ConfidenceLevel / 2.0), dfResid);
        var coefficients = new OlsCoefficient[q];
        for (var j = 0; j < q; j++)
        {
            var se = Math.Sqrt(cov[j, j]);
            var t = beta[j] / se;
            double? standardized = null;
            if (interceptColumn is not null && cols[j] != interceptColumn.Value)
            {
                // SS of column j about its mean = R_S[1,1]² for S = {intercept, j}.
                var (r2, _, _) = SubFactor([interceptColumn.Value, cols[j]]);
                var sdX = Math.Abs(r2[1, 1]) / Math.Sqrt(n - 1);
                standardized = beta[j] * sdX / sdY;
            }

            coefficients[j] = new OlsCoefficient(names[j], beta[j], se, t, Tails.StudentTwoSided(t, dfResid), beta[j] - (tcrit * se), beta[j] + (tcrit * se), standardized);
        }

        return new OlsResult(coefficients, cov, n, 0, hasIntercept, rss, tss, maxRel > 0 ? rel.Min() / maxRel : 0.0);
    }

    private (double[,] R, double[] Z, double Rss) SubFactor(int[] cols)
    {
        var q = cols.Length;
        var a = new double[_p, q];
        for (var i = 0; i < _p; i++)
        {
            for (var j = 0; j < q; j++)
            {
                a[i, j] = _r[i, cols[j]];
            }
        }

        var z = (double[])_z.Clone();
        for (var j = 0; j < q; j++)
        {
            for (var i = _p - 1; i > j; i--)
            {
                var b = a[i, j];
                if (b == 0)
                {
                    continue;
                }

                var top = a[i - 1, j];
                var h = Hypot(top, b);
                var c = top / h;
                var s = b / h;
                for (var k = j; k < q; k++)
                {
                    var u = a[i - 1, k];
                    var v = a[i, k];
                    a[i - 1, k] = (c * u) + (s * v);
                    a[i, k] = (-s * u) + (c * v);
                }

                var zu = z[i - 1];
                var zv = z[i];
                z[i - 1] = (c * zu) + (s * zv);
                z[i] = (-s * zu) + (c * zv);
            }
        }

        var rs = new double[q, q];
        for (var i = 0; i < q; i++)
        {
            for (var j = i; j < q; j++)
            {
                rs[i, j] = a[i, j];
            }
        }

        var rss = _rho * _rho;
        for (var i = q; i < _p; i++)
        {
            rss += z[i] * z[i];
        }

        return (rs, z[..q], rss);
    }

    private void AddRow(ReadOnlySpan<double> x, double y)
    {
        x.CopyTo(_work);
        var yv = y;
        for (var k = 0; k < _p; k++)
        {
            var xk = _work[k];
            if (xk == 0)
            {
                continue;
            }

            var rkk = _r[k, k];
            var h = Hypot(rkk, xk);
            var c = rkk / h;
            var s = xk / h;
            _r[k, k] = h;
            for (var j = k + 1; j < _p; j++)
            {
                var rv = _r[k, j];
                var xv = _work[j];
                _r[k, j] = (c * rv) + (s * xv);
                _work[j] = (-s * rv) + (c * xv);
            }

            var zk = _z[k];
            _z[k] = (c * zk) + (s * yv);
            yv = (-s * zk) + (c * yv);
        }

        _rho = Hypot(_rho, yv);
    }

    private void Downdate(ReadOnlySpan<double> x, double y)
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("Cannot remove from an empty factor.");
        }

        Count--;
        _removalsSinceRebuild++;
        if (_removalsSinceRebuild >= RebuildAfterRemovals || Count <= _p)
        {
            Rebuild();
            return;
        }

        // Solve Rᵀa = x (forward substitution); a singular R cannot be downdated.
        var a = _s;
        for (var i = 0; i < _p; i++)
        {
            if (_r[i, i] == 0)
            {
                Rebuild();
                return;
            }

            var t = x[i];
            for (var k = 0; k < i; k++)
            {
                t -= _r[k, i] * a[k];
            }

            a[i] = t / _r[i, i];
        }

        var norm2 = 0.0;
        for (var i = 0; i < _p; i++)
        {
            norm2 += a[i] * a[i];
        }

        var alpha2 = 1.0 - norm2;
        if (!(alpha2 >= AlphaSquaredThreshold))
        {
            Rebuild();
            return;
        }

        // dchdd: transformations from the bottom.
        var alpha = Math.Sqrt(alpha2);
        for (var i = _p - 1; i >= 0; i--)
        {
            var scale = alpha + Math.Abs(a[i]);
            var aa = alpha / scale;
            var bb = a[i] / scale;
            var norm = Math.Sqrt((aa * aa) + (bb * bb));
            _c[i] = aa / norm;
            a[i] = bb / norm;
            alpha = scale * norm;
        }

        for (var j = 0; j < _p; j++)
        {
            var xx = 0.0;
            for (var i = j; i >= 0; i--)
            {
                var t = (_c[i] * xx) + (a[i] * _r[i, j]);
                _r[i, j] = (_c[i] * _r[i, j]) - (a[i] * xx);
                xx = t;
            }
        }

        var zeta = y;
        for (var i = 0; i < _p; i++)
        {
            _z[i] = (_z[i] - (a[i] * zeta)) / _c[i];
            zeta = (_c[i] * zeta) - (a[i] * _z[i]);
        }

        var azeta = Math.Abs(zeta);
        if (azeta > _rho)
        {
            Rebuild();
            return;
        }

        var ratio = _rho > 0 ? azeta / _rho : 0.0;
        _rho *= Math.Sqrt(Math.Max(0.0, 1.0 - (ratio * ratio)));
    }

    private static double Hypot(double a, double b)
    {
        var aa = Math.Abs(a);
        var ab = Math.Abs(b);
        if (aa < ab)
        {
            (aa, ab) = (ab, aa);
        }

        if (aa == 0)
        {
            return 0;
        }

        var r = ab / aa;
        return aa * Math.Sqrt(1 + (r * r));
    }

    private void Check(ReadOnlySpan<double> x, double y)
    {
        if (x.Length != _p)
        {
            throw new ArgumentException($"Row length {x.Length} differs from p = {_p}.", nameof(x));
        }

        if (!double.IsFinite(y))
        {
            throw new ArgumentException("y must be finite.", nameof(y));
        }

        foreach (var v in x)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException("Rows must be complete and finite.", nameof(x));
            }
        }
    }
}
