namespace HomaBone.Synthetic;

/// <summary>
/// xoshiro256** (Blackman &amp; Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 2021) seeded by
/// SplitMix64 (Steele, Lea &amp; Flood, OOPSLA 2014). Own implementation so the stream never changes with the runtime
/// (System.Random's algorithm is not a contract).
/// </summary>
internal sealed class Prng
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;
    private double? _spareNormal;

    /// <summary>Creates a generator for one (seed, stream) pair; streams are independent for practical purposes.</summary>
    public Prng(int seed, long stream)
    {
        var x = unchecked(((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)stream * 0xD1B54A32D192ED03UL) ^ 0x5851F42D4C957F2DUL);
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    public ulong NextUInt64()
    {
        var result = unchecked(RotateLeft(_s1 * 5, 7) * 9);
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform on [min, max).</summary>
    public double Uniform(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>Uniform integer on [min, max] (inclusive; bias ≤ 2⁻⁴⁰ for the small ranges used).</summary>
    public int Integer(int min, int max) => min + (int)((NextUInt64() >> 24) % (ulong)(max - min + 1));

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>Standard normal by Marsaglia's polar method, with <see cref="DeterministicMath"/> (no libm dependence).</summary>
    public double Normal()
    {
        if (_spareNormal is { } spare)
        {
            _spareNormal = null;
            return spare;
        }

        double u, v, s;
        do
        {
            u = (2.0 * NextDouble()) - 1.0;
            v = (2.0 * NextDouble()) - 1.0;
            s = (u * u) + (v * v);
        }
        while (s >= 1.0 || s == 0.0);

        var factor = Math.Sqrt(-2.0 * DeterministicMath.Log(s) / s);
        _spareNormal = v * factor;
        return u * factor;
    }

    /// <summary>Normal with mean and SD.</summary>
    public double Normal(double mean, double sd) => mean + (sd * Normal());

    private static ulong SplitMix64(ref ulong x)
    {
        unchecked
        {
            x += 0x9E3779B97F4A7C15UL;
            var z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}

/// <summary>
/// ln and exp from IEEE-exact operations only (+, −, ×, ÷, √, scaling by powers of two) in a fixed order, so the
/// generator produces bit-identical numbers on every platform (Math.Log / Math.Exp come from the C runtime and may
/// differ in the last ulp). Accuracy ≈ 1e-15 relative, ample for simulation.
/// </summary>
internal static class DeterministicMath
{
    private const double Ln2 = 0.6931471805599453;
    private const double Sqrt2 = 1.4142135623730951;

    /// <summary>Natural log of a positive, normal, finite x.</summary>
    public static double Log(double x)
    {
        if (!(x > 0) || !double.IsFinite(x))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "Log needs a positive finite number.");
        }

        var bits = BitConverter.DoubleToInt64Bits(x);
        var exponent = (int)((bits >> 52) & 0x7FF) - 1023;
        var mantissa = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (mantissa > Sqrt2)
        {
            mantissa /= 2.0;
            exponent++;
        }

        // ln m = 2 atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172.
        var s = (mantissa - 1.0) / (mantissa + 1.0);
        var s2 = s * s;
        var term = s;
        var sum = 0.0;
        for (var k = 1; k <= 41; k += 2)
        {
            sum += term / k;
            term *= s2;
        }

        return (exponent * Ln2) + (2.0 * sum);
    }

    /// <summary>e^x for |x| &lt; 700.</summary>
    public static double Exp(double x)
    {
        if (!(Math.Abs(x) < 700))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "Exp argument out of range.");
        }

        var k = Math.Round(x / Ln2);
        var r = x - (k * Ln2);
        var term = 1.0;
        var sum = 1.0;
        for (var n = 1; n <= 24; n++)
        {
            term *= r / n;
            sum += term;
        }

        return Math.ScaleB(sum, (int)k);
    }
}
