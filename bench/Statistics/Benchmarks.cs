using BenchmarkDotNet.Attributes;

namespace HomaBone.Statistics.Bench;

/// <summary>
/// One incremental update (an update = remove the participant's old row + add the new one) at cohort sizes
/// 1k, 100k and 1M: each should cost O(k²) (co-moments, QR) or O(log n) (order statistics, Cuzick).
/// </summary>
[MemoryDiagnoser]
public class UpdateBenchmarks
{
    private CoMoments _moments = null!;
    private UpdatableQr _qr = null!;
    private OrderStatisticTree _tree = null!;
    private IncrementalCuzick _cuzick = null!;
    private double[] _row = null!;
    private double[] _qrRow = null!;
    private double _key;
    private double[] _outcomes = null!;

    [Params(1_000, 100_000, 1_000_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _moments = new CoMoments(Cohort.Width);
        _qr = new UpdatableQr(12, rebuildAfterRemovals: int.MaxValue);
        _tree = new OrderStatisticTree(2);
        _cuzick = new IncrementalCuzick();
        for (var i = 0; i < N; i++)
        {
            var row = Cohort.Row(rng);
            _moments.Add(row);
            _qr.Add(i, QrRow(row), row[0]);
            _tree.Insert(i, Math.Exp(row[14]), [row[0], row[1]]);
            _cuzick.Insert(Math.Round(row[0], 1), 1 + (i % 4));
        }

        _row = Cohort.Row(rng);
        _qrRow = QrRow(_row);
        _key = Math.Exp(_row[14]);
        _outcomes = [_row[0], _row[1]];
    }

    [Benchmark]
    public void CoMomentsAddRemove()
    {
        _moments.Add(_row);
        _moments.Remove(_row);
    }

    [Benchmark]
    public void UpdatableQrAddRemove()
    {
        _qr.Add(-1, _qrRow, _row[0]);
        _qr.Remove(-1);
    }

    [Benchmark]
    public void OrderStatisticInsertRemove()
    {
        _tree.Insert(-1, _key, _outcomes);
        _tree.Remove(-1);
    }

    [Benchmark]
    public void IncrementalCuzickInsertRemove()
    {
        _cuzick.Insert(12.3, 2);
        _cuzick.Remove(12.3, 2);
    }

    internal static double[] QrRow(double[] row)
    {
        var x = new double[12];
        x[0] = 1;
        for (var j = 0; j < 11; j++)
        {
            x[j + 1] = row[Cohort.Model3[j]];
        }

        return x;
    }
}

/// <summary>Answering all study models (models 1–3 × 14 outcomes = 42 regressions) from maintained co-moments.</summary>
public class StudyModelsBenchmarks
{
    private CoMoments _moments = null!;
    private OrderStatisticTree _tree = null!;

    [Params(1_000, 100_000, 1_000_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        _moments = new CoMoments(Cohort.Width);
        _tree = new OrderStatisticTree(2);
        for (var i = 0; i < N; i++)
        {
            var row = Cohort.Row(rng);
            _moments.Add(row);
            _tree.Insert(i, Math.Exp(row[14]), [row[0], row[1]]);
        }
    }

    [Benchmark]
    public double AllModelsFromCoMoments() => Cohort.AllModels(_moments);

    [Benchmark]
    public int QuartileCutsAndGroupSummaries()
    {
        var cuts = _tree.CutPoints(4);
        return _tree.Groups(cuts).Count;
    }
}

/// <summary>The batch twin for scale: the same 42 models refitted by Householder QR on the rows (n ≤ 100k).</summary>
public class BatchModelsBenchmarks
{
    private double[][] _columns = null!;

    [Params(1_000, 100_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _columns = new double[Cohort.Width][];
        for (var j = 0; j < Cohort.Width; j++)
        {
            _columns[j] = new double[N];
        }

        for (var i = 0; i < N; i++)
        {
            var row = Cohort.Row(rng);
            for (var j = 0; j < Cohort.Width; j++)
            {
                _columns[j][i] = row[j];
            }
        }
    }

    [Benchmark]
    public double AllModelsBatchOls()
    {
        var checksum = 0.0;
        foreach (var model in (int[][])[Cohort.Model1, Cohort.Model2, Cohort.Model3])
        {
            var cols = model.Select(j => (IReadOnlyList<double>)_columns[j]).ToArray();
            var names = model.Select(j => "v" + j.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            for (var o = 0; o < Cohort.Outcomes; o++)
            {
                checksum += Ols.Fit(_columns[o], cols, names).Coefficients[1].Estimate;
            }
        }

        return checksum;
    }
}
