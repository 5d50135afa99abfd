using HomaBone.Qct.Calibration;
using HomaBone.Qct.Measures;
using HomaBone.Qct.Series;

namespace HomaBone.Qct;

/// <summary>One named measure with its unit, for transport (gRPC) and tables. Null value = not computable.</summary>
/// <param name="Key">Stable key, e.g. <c>neck.bmc_corrected</c>.</param>
/// <param name="Value">The value, or null when not computable.</param>
/// <param name="Unit">Unit, e.g. <c>mg</c>, <c>g/cm2</c>, <c>m2/N</c>.</param>
public sealed record QctMeasure(string Key, double? Value, string Unit);

/// <summary>Everything <see cref="QctAnalyzer"/> computes from one CT series and its label series.</summary>
public sealed record QctResult
{
    /// <summary>Identity, protocol and geometry of the CT series.</summary>
    public required CtSeriesInfo Series { get; init; }

    /// <summary>The phantom calibration fit (slope, intercept, σ/β for Mindways, R, rods).</summary>
    public required CalibrationFit Calibration { get; init; }

    /// <summary>Regions present (neck, trochanter, intertrochanter) and total.</summary>
    public required IReadOnlyList<RegionMeasures> Regions { get; init; }

    /// <summary>Projected and HSA measures of the neck; null without a neck region.</summary>
    public NeckGeometry? Neck { get; init; }

    /// <summary>The study's CSI, Z and BR.</summary>
    public required StudyIndices Study { get; init; }

    /// <summary>Background (soft tissue) density around the bone, mg/cm³.</summary>
    public double BackgroundDensityMgPerCm3 { get; init; }

    /// <summary>Dilation over which BMC was conserved, mm.</summary>
    public double DilationMm { get; init; }

    /// <summary>Protocol deviations and other non-fatal findings.</summary>
    public required IReadOnlyList<QctWarning> Warnings { get; init; }

    /// <summary>The region named <paramref name="name"/>, or null.</summary>
    public RegionMeasures? Region(string name) => Regions.FirstOrDefault(r => r.Region == name);

    /// <summary>All measures flattened with units (keys are stable; see docs/qct-implementation.md).</summary>
    public IReadOnlyList<QctMeasure> ToMeasures()
    {
        var list = new List<QctMeasure>
        {
            new("calibration.slope", Calibration.Slope, "mg/cm3 per HU"),
            new("calibration.intercept", Calibration.Intercept, "mg/cm3"),
            new("calibration.r_squared", Calibration.RSquared, "1"),
            new("calibration.sigma_ct", Nullable(Calibration.SigmaCt), "HU per mg/cm3"),
            new("calibration.beta_ct", Nullable(Calibration.BetaCt), "HU"),
        };
        foreach (var r in Regions)
        {
            Add(list, r.Region, string.Empty, r.Integral);
            Add(list, r.Region, "cortical_", r.Cortical);
            Add(list, r.Region, "trabecular_", r.Trabecular);
            Add(list, r.Region, "pvc_", r.IntegralCorrected);
            Add(list, r.Region, "pvc_cortical_", r.CorticalCorrected);
            Add(list, r.Region, "pvc_trabecular_", r.TrabecularCorrected);
        }

        if (Neck is { } n)
        {
            list.Add(new("neck.abmd", n.ArealBmdGPerCm2, "g/cm2"));
            list.Add(new("neck.projected_area", n.ProjectedAreaCm2, "cm2"));
            list.Add(new("neck.width", n.NeckWidthCm, "cm"));
            list.Add(new("neck.hsa_csa", n.CsaCm2, "cm2"));
            list.Add(new("neck.hsa_csmi", n.CsmiCm4, "cm4"));
            list.Add(new("neck.hsa_z", n.SectionModulusCm3, "cm3"));
            list.Add(new("neck.hsa_cortical_thickness", n.CorticalThicknessCm, "cm"));
            list.Add(new("neck.cortical_depth", n.CorticalDepthCm, "cm"));
            list.Add(new("neck.hsa_buckling_ratio", Nullable(n.BucklingRatio), "1"));
        }

        list.Add(new("study.area", Study.AreaCm2, "cm2"));
        list.Add(new("study.csi", Study.CsiM2PerN, "m2/N"));
        list.Add(new("study.z", Study.ZCm3, "cm3"));
        list.Add(new("study.buckling_ratio", Study.BucklingRatio, "1"));
        return list;
    }

    private static void Add(List<QctMeasure> list, string region, string prefix, CompartmentMeasures m)
    {
        list.Add(new($"{region}.{prefix}volume", m.VolumeCm3, "cm3"));
        list.Add(new($"{region}.{prefix}bmc", m.BmcMg, "mg"));
        list.Add(new($"{region}.{prefix}vbmd", Nullable(m.VbmdMgPerCm3), "mg/cm3"));
    }

    private static double? Nullable(double value) => double.IsFinite(value) ? value : null;
}
