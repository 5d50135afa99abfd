namespace HomaBone.Statistics;

/// <summary>Tests on r × c contingency tables.</summary>
public static class ContingencyTests
{
    /// <summary>
    /// Mantel–Haenszel linear-by-linear association M² = (N − 1)r², r the Pearson correlation of the row and
    /// column scores weighted by the counts (Mantel 1963 JASA 58:690; Agresti, Categorical Data Analysis 3rd
    /// ed. §3.4.1); df 1, P = erfc(√(M²/2)). Not computable when N &lt; 2 or either margin has one scored level.
    /// </summary>
    /// <param name="counts">Counts[row][column].</param>
    /// <param name="rowScores">Scores of the rows.</param>
    /// <param name="columnScores">Scores of the columns.</param>
    /// <returns>M² as ChiSquare (df 1), Z = r·√(N − 1), two-sided P.</returns>
    public static TestResult LinearByLinear(IReadOnlyList<IReadOnlyList<long>> counts, IReadOnlyList<double> rowScores, IReadOnlyList<double> columnScores)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(rowScores);
        ArgumentNullException.ThrowIfNull(columnScores);
        const string method = "Mantel–Haenszel linear-by-linear";
        long n = 0;
        double su = 0, sv = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            for (var j = 0; j < counts[i].Count; j++)
            {
                n += counts[i][j];
                su += counts[i][j] * rowScores[i];
                sv += counts[i][j] * columnScores[j];
            }
        }

        if (n < 2)
        {
            return TestResult.NotComputable(method, n, 1, "Fewer than two observations.");
        }

        var uBar = su / n;
        var vBar = sv / n;
        double suu = 0, svv = 0, suv = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            for (var j = 0; j < counts[i].Count; j++)
            {
                var du = rowScores[i] - uBar;
                var dv = columnScores[j] - vBar;
                suu += counts[i][j] * du * du;
                svv += counts[i][j] * dv * dv;
                suv += counts[i][j] * du * dv;
            }
        }

        if (!(suu > 0) || !(svv > 0))
        {
            return TestResult.NotComputable(method, n, 1, "A margin has a single scored level (zero variance).");
        }

        var r = suv / Math.Sqrt(suu * svv);
        return TestResult.FromZ(method, n, r * Math.Sqrt(n - 1));
    }

    /// <summary>
    /// Linear-by-linear M² = (N − 1)r² from paired observations (x, y): r = Pearson correlation of the
    /// values themselves used as scores. Rows with NaN are excluded.
    /// </summary>
    /// <param name="x">Row variable (e.g. quartile 1..4).</param>
    /// <param name="y">Column variable (e.g. activity category 1..3).</param>
    /// <returns>M², Z, P.</returns>
    public static TestResult LinearByLinear(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var xs = new List<double>();
        var ys = new List<double>();
        for (var i = 0; i < x.Count; i++)
        {
            if (!double.IsNaN(x[i]) && !double.IsNaN(y[i]))
            {
                xs.Add(x[i]);
                ys.Add(y[i]);
            }
        }

        var xv = xs.Distinct().Order().ToArray();
        var yv = ys.Distinct().Order().ToArray();
        var table = new long[xv.Length][];
        for (var i = 0; i < xv.Length; i++)
        {
            table[i] = new long[yv.Length];
        }

        for (var k = 0; k < xs.Count; k++)
        {
            table[Array.BinarySearch(xv, xs[k])][Array.BinarySearch(yv, ys[k])]++;
        }

        return LinearByLinear(table, xv, yv);
    }

    /// <summary>
    /// Pearson χ² test of independence (heterogeneity, not trend) of an r × c table (Pearson 1900):
    /// X² = Σ(O − E)²/E, E = row·column/N, df = (r′ − 1)(c′ − 1) over non-empty rows and columns, P from
    /// the χ² upper tail. No continuity correction. Not computable when df = 0.
    /// </summary>
    /// <param name="counts">Counts[row][column].</param>
    /// <returns>X², df, P (Z is null).</returns>
    public static TestResult PearsonChiSquare(IReadOnlyList<IReadOnlyList<long>> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        const string method = "Pearson χ²";
        var rows = counts.Count;
        var cols = counts.Count == 0 ? 0 : counts.Max(r => r.Count);
        var rowSum = new long[rows];
        var colSum = new long[cols];
        long n = 0;
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < counts[i].Count; j++)
            {
                rowSum[i] += counts[i][j];
                colSum[j] += counts[i][j];
                n += counts[i][j];
            }
        }

        var r = rowSum.Count(s => s > 0);
        var c = colSum.Count(s => s > 0);
        var df = (double)(r - 1) * (c - 1);
        if (!(df > 0))
        {
            return TestResult.NotComputable(method, n, Math.Max(df, 0), "Fewer than two non-empty rows or columns.");
        }

        var x2 = 0.0;
        for (var i = 0; i < rows; i++)
        {
            if (rowSum[i] == 0)
            {
                continue;
            }

            for (var j = 0; j < cols; j++)
            {
                if (colSum[j] == 0)
                {
                    continue;
                }

                var o = j < counts[i].Count ? counts[i][j] : 0;
                var e = (double)rowSum[i] * colSum[j] / n;
                x2 += (o - e) * (o - e) / e;
            }
        }

        return new TestResult(method, n, null, x2, df, Tails.ChiSquareUpper(x2, df), null);
    }
}
