using System.Globalization;
using System.Text;

namespace HomaBone.Statistics.Tests;

/// <summary>Seeded synthetic data (System.Random with a fixed seed is reproducible across runs).</summary>
public static class TestData
{
    public static double Normal(Random rng)
    {
        // Box–Muller.
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A column table: name → values (NaN = missing).</summary>
    public sealed class Table
    {
        public List<string> Names { get; } = [];

        public List<double[]> Columns { get; } = [];

        public double[] this[string name] => Columns[Names.IndexOf(name)];

        public void Add(string name, double[] values)
        {
            Names.Add(name);
            Columns.Add(values);
        }

        public void WriteCsv(string path)
        {
            var sb = new StringBuilder();
            sb.AppendLine(string.Join(",", Names));
            var n = Columns[0].Length;
            for (var i = 0; i < n; i++)
            {
                sb.AppendLine(string.Join(",", Columns.Select(c => double.IsNaN(c[i]) ? "NA" : c[i].ToString("R", CultureInfo.InvariantCulture))));
            }

            File.WriteAllText(path, sb.ToString());
        }
    }

    /// <summary>y = 1 + Σβⱼxⱼ + ε with cohort-like covariates, optional ties, missing cells, dummies, near-collinearity.</summary>
    public static Table Regression(int seed, int n, int continuous, int dummies, double missingRate, bool ties, bool collinear)
    {
        var rng = new Random(seed);
        var table = new Table();
        var y = new double[n];
        var xs = new List<double[]>();
        for (var j = 0; j < continuous; j++)
        {
            var center = 20.0 + (15 * j);
            var spread = 2.0 + (3 * j);
            var col = new double[n];
            for (var i = 0; i < n; i++)
            {
                col[i] = center + (spread * Normal(rng));
                if (ties)
                {
                    col[i] = Math.Round(col[i], 0);
                }
            }

            xs.Add(col);
        }

        for (var j = 0; j < dummies; j++)
        {
            var col = new double[n];
            for (var i = 0; i < n; i++)
            {
                col[i] = rng.NextDouble() < 0.3 ? 1.0 : 0.0;
            }

            xs.Add(col);
        }

        if (collinear)
        {
            var col = new double[n];
            for (var i = 0; i < n; i++)
            {
                col[i] = xs[0][i] + (0.05 * Normal(rng));
            }

            xs.Add(col);
        }

        for (var i = 0; i < n; i++)
        {
            var v = 1.0;
            for (var j = 0; j < xs.Count; j++)
            {
                v += 0.3 * (j + 1) * (j % 2 == 0 ? 1 : -1) * xs[j][i] / (1 + j);
            }

            y[i] = v + (5.0 * Normal(rng));
        }

        Punch(rng, y, missingRate);
        table.Add("y", y);
        for (var j = 0; j < xs.Count; j++)
        {
            Punch(rng, xs[j], missingRate);
            table.Add("x" + (j + 1).ToString(CultureInfo.InvariantCulture), xs[j]);
        }

        return table;
    }

    public static void Punch(Random rng, double[] values, double rate)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (rng.NextDouble() < rate)
            {
                values[i] = double.NaN;
            }
        }
    }
}
