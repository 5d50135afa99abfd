using HomaBone.Qct.Calibration;
using HomaBone.Qct.Dicom;

namespace HomaBone.Qct;

/// <summary>The neck axis as two points in patient coordinates (mm); the direction from the first to the second.</summary>
/// <param name="From">A point on the axis (e.g. at the trochanteric end).</param>
/// <param name="To">Another point on the axis (e.g. at the head end).</param>
public sealed record NeckAxis(Vec3 From, Vec3 To);

/// <summary>Options of <see cref="QctAnalyzer"/>. Defaults follow docs/qct.md and the study protocol.</summary>
public sealed record QctOptions
{
    /// <summary>Phantom model (Mindways liquid K2HPO4 by default).</summary>
    public PhantomKind Phantom { get; init; } = PhantomKind.MindwaysLiquidK2HPO4;

    /// <summary>Serial number of the scanned phantom, used to pick its certificate from <see cref="Certificates"/>.</summary>
    public string? PhantomSerial { get; init; }

    /// <summary>Mindways certificates by phantom serial; the published Model 3 certificate is used when the serial is unknown (with a warning).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<PhantomRod>> Certificates { get; init; } = new Dictionary<string, IReadOnlyList<PhantomRod>>();

    /// <summary>Solid phantom rod densities (mg/cm³ hydroxyapatite), in the physical order of the rods; required for solid phantoms.</summary>
    public IReadOnlyList<double>? SolidRodDensities { get; init; }

    /// <summary>Rod positions in certificate order; when null the rods are found automatically in the pad.</summary>
    public IReadOnlyList<RodLocation>? RodLocations { get; init; }

    /// <summary>Erosion from the rod edge before averaging, mm (at least 2).</summary>
    public double RodErosionMm { get; init; } = 2.0;

    /// <summary>Neck axis; estimated from the regions when null.</summary>
    public NeckAxis? NeckAxis { get; init; }

    /// <summary>Cortical threshold, mg/cm³.</summary>
    public double CorticalThresholdMgPerCm3 { get; init; } = 350;

    /// <summary>Body weight (kg) overriding Patient's Weight (0010,1030).</summary>
    public double? BodyWeightKg { get; init; }

    /// <summary>Accept lossy-compressed images (with a warning). Off: qct.md says they are never acceptable.</summary>
    public bool AllowLossy { get; init; }

    /// <summary>Protocol kVp; other values produce a warning.</summary>
    public double ExpectedKvp { get; init; } = 120;

    /// <summary>Protocol exposure, mAs; deviations above 25 % produce a warning.</summary>
    public double ExpectedExposureMas { get; init; } = 150;

    /// <summary>Thickest acceptable slice, mm; thicker slices produce a warning.</summary>
    public double MaxSliceThicknessMm { get; init; } = 3.0;

    /// <summary>Reader limits for every file.</summary>
    public DicomReadOptions ReadOptions { get; init; } = DicomReadOptions.Default;
}
