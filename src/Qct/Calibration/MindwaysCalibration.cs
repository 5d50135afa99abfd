namespace HomaBone.Qct.Calibration;

/// <summary>
/// Mindways liquid K2HPO4 calibration as the QCT PRO user guide describes it (documented by the open Bonelab "Ogo"
/// project; reimplemented here from that description): least squares over the rods of
/// <c>HU_rod − water_rod = σ_ref·K2HPO4_rod + β_ref</c>, then <c>σ_CT = σ_ref − 0.2174</c>,
/// <c>β_CT = β_ref + 999.6</c>, density = (HU − β_CT)/σ_CT. At least 3 rods; R is the correlation of that regression.
/// </summary>
public static class MindwaysCalibration
{
    /// <summary>σ_ref − σ_CT: the HU per mg/cm³ of water displaced, from the QCT PRO model.</summary>
    public const double SigmaOffset = 0.2174;

    /// <summary>β_CT − β_ref (HU).</summary>
    public const double BetaOffset = 999.6;

    /// <summary>A published Mindways Model 3 certificate (qct.md), the default when the phantom serial is unknown.</summary>
    public static IReadOnlyList<PhantomRod> Model3Published { get; } =
    [
        new(-51.83, 1012.25),
        new(-53.40, 1056.95),
        new(58.88, 1103.57),
        new(157.05, 1119.52),
        new(375.83, 923.20),
    ];

    /// <summary>Fits the model to mean rod HU.</summary>
    /// <exception cref="ArgumentException">Fewer than 3 rods, mismatched lengths, or degenerate densities.</exception>
    public static CalibrationFit Fit(IReadOnlyList<double> meanHu, IReadOnlyList<PhantomRod> rods, string certificate = "Model 3 published")
    {
        ArgumentNullException.ThrowIfNull(meanHu);
        ArgumentNullException.ThrowIfNull(rods);
        if (meanHu.Count != rods.Count || rods.Count < 3)
        {
            throw new ArgumentException("Need at least 3 rods and one mean HU per rod.", nameof(meanHu));
        }

        var x = rods.Select(r => r.DensityMgPerCm3).ToArray();
        var y = meanHu.Select((hu, i) => hu - rods[i].WaterMgPerCm3).ToArray();
        var (slope, intercept, r) = LeastSquares.Fit(x, y);
        var sigmaCt = slope - SigmaOffset;
        var betaCt = intercept + BetaOffset;
        return new CalibrationFit
        {
            Kind = PhantomKind.MindwaysLiquidK2HPO4,
            SigmaRef = slope,
            BetaRef = intercept,
            SigmaCt = sigmaCt,
            BetaCt = betaCt,
            Slope = 1.0 / sigmaCt,
            Intercept = -betaCt / sigmaCt,
            R = r,
            Certificate = certificate,
        };
    }
}

/// <summary>Solid (hydroxyapatite) phantom: ordinary least squares of density on HU, ρ = m·HU + b; at least 2 rods.</summary>
public static class SolidPhantomCalibration
{
    /// <summary>Fits ρ = m·HU + b.</summary>
    /// <exception cref="ArgumentException">Fewer than 2 rods, mismatched lengths, or identical HU.</exception>
    public static CalibrationFit Fit(IReadOnlyList<double> meanHu, IReadOnlyList<double> densityMgPerCm3, string certificate = "")
    {
        ArgumentNullException.ThrowIfNull(meanHu);
        ArgumentNullException.ThrowIfNull(densityMgPerCm3);
        if (meanHu.Count != densityMgPerCm3.Count || meanHu.Count < 2)
        {
            throw new ArgumentException("Need at least 2 rods and one density per rod.", nameof(meanHu));
        }

        var (slope, intercept, r) = LeastSquares.Fit([.. meanHu], [.. densityMgPerCm3]);
        return new CalibrationFit { Kind = PhantomKind.SolidHydroxyapatite, Slope = slope, Intercept = intercept, R = r, Certificate = certificate };
    }
}

/// <summary>Calibration quality gate of qct.md: warn when |1 − R²| &gt; 2 %, refuse when &gt; 10 %.</summary>
public static class CalibrationQuality
{
    /// <summary>Warning threshold on |1 − R²|.</summary>
    public const double WarnThreshold = 0.02;

    /// <summary>Refusal threshold on |1 − R²|.</summary>
    public const double RefuseThreshold = 0.10;

    /// <summary>Returns a warning, or null; throws when the fit must be refused.</summary>
    /// <exception cref="QctInputException">|1 − R²| &gt; 10 % (or R² not finite).</exception>
    public static QctWarning? Check(CalibrationFit fit)
    {
        ArgumentNullException.ThrowIfNull(fit);
        var deviation = Math.Abs(1 - fit.RSquared);
        if (!double.IsFinite(deviation) || deviation > RefuseThreshold)
        {
            throw new QctInputException($"Phantom calibration refused: R² = {fit.RSquared:F4} (|1 − R²| > 10 %). Check the rod positions and the certificate (phantom serial).") { Code = "calibration-refused" };
        }

        return deviation > WarnThreshold
            ? new QctWarning("calibration-weak", $"Phantom calibration R² = {fit.RSquared:F4} (|1 − R²| > 2 %): densities are less reliable.")
            : null;
    }
}

/// <summary>Ordinary least squares of y on x with centred sums (numerically stable for small n).</summary>
internal static class LeastSquares
{
    public static (double Slope, double Intercept, double R) Fit(double[] x, double[] y)
    {
        var n = x.Length;
        var mx = x.Average();
        var my = y.Average();
        double sxx = 0, syy = 0, sxy = 0;
        for (var i = 0; i < n; i++)
        {
            var dx = x[i] - mx;
            var dy = y[i] - my;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
        }

        if (sxx <= 0)
        {
            throw new ArgumentException("The calibration rods do not span a range of values.", nameof(x));
        }

        var slope = sxy / sxx;
        var r = syy > 0 ? sxy / Math.Sqrt(sxx * syy) : double.NaN;
        return (slope, my - (slope * mx), r);
    }
}
