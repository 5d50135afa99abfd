namespace HomaBone.Qct.Measures;

/// <summary>Volume, bone mineral content and volumetric BMD of one compartment.</summary>
/// <param name="VolumeCm3">Volume, cm³.</param>
/// <param name="BmcMg">Bone mineral content, mg (K2HPO4 or hydroxyapatite equivalent).</param>
/// <param name="VbmdMgPerCm3">BMC / volume, mg/cm³ (NaN when the volume is 0).</param>
public sealed record CompartmentMeasures(double VolumeCm3, double BmcMg, double VbmdMgPerCm3)
{
    internal static CompartmentMeasures Of(double volumeCm3, double bmcMg) =>
        new(volumeCm3, bmcMg, volumeCm3 > 0 ? bmcMg / volumeCm3 : double.NaN);
}

/// <summary>
/// Measures of one region. Raw values use the label envelope and a plain threshold; corrected values conserve
/// BMC over a dilated envelope (background-subtracted) and split cortex and trabecular bone by two-material
/// unmixing (docs/qct-implementation.md).
/// </summary>
public sealed record RegionMeasures
{
    /// <summary>Region name: neck, trochanter, intertrochanter or total.</summary>
    public required string Region { get; init; }

    /// <summary>Whole envelope, raw.</summary>
    public required CompartmentMeasures Integral { get; init; }

    /// <summary>Voxels ≥ the cortical threshold, raw.</summary>
    public required CompartmentMeasures Cortical { get; init; }

    /// <summary>Voxels below the cortical threshold, raw.</summary>
    public required CompartmentMeasures Trabecular { get; init; }

    /// <summary>Envelope volume with BMC conserved over the dilated envelope.</summary>
    public required CompartmentMeasures IntegralCorrected { get; init; }

    /// <summary>Cortical compartment by two-material unmixing.</summary>
    public required CompartmentMeasures CorticalCorrected { get; init; }

    /// <summary>Trabecular compartment by two-material unmixing.</summary>
    public required CompartmentMeasures TrabecularCorrected { get; init; }

    /// <summary>Estimated cortical tissue density used by the unmixing, mg/cm³.</summary>
    public double CorticalDensityEstimateMgPerCm3 { get; init; }

    /// <summary>Estimated trabecular density (deep core median), mg/cm³.</summary>
    public double TrabecularDensityEstimateMgPerCm3 { get; init; }

    /// <summary>Envelope voxel count.</summary>
    public int VoxelCount { get; init; }
}

/// <summary>Projected (CTXA-like) and hip-structural-analysis (Beck) measures of the femoral neck.</summary>
public sealed record NeckGeometry
{
    /// <summary>Projected areal BMD, g/cm² (corrected neck BMC / projected envelope area).</summary>
    public required double ArealBmdGPerCm2 { get; init; }

    /// <summary>Projected envelope area, cm².</summary>
    public required double ProjectedAreaCm2 { get; init; }

    /// <summary>Femoral neck width: median envelope extent perpendicular to the axis in the projection, cm.</summary>
    public required double NeckWidthCm { get; init; }

    /// <summary>Length of the neck region along the axis, cm.</summary>
    public required double NeckLengthCm { get; init; }

    /// <summary>HSA cross-sectional area ∫m ds / ρ_m, cm² (ρ_m = 1.05 g/cm³).</summary>
    public required double CsaCm2 { get; init; }

    /// <summary>HSA cross-sectional moment of inertia ∫m (s − s̄)² ds / ρ_m, cm⁴.</summary>
    public required double CsmiCm4 { get; init; }

    /// <summary>HSA section modulus CSMI / d_max, cm³.</summary>
    public required double SectionModulusCm3 { get; init; }

    /// <summary>Largest distance from the mass centroid to the envelope edge, cm.</summary>
    public required double DMaxCm { get; init; }

    /// <summary>Estimated cortical thickness from the annulus model (outer diameter FNW, area CSA), cm.</summary>
    public required double CorticalThicknessCm { get; init; }

    /// <summary>
    /// Neck cortical depth from the corrected cortical volume: the wall of a circular annulus of outer diameter FNW
    /// whose area is V_cortical,corrected / neck length, cm. Unlike <see cref="CorticalThicknessCm"/> (Beck's ECT,
    /// which puts all mineral, trabecular included, into a fully mineralised wall) it measures the cortex itself.
    /// </summary>
    public required double CorticalDepthCm { get; init; }

    /// <summary>HSA buckling ratio d_max / ECT.</summary>
    public required double BucklingRatio { get; init; }

    /// <summary>Neck axis direction used (unit vector, patient coordinates).</summary>
    public required Vec3 Axis { get; init; }

    /// <summary>Projection direction (antero-posterior, perpendicular to the axis).</summary>
    public required Vec3 ProjectionDirection { get; init; }

    /// <summary>True when the axis was estimated from the regions rather than given.</summary>
    public required bool AxisEstimated { get; init; }
}

/// <summary>
/// The study's strength indices (methods.md §1.5) in one explicit unit system: aBMD g/cm², FNW cm, cortical vBMD
/// converted to g/cm³ (the same mass unit as aBMD), weight kg. A = aBMD·FNW/vBMD_cort (cm²);
/// CSI = A·10⁻⁴ / (W·9.8) m²/N; Z = aBMD·FNW²/vBMD_cort cm³; BR = V_total / V_cortical of the neck. aBMD and FNW
/// are the projected measures; vBMD_cort and V_cortical are the threshold (raw) values, as the study reported them.
/// </summary>
public sealed record StudyIndices
{
    /// <summary>Bone cross-sectional area A, cm².</summary>
    public double? AreaCm2 { get; init; }

    /// <summary>Compressive strength index, m²/N; null when body weight is missing ("not computable", never 0).</summary>
    public double? CsiM2PerN { get; init; }

    /// <summary>Section modulus index, cm³.</summary>
    public double? ZCm3 { get; init; }

    /// <summary>Volumetric buckling ratio of the neck.</summary>
    public double? BucklingRatio { get; init; }

    /// <summary>Body weight used, kg.</summary>
    public double? BodyWeightKg { get; init; }
}
