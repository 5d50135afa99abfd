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
    /// Batch moments of a span without allocating (NaN skipped): shift K = the first non-missing value, mean of
    /// x − K, then the corrected two-pass Σ((x − K) − m)² − (Σ((x − K) − m))²/n (Chan, Golub &amp; LeVeque 1983
    /// eq. 1.7). Sums run in four fixed lanes (element i to lane i mod 4, combined as (l0 + l1) + (l2 + l3)) to
    /// break the add latency chain; the result is a pure function of the values in order, the same on every
    /// machine. Used for the order-statistic tree's leaves.
    /// </summary>
    internal static RunningMoments FromSpan(ReadOnlySpan<double> values)
    {
        var first = 0;
        while (first < values.Length && double.IsNaN(values[first]))
        {
            first++;
        }

        if (first == values.Length)
        {
            return default;
        }

        var shift = values[first];
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        var end4 = values.Length & ~3;
        var i = 0;
        for (; i < end4; i += 4)
        {
            s0 += values[i] - shift;
            s1 += values[i + 1] - shift;
            s2 += values[i + 2] - shift;
            s3 += values[i + 3] - shift;
        }

        for (; i < values.Length; i++)
        {
            s0 += values[i] - shift; // the tail (≤ 3 values) goes to lane 0
        }

        var sum = (s0 + s1) + (s2 + s3);
        long n = values.Length;
        if (double.IsNaN(sum))
        {
            // Missing values (or infinities): the same lanes, skipping NaN.
            return FromSpanSkippingNaN(values, shift);
        }

        var mean = sum / n;
        double q0 = 0, q1 = 0, q2 = 0, q3 = 0, r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        for (i = 0; i < end4; i += 4)
        {
            var d0 = (values[i] - shift) - mean;
            var d1 = (values[i + 1] - shift) - mean;
            var d2 = (values[i + 2] - shift) - mean;
            var d3 = (values[i + 3] - shift) - mean;
            q0 += d0 * d0;
            q1 += d1 * d1;
            q2 += d2 * d2;
            q3 += d3 * d3;
            r0 += d0;
            r1 += d1;
            r2 += d2;
            r3 += d3;
        }

        for (; i < values.Length; i++)
        {
            var d = (values[i] - shift) - mean;
            q0 += d * d;
            r0 += d;
        }

        return Moments(n, shift, mean, (q0 + q1) + (q2 + q3), (r0 + r1) + (r2 + r3));
    }

    /// <summary>
    /// k-way Chan merge of <paramref name="parts"/> with one division: relative to the shift of the first
    /// non-empty part, mean = Σ n_k m_k / n and M2 = Σ (M2_k + n_k (m_k − mean)²) (an empty part adds 0). Pure
    /// function of the parts in order (two fixed lanes); used for the order-statistic tree's internal nodes.
    /// </summary>
    internal static RunningMoments CombineMany(ReadOnlySpan<RunningMoments> parts)
    {
        var first = 0;
        while (first < parts.Length && parts[first]._n == 0)
        {
            first++;
        }

        if (first == parts.Length)
        {
            return default;
        }

        var shift = parts[first]._shift;
        long n0 = 0, n1 = 0;
        double s0 = 0, s1 = 0;
        var k = first;
        for (; k + 1 < parts.Length; k += 2)
        {
            ref readonly var p = ref parts[k];
            ref readonly var q = ref parts[k + 1];
            n0 += p._n;
            n1 += q._n;
            s0 += p._n * ((p._shift - shift) + p._meanShifted);
            s1 += q._n * ((q._shift - shift) + q._meanShifted);
        }

        if (k < parts.Length)
        {
            ref readonly var p = ref parts[k];
            n0 += p._n;
            s0 += p._n * ((p._shift - shift) + p._meanShifted);
        }

        var n = n0 + n1;
        var mean = (s0 + s1) / n;
        double m0 = 0, m1 = 0;
        for (k = first; k + 1 < parts.Length; k += 2)
        {
            ref readonly var p = ref parts[k];
            ref readonly var q = ref parts[k + 1];
            var dp = ((p._shift - shift) + p._meanShifted) - mean;
            var dq = ((q._shift - shift) + q._meanShifted) - mean;
            m0 += p._m2 + (p._n * dp * dp);
            m1 += q._m2 + (q._n * dq * dq);
        }

        if (k < parts.Length)
        {
            ref readonly var p = ref parts[k];
            var dp = ((p._shift - shift) + p._meanShifted) - mean;
            m0 += p._m2 + (p._n * dp * dp);
        }

        RunningMoments result;
        result._n = n;
        result._shift = shift;
        result._meanShifted = mean;
        result._m2 = m0 + m1;
        return result;
    }

    private static RunningMoments FromSpanSkippingNaN(ReadOnlySpan<double> values, double shift)
    {
        Span<double> s = stackalloc double[4];
        long n = 0;
        var tail = values.Length & ~3;
        for (var i = 0; i < values.Length; i++)
        {
            var x = values[i];
            if (!double.IsNaN(x))
            {
                s[i < tail ? i & 3 : 0] += x - shift;
                n++;
            }
        }

        var mean = ((s[0] + s[1]) + (s[2] + s[3])) / n;
        Span<double> q = stackalloc double[4];
        Span<double> r = stackalloc double[4];
        for (var i = 0; i < values.Length; i++)
        {
            var x = values[i];
            if (!double.IsNaN(x))
            {
                var lane = i < tail ? i & 3 : 0;
                var d = (x - shift) - mean;
                q[lane] += d * d;
                r[lane] += d;
            }
        }

        return Moments(n, shift, mean, (q[0] + q[1]) + (q[2] + q[3]), (r[0] + r[1]) + (r[2] + r[3]));
    }

    private static RunningMoments Moments(long n, double shift, double mean, double squares, double residual)
    {
        RunningMoments result;
        result._n = n;
        result._shift = shift;
        result._meanShifted = mean;
        result._m2 = Math.Max(squares - (residual * residual / n), 0.0);
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
