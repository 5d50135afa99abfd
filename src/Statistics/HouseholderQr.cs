namespace HomaBone.Statistics;

/// <summary>
/// Householder QR of a column-scaled design (Golub &amp; Van Loan, Matrix Computations 4th ed., Alg. 5.2.1;
/// LAPACK dgeqr2), used by <see cref="Ols"/>. Each column is divided by its Euclidean norm before the
/// factorization, so |R_jj| ≤ 1 and the rank test is relative. No column pivoting: a small R_jj names the
/// column that depends on the columns before it.
/// </summary>
internal sealed class HouseholderQr
{
    public HouseholderQr(double[][] columns, double[] y, IReadOnlyList<string> names, double rankTolerance)
    {
        var p = columns.Length;
        var n = y.Length;
        P = p;
        N = n;
        Scale = new double[p];
        var a = new double[p][];
        for (var j = 0; j < p; j++)
        {
            var col = columns[j];
            var norm = Norm(col);
            Scale[j] = norm > 0 ? norm : 1.0;
            var copy = new double[n];
            for (var i = 0; i < n; i++)
            {
                copy[i] = col[i] / Scale[j];
            }

            a[j] = copy;
        }

        var qty = (double[])y.Clone();
        var diag = new double[p];
        for (var k = 0; k < p; k++)
        {
            var colK = a[k];
            var norm = NormFrom(colK, k);
            if (norm == 0)
            {
                diag[k] = 0;
                continue;
            }

            var alpha = colK[k] > 0 ? -norm : norm;
            colK[k] -= alpha; // v = x − α e₁, stored in place
            var vtv = 0.0;
            for (var i = k; i < n; i++)
            {
                vtv += colK[i] * colK[i];
            }

            var beta = 2.0 / vtv;
            for (var j = k + 1; j < p; j++)
            {
                Reflect(colK, a[j], k, beta);
            }

            Reflect(colK, qty, k, beta);
            diag[k] = alpha;
        }

        R = new double[p, p];
        for (var j = 0; j < p; j++)
        {
            for (var i = 0; i < j; i++)
            {
                R[i, j] = a[j][i];
            }

            R[j, j] = diag[j];
        }

        var maxDiag = 0.0;
        for (var j = 0; j < p; j++)
        {
            maxDiag = Math.Max(maxDiag, Math.Abs(diag[j]));
        }

        MinRelativeDiagonal = double.PositiveInfinity;
        for (var j = 0; j < p; j++)
        {
            var rel = maxDiag > 0 ? Math.Abs(diag[j]) / maxDiag : 0.0;
            MinRelativeDiagonal = Math.Min(MinRelativeDiagonal, rel);
            if (!(rel >= rankTolerance))
            {
                throw new RankDeficientException(names[j], j, rel, rankTolerance);
            }
        }

        Qty = qty;
    }

    public int P { get; }

    public int N { get; }

    /// <summary>Column norms used for scaling (scaled column = column / Scale).</summary>
    public double[] Scale { get; }

    /// <summary>R of the scaled design.</summary>
    public double[,] R { get; }

    /// <summary>Qᵀy (length n).</summary>
    public double[] Qty { get; }

    public double MinRelativeDiagonal { get; }

    /// <summary>β on the original scale: solve R b = (Qᵀy)₁..p, then β_j = b_j / Scale_j.</summary>
    public double[] Solve()
    {
        var b = BackSubstitute(R, Qty, P);
        for (var j = 0; j < P; j++)
        {
            b[j] /= Scale[j];
        }

        return b;
    }

    /// <summary>(XᵀX)⁻¹ on the original scale = D⁻¹ R⁻¹ R⁻ᵀ D⁻¹ (never forms XᵀX).</summary>
    public double[,] UnscaledCovariance()
    {
        var rinv = InvertUpper(R, P);
        var cov = new double[P, P];
        for (var i = 0; i < P; i++)
        {
            for (var j = i; j < P; j++)
            {
                var s = 0.0;
                for (var k = j; k < P; k++)
                {
                    s += rinv[i, k] * rinv[j, k];
                }

                s /= Scale[i] * Scale[j];
                cov[i, j] = s;
                cov[j, i] = s;
            }
        }

        return cov;
    }

    internal static double[] BackSubstitute(double[,] r, IReadOnlyList<double> rhs, int p)
    {
        var b = new double[p];
        for (var i = p - 1; i >= 0; i--)
        {
            var s = rhs[i];
            for (var k = i + 1; k < p; k++)
            {
                s -= r[i, k] * b[k];
            }

            b[i] = s / r[i, i];
        }

        return b;
    }

    internal static double[,] InvertUpper(double[,] r, int p)
    {
        var inv = new double[p, p];
        for (var j = 0; j < p; j++)
        {
            inv[j, j] = 1.0 / r[j, j];
            for (var i = j - 1; i >= 0; i--)
            {
                var s = 0.0;
                for (var k = i + 1; k <= j; k++)
                {
                    s += r[i, k] * inv[k, j];
                }

                inv[i, j] = -s / r[i, i];
            }
        }

        return inv;
    }

    private static void Reflect(double[] v, double[] target, int k, double beta)
    {
        var s = 0.0;
        for (var i = k; i < v.Length; i++)
        {
            s += v[i] * target[i];
        }

        s *= beta;
        for (var i = k; i < v.Length; i++)
        {
            target[i] -= s * v[i];
        }
    }

    private static double Norm(double[] x) => NormFrom(x, 0);

    private static double NormFrom(double[] x, int start)
    {
        // Scaled sum of squares (LAPACK dnrm2 idea) to avoid overflow/underflow.
        var scale = 0.0;
        var ssq = 1.0;
        for (var i = start; i < x.Length; i++)
        {
            var v = x[i];
            if (v != 0)
            {
                var av = Math.Abs(v);
                if (scale < av)
                {
                    var r = scale / av;
                    ssq = 1 + (ssq * r * r);
                    scale = av;
                }
                else
                {
                    var r = av / scale;
                    ssq += r * r;
                }
            }
        }

        return scale * Math.Sqrt(ssq);
    }
}
