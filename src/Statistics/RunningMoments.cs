namespace HomaBone.Statistics;

/// <summary>
/// Mergeable first and second moments (n, mean, M2 = Σ(x − x̄)²) of one variable.
/// Add: Welford (1962) Technometrics 4:419; remove: its exact algebraic inverse; merge: Chan, Golub &amp;
/// LeVeque (1983) Am Stat 37:242 (pairwise update). The mean is kept relative to a shift K (the first value
/// seen), so data with a large offset (e.g. 1e8 + small spread) lose no digits in x − x̄ (Sterbenz).
/// Never uses Σx² − n·x̄². Value semantics: a struct; copy freely. NaN values are ignored (missing).
/// </summary>
public struct RunningMoments : IEquatable<RunningMoments>
{
    private long _n;
    private double _shift;
    private double _meanShifted;
    private double _m2;

    /// <summary>Number of non-missing values added (minus removed).</summary>
    public readonly long Count => _n;

    /// <summary>Arithmetic mean; NaN when n = 0.</summary>
    public readonly double Mean => _n == 0 ? double.NaN : _shift + _meanShifted;

    /// <summary>Sum of squared deviations from the mean, M2 = Σ(x − x̄)² (≥ 0; clamped at 0 against rounding).</summary>
    public readonly double SumSquaredDeviations => _n == 0 ? 0.0 : Math.Max(_m2, 0.0);

    /// <summary>Sample variance M2/(n − 1) (unbiased); NaN when n &lt; 2.</summary>
    public readonly double Variance => _n < 2 ? double.NaN : SumSquaredDeviations / (_n - 1);

    /// <summary>Sample standard deviation √(M2/(n − 1)); NaN when n &lt; 2.</summary>
    public readonly double StandardDeviation => Math.Sqrt(Variance);

    /// <summary>Builds the moments of a sample in two passes (mean, then Σ(x−x̄)²) — the batch twin of <see cref="Add"/>.</summary>
    /// <param name="values">Sample; NaN ignored.</param>
    /// <returns>The moments.</returns>
    public static RunningMoments FromValues(ReadOnlySpan<double> values)
    {
        var buffer = new List<double>(values.Length);
        foreach (var v in values)
        {
            if (!double.IsNaN(v))
            {
                buffer.Add(v);
            }
        }

        var result = default(RunningMoments);
        if (buffer.Count == 0)
        {
            return result;
        }

        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(buffer);
        var mean = Summation.Mean(span);
        result._n = buffer.Count;
        result._shift = mean;
        result._meanShifted = 0.0;
        result._m2 = Summation.SumSquaredDeviations(span, mean);
        return result;
    }

    /// <summary>Adds one value (Welford). NaN is ignored.</summary>
    /// <param name="x">The value.</param>
    public void Add(double x)
    {
        if (double.IsNaN(x))
        {
            return;
        }

        if (_n == 0)
        {
            _n = 1;
            _shift = x;
            _meanShifted = 0.0;
            _m2 = 0.0;
            return;
        }

        var xs = x - _shift;
        _n++;
        var delta = xs - _meanShifted;
        _meanShifted += delta / _n;
        _m2 += delta * (xs - _meanShifted);
    }

    /// <summary>
    /// Removes one value previously added (inverse Welford step: x̄ ← x̄ − δ/(n−1), M2 ← M2 − δ(x − x̄_new)).
    /// Removing the last value resets to empty. The caller must only remove values that were added; removing
    /// most of the rows loses digits in M2 in proportion to the drop — rebuild from rows when that matters.
    /// </summary>
    /// <param name="x">The value to remove; NaN is ignored.</param>
    /// <exception cref="InvalidOperationException">Removing from an empty accumulator.</exception>
    public void Remove(double x)
    {
        if (double.IsNaN(x))
        {
            return;
        }

        if (_n == 0)
        {
            throw new InvalidOperationException("Cannot remove from empty moments.");
        }

        if (_n == 1)
        {
            this = default;
            return;
        }

        var xs = x - _shift;
        var delta = xs - _meanShifted;
        _meanShifted -= delta / (_n - 1);
        _n--;
        _m2 -= delta * (xs - _meanShifted);
        if (_m2 < 0)
        {
            _m2 = 0;
        }
    }

    /// <summary>
    /// Chan et al. merge: n = nA + nB, Δ = x̄B − x̄A, x̄ = x̄A + Δ·nB/n, M2 = M2A + M2B + Δ²·nA·nB/n.
    /// </summary>
    /// <param name="a">First part.</param>
    /// <param name="b">Second part.</param>
    /// <returns>The moments of the union.</returns>
    public static RunningMoments Combine(RunningMoments a, RunningMoments b)
    {
        if (a._n == 0)
        {
            return b;
        }

        if (b._n == 0)
        {
            return a;
        }

        var result = a;
        var meanB = (b._shift - a._shift) + b._meanShifted; // B's mean relative to A's shift
        var n = a._n + b._n;
        var delta = meanB - a._meanShifted;
        result._n = n;
        result._meanShifted = a._meanShifted + (delta * ((double)b._n / n));
        result._m2 = a._m2 + b._m2 + (delta * delta * ((double)a._n * b._n / n));
        return result;
    }

    /// <summary>
    /// Three-way merge left ∪ {x} ∪ right (x NaN = absent) with one division: mean = Σ n_k m_k / n and
    /// M2 = Σ (M2_k + n_k (m_k − mean)²), all relative to a common shift — algebraically Chan's formula,
    /// used by the order-statistic tree on every node update.
    /// </summary>
    internal static RunningMoments CombineWithValue(in RunningMoments left, double x, in RunningMoments right)
    {
        var hasX = !double.IsNaN(x);
        var n = left._n + right._n + (hasX ? 1 : 0);
        if (n == 0)
        {
            return default;
        }

        var shift = left._n > 0 ? left._shift : hasX ? x : right._shift;
        var ml = left._n > 0 ? (left._shift - shift) + left._meanShifted : 0.0;
        var mr = right._n > 0 ? (right._shift - shift) + right._meanShifted : 0.0;
        var xs = hasX ? x - shift : 0.0;
        var mean = ((left._n * ml) + xs + (right._n * mr)) / n;
        var dl = ml - mean;
        var dr = mr - mean;
        var dx = hasX ? xs - mean : 0.0;
        RunningMoments result;
        result._n = n;
        result._shift = shift;
        result._meanShifted = mean;
        result._m2 = left._m2 + right._m2 + (left._n * dl * dl) + (dx * dx) + (right._n * dr * dr);
        return result;
    }

    /// <summary>
    /// Removes a previously merged part: the exact inverse of <see cref="Combine"/> (n = n_AB − n_B,
    /// x̄_A = x̄_AB − (x̄_B − x̄_AB)·n_B/n_A, M2_A = M2_AB − M2_B − Δ²·n_A·n_B/n_AB).
    /// </summary>
    /// <param name="whole">The merged moments.</param>
    /// <param name="part">The part to subtract.</param>
    /// <returns>The moments of the remainder.</returns>
    public static RunningMoments Subtract(RunningMoments whole, RunningMoments part)
    {
        if (part._n == 0)
        {
            return whole;
        }

        if (part._n > whole._n)
        {
            throw new InvalidOperationException("Part larger than whole.");
        }

        if (part._n == whole._n)
        {
            return default;
        }

        var result = whole;
        var nA = whole._n - part._n;
        var meanB = (part._shift - whole._shift) + part._meanShifted;
        var meanA = whole._meanShifted - ((meanB - whole._meanShifted) * ((double)part._n / nA));
        var delta = meanB - meanA;
        result._n = nA;
        result._meanShifted = meanA;
        result._m2 = Math.Max(whole._m2 - part._m2 - (delta * delta * ((double)nA * part._n / whole._n)), 0.0);
        return result;
    }

    /// <inheritdoc/>
    public readonly bool Equals(RunningMoments other) =>
        _n == other._n && _shift.Equals(other._shift) && _meanShifted.Equals(other._meanShifted) && _m2.Equals(other._m2);

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is RunningMoments other && Equals(other);

    /// <inheritdoc/>
    public override readonly int GetHashCode() => HashCode.Combine(_n, _shift, _meanShifted, _m2);

    /// <summary>Bitwise state equality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>True when equal.</returns>
    public static bool operator ==(RunningMoments left, RunningMoments right) => left.Equals(right);

    /// <summary>Bitwise state inequality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>True when different.</returns>
    public static bool operator !=(RunningMoments left, RunningMoments right) => !left.Equals(right);
}
