namespace HomaBone.Statistics;

/// <summary>
/// Cuzick's trend statistic maintained under insertions, removals and score changes (methods.md §7.4), for
/// integer group scores (quartiles 1..4). State: 2T, N, L = Σl, Σl², Σ(t³ − t) in exact integers, and a treap
/// over distinct outcome values holding counts and score sums. Inserting (y, a) with less = #{y′ &lt; y},
/// eq = #{y′ = y}, S_gt, S_eq the score sums of larger / equal values:
/// Δ(2T) = a(2·less + eq + 2) + 2S_gt + S_eq, ΔΣ(t³ − t) = 3eq² + 3eq; removal is the exact inverse. Since
/// every quantity is an exact integer, <see cref="Result"/> is bit-identical to the batch
/// <see cref="Cuzick.Test"/> on the same rows, whatever the order of operations. O(log n) per update.
/// </summary>
public sealed class IncrementalCuzick
{
    private Int128 _twiceT;
    private long _n;
    private Int128 _sumL;
    private Int128 _sumL2;
    private Int128 _tieSum;
    private ValueNode? _root;

    /// <summary>Observations currently included.</summary>
    public long Count => _n;

    /// <summary>Adds an observation with outcome <paramref name="y"/> and integer group score <paramref name="score"/>.</summary>
    /// <param name="y">Outcome (not NaN).</param>
    /// <param name="score">Group score (e.g. quartile).</param>
    public void Insert(double y, long score)
    {
        if (double.IsNaN(y))
        {
            throw new ArgumentException("Outcome must not be NaN.", nameof(y));
        }

        var (less, eq, sLess, sEq) = Query(y);
        var sGt = TotalScore() - sLess - sEq;
        _twiceT += ((Int128)score * ((2 * less) + eq + 2)) + (2 * sGt) + sEq;
        _tieSum += (3 * (Int128)eq * eq) + (3 * (Int128)eq);
        _n++;
        _sumL += score;
        _sumL2 += (Int128)score * score;
        _root = Upsert(_root, y, 1, score);
    }

    /// <summary>Removes an observation previously inserted with the same outcome and score.</summary>
    /// <param name="y">Outcome.</param>
    /// <param name="score">Its group score.</param>
    public void Remove(double y, long score)
    {
        var (_, eqBefore, _, sEqBefore) = Query(y);
        if (eqBefore == 0 || _n == 0)
        {
            throw new InvalidOperationException("Observation not present.");
        }

        _root = Upsert(_root, y, -1, -score);
        var (less, eq, sLess, sEq) = Query(y);
        if (sEqBefore - sEq != score)
        {
            throw new InvalidOperationException("Score does not match the inserted observations.");
        }

        _n--;
        _sumL -= score;
        _sumL2 -= (Int128)score * score;
        var sGt = TotalScore() - sLess - sEq;
        _twiceT -= ((Int128)score * ((2 * less) + eq + 2)) + (2 * sGt) + sEq;
        _tieSum -= (3 * (Int128)eq * eq) + (3 * (Int128)eq);
    }

    /// <summary>Moves an observation to another group score (a participant crossing a moving cut point).</summary>
    /// <param name="y">Outcome.</param>
    /// <param name="oldScore">Current score.</param>
    /// <param name="newScore">New score.</param>
    public void ChangeScore(double y, long oldScore, long newScore)
    {
        Remove(y, oldScore);
        Insert(y, newScore);
    }

    /// <summary>The current statistic (same definition and not-computable rules as <see cref="Cuzick"/>).</summary>
    /// <returns>T, E(T), V, z, P.</returns>
    public CuzickResult Result()
    {
        var t = (double)_twiceT / 2.0;
        var diff = (double)(_twiceT - ((_n + 1) * _sumL)) / 2.0;
        var expected = (_n + 1) * (double)_sumL / 2.0;
        var spread = (double)((_n * _sumL2) - (_sumL * _sumL));
        return Cuzick.Finish(_n, t, expected, diff, spread, _tieSum);
    }

    private Int128 TotalScore() => _root?.SubScore ?? 0;

    private (long Less, long Eq, Int128 ScoreLess, Int128 ScoreEq) Query(double y)
    {
        long less = 0;
        Int128 sLess = 0;
        var node = _root;
        while (node is not null)
        {
            if (y < node.Value)
            {
                node = node.Left;
            }
            else if (y > node.Value)
            {
                less += (node.Left?.SubCount ?? 0) + node.Count;
                sLess += (node.Left?.SubScore ?? 0) + node.Score;
                node = node.Right;
            }
            else
            {
                less += node.Left?.SubCount ?? 0;
                sLess += node.Left?.SubScore ?? 0;
                return (less, node.Count, sLess, node.Score);
            }
        }

        return (less, 0, sLess, 0);
    }

    private static ValueNode? Upsert(ValueNode? node, double y, long dCount, long dScore)
    {
        if (node is null)
        {
            if (dCount < 0)
            {
                throw new InvalidOperationException("Observation not present.");
            }

            return new ValueNode(y, Priority(y)) { Count = dCount, Score = dScore }.Updated();
        }

        if (y < node.Value)
        {
            node.Left = Upsert(node.Left, y, dCount, dScore);
            if (node.Left is not null && node.Left.Priority > node.Priority)
            {
                node = RotateRight(node);
            }
        }
        else if (y > node.Value)
        {
            node.Right = Upsert(node.Right, y, dCount, dScore);
            if (node.Right is not null && node.Right.Priority > node.Priority)
            {
                node = RotateLeft(node);
            }
        }
        else
        {
            node.Count += dCount;
            node.Score += dScore;
            if (node.Count == 0)
            {
                return Delete(node);
            }
        }

        return node.Updated();
    }

    private static ValueNode? Delete(ValueNode node)
    {
        if (node.Left is null)
        {
            return node.Right;
        }

        if (node.Right is null)
        {
            return node.Left;
        }

        if (node.Left.Priority > node.Right.Priority)
        {
            var top = RotateRight(node);
            top.Right = Delete(top.Right!);
            return top.Updated();
        }
        else
        {
            var top = RotateLeft(node);
            top.Left = Delete(top.Left!);
            return top.Updated();
        }
    }

    private static ValueNode RotateRight(ValueNode node)
    {
        var left = node.Left!;
        node.Left = left.Right;
        node.Updated();
        left.Right = node;
        return left.Updated();
    }

    private static ValueNode RotateLeft(ValueNode node)
    {
        var right = node.Right!;
        node.Right = right.Left;
        node.Updated();
        right.Left = node;
        return right.Updated();
    }

    private static ulong Priority(double y)
    {
        var z = unchecked((ulong)BitConverter.DoubleToInt64Bits(y) + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    private sealed class ValueNode(double value, ulong priority)
    {
        public double Value { get; } = value;

        public ulong Priority { get; } = priority;

        public long Count { get; set; }

        public Int128 Score { get; set; }

        public long SubCount { get; private set; }

        public Int128 SubScore { get; private set; }

        public ValueNode? Left { get; set; }

        public ValueNode? Right { get; set; }

        public ValueNode Updated()
        {
            SubCount = Count + (Left?.SubCount ?? 0) + (Right?.SubCount ?? 0);
            SubScore = Score + (Left?.SubScore ?? 0) + (Right?.SubScore ?? 0);
            return this;
        }
    }
}
