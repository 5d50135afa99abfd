namespace HomaBone.Qct.Calibration;

/// <summary>Kind of calibration phantom.</summary>
public enum PhantomKind
{
    /// <summary>Mindways liquid K2HPO4 phantom (water content of each rod on its certificate).</summary>
    MindwaysLiquidK2HPO4,

    /// <summary>Solid hydroxyapatite phantom: plain linear fit ρ = m·HU + b.</summary>
    SolidHydroxyapatite,
}

/// <summary>One rod of a phantom certificate.</summary>
/// <param name="DensityMgPerCm3">K2HPO4 (or hydroxyapatite) density, mg/cm³.</param>
/// <param name="WaterMgPerCm3">Water density in the rod, mg/cm³ (Mindways liquid phantoms; 0 for solid phantoms).</param>
public sealed record PhantomRod(double DensityMgPerCm3, double WaterMgPerCm3);

/// <summary>The measured mean HU of one rod and where it was measured.</summary>
/// <param name="Rod">Certificate values.</param>
/// <param name="MeanHu">Mean HU inside the eroded rod.</param>
/// <param name="VoxelCount">Voxels averaged.</param>
/// <param name="Center">Rod centre on the first slice, patient mm (NaN when HU values were given directly).</param>
/// <param name="RadiusMm">Rod radius found (half-maximum), mm; NaN when given directly.</param>
public sealed record RodMeasurement(PhantomRod Rod, double MeanHu, int VoxelCount, Vec3 Center, double RadiusMm);

/// <summary>
/// A density calibration: density (mg/cm³) = <see cref="Slope"/>·HU + <see cref="Intercept"/>. For the Mindways
/// model, Slope = 1/σ_CT and Intercept = −β_CT/σ_CT and the σ/β fields are filled; for solid phantoms they are NaN.
/// </summary>
public sealed record CalibrationFit
{
    /// <summary>The phantom model the fit belongs to.</summary>
    public required PhantomKind Kind { get; init; }

    /// <summary>Slope of density on HU, (mg/cm³)/HU.</summary>
    public required double Slope { get; init; }

    /// <summary>Intercept, mg/cm³.</summary>
    public required double Intercept { get; init; }

    /// <summary>Pearson correlation of the fitted regression.</summary>
    public required double R { get; init; }

    /// <summary>R².</summary>
    public double RSquared => R * R;

    /// <summary>Mindways σ_ref (HU per mg/cm³ of K2HPO4, water-corrected regression slope).</summary>
    public double SigmaRef { get; init; } = double.NaN;

    /// <summary>Mindways β_ref (HU).</summary>
    public double BetaRef { get; init; } = double.NaN;

    /// <summary>Mindways σ_CT = σ_ref − 0.2174.</summary>
    public double SigmaCt { get; init; } = double.NaN;

    /// <summary>Mindways β_CT = β_ref + 999.6 (HU).</summary>
    public double BetaCt { get; init; } = double.NaN;

    /// <summary>The rods the fit used.</summary>
    public IReadOnlyList<RodMeasurement> Rods { get; init; } = [];

    /// <summary>Phantom serial whose certificate was used ("Model 3 published" for the default).</summary>
    public string Certificate { get; init; } = string.Empty;

    /// <summary>Converts HU to density, mg/cm³ (K2HPO4 or hydroxyapatite equivalent). Negative densities are kept.</summary>
    public double ToDensity(double hu) => (Slope * hu) + Intercept;
}
