using System.Globalization;

namespace HomaBone.Domain;

/// <summary>Units a laboratory value may arrive in. <see cref="Unspecified"/> is never accepted.</summary>
public enum LabUnit
{
    /// <summary>No unit given: rejected by validation.</summary>
    Unspecified = 0,

    /// <summary>mg/dL (glucose, cholesterols, triglycerides, creatinine, hs-CRP).</summary>
    MgPerDl = 1,

    /// <summary>mmol/L (glucose, cholesterols, triglycerides).</summary>
    MmolPerL = 2,

    /// <summary>µIU/mL (= mU/L) insulin.</summary>
    MicroIuPerMl = 3,

    /// <summary>pmol/L insulin.</summary>
    PmolPerL = 4,

    /// <summary>µmol/L creatinine.</summary>
    MicromolPerL = 5,

    /// <summary>ng/mL 25(OH)D.</summary>
    NgPerMl = 6,

    /// <summary>nmol/L 25(OH)D.</summary>
    NmolPerL = 7,

    /// <summary>mg/L hs-CRP.</summary>
    MgPerL = 8,

    /// <summary>% (NGSP/DCCT) HbA1c.</summary>
    Percent = 9,

    /// <summary>mmol/mol (IFCC) HbA1c.</summary>
    MmolPerMol = 10,
}

/// <summary>The laboratory analytes of the study, each with a canonical (study) unit.</summary>
public enum Analyte
{
    /// <summary>Not an analyte; never valid.</summary>
    Unspecified = 0,

    /// <summary>Fasting plasma glucose; canonical mg/dL.</summary>
    Glucose = 1,

    /// <summary>Fasting insulin; canonical µIU/mL.</summary>
    Insulin = 2,

    /// <summary>Glycated haemoglobin; canonical % (NGSP).</summary>
    HbA1c = 3,

    /// <summary>Total cholesterol; canonical mg/dL.</summary>
    TotalCholesterol = 4,

    /// <summary>HDL cholesterol; canonical mg/dL.</summary>
    HdlCholesterol = 5,

    /// <summary>LDL cholesterol; canonical mg/dL.</summary>
    LdlCholesterol = 6,

    /// <summary>Triglycerides; canonical mg/dL.</summary>
    Triglycerides = 7,

    /// <summary>High-sensitivity C-reactive protein; canonical mg/L.</summary>
    HsCrp = 8,

    /// <summary>25-hydroxyvitamin D; canonical ng/mL.</summary>
    VitaminD = 9,

    /// <summary>Serum creatinine (IDMS-standardised); canonical mg/dL.</summary>
    Creatinine = 10,
}

/// <summary>A laboratory value together with the unit it was reported in.</summary>
/// <param name="Value">The number as reported.</param>
/// <param name="Unit">The unit of <paramref name="Value"/>.</param>
public readonly record struct Quantity(double Value, LabUnit Unit)
{
    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Value} {UnitConversions.Symbol(Unit)}");
}

/// <summary>Explicit, configurable unit-conversion constants (only the ones that are conventions rather than chemistry).</summary>
public sealed record UnitConversionOptions
{
    /// <summary>Default options: insulin 6.0 pmol/L per µIU/mL.</summary>
    public static UnitConversionOptions Default { get; } = new();

    /// <summary>
    /// Insulin pmol/L per µIU/mL. 6.0 is the conventional factor (Heinemann L, Diabetes Care 2010;33:e83);
    /// some laboratories use 6.945 (the WHO IRP 66/304 specific activity). Always explicit, never implicit.
    /// </summary>
    public double InsulinPmolPerMicroIu { get; init; } = 6.0;
}

/// <summary>Conversions of laboratory quantities to the study's canonical units.</summary>
/// <remarks>
/// Factors: glucose 18 mg/dL per mmol/L (molar mass 180.16 g/mol rounded as in Matthews 1985: 405 = 22.5 × 18);
/// creatinine 88.4 µmol/L per mg/dL (molar mass 113.12 g/mol; KDIGO 2012, CKD-EPI); 25(OH)D 2.496 nmol/L per ng/mL
/// (molar mass 400.64 g/mol; Holick, NEJM 2007;357:266); cholesterol 38.67 mg/dL per mmol/L (molar mass 386.65 g/mol);
/// triglycerides 88.57 mg/dL per mmol/L (as triolein, 885.7 g/mol) — the factors used by the NCEP ATP III report
/// (Circulation 2002;106:3143) and SI-unit conversion tables (e.g. AMA Manual of Style, SI conversion table);
/// hs-CRP 10 mg/L per mg/dL (definition); HbA1c NGSP % = 0.09148 × IFCC mmol/mol + 2.152
/// (Hoelzel W et al., Clin Chem 2004;50:166, the IFCC–NGSP master equation).
/// </remarks>
public static class UnitConversions
{
    /// <summary>mg/dL of glucose per mmol/L.</summary>
    public const double GlucoseMgPerDlPerMmolPerL = 18.0;

    /// <summary>µmol/L of creatinine per mg/dL.</summary>
    public const double CreatinineMicromolPerLPerMgPerDl = 88.4;

    /// <summary>nmol/L of 25(OH)D per ng/mL.</summary>
    public const double VitaminDNmolPerLPerNgPerMl = 2.496;

    /// <summary>mg/dL of cholesterol per mmol/L.</summary>
    public const double CholesterolMgPerDlPerMmolPerL = 38.67;

    /// <summary>mg/dL of triglycerides per mmol/L.</summary>
    public const double TriglyceridesMgPerDlPerMmolPerL = 88.57;

    /// <summary>The canonical (study) unit of an analyte.</summary>
    /// <param name="analyte">The analyte.</param>
    /// <returns>The unit values are stored and derived in.</returns>
    public static LabUnit CanonicalUnit(Analyte analyte) => analyte switch
    {
        Analyte.Glucose or Analyte.TotalCholesterol or Analyte.HdlCholesterol or Analyte.LdlCholesterol
            or Analyte.Triglycerides or Analyte.Creatinine => LabUnit.MgPerDl,
        Analyte.Insulin => LabUnit.MicroIuPerMl,
        Analyte.HbA1c => LabUnit.Percent,
        Analyte.HsCrp => LabUnit.MgPerL,
        Analyte.VitaminD => LabUnit.NgPerMl,
        _ => throw new ArgumentOutOfRangeException(nameof(analyte), analyte, "Unknown analyte."),
    };

    /// <summary>The units accepted for an analyte (the canonical one first).</summary>
    /// <param name="analyte">The analyte.</param>
    /// <returns>Accepted units.</returns>
    public static IReadOnlyList<LabUnit> AcceptedUnits(Analyte analyte) => analyte switch
    {
        Analyte.Glucose or Analyte.TotalCholesterol or Analyte.HdlCholesterol or Analyte.LdlCholesterol
            or Analyte.Triglycerides => [LabUnit.MgPerDl, LabUnit.MmolPerL],
        Analyte.Insulin => [LabUnit.MicroIuPerMl, LabUnit.PmolPerL],
        Analyte.HbA1c => [LabUnit.Percent, LabUnit.MmolPerMol],
        Analyte.HsCrp => [LabUnit.MgPerL, LabUnit.MgPerDl],
        Analyte.VitaminD => [LabUnit.NgPerMl, LabUnit.NmolPerL],
        Analyte.Creatinine => [LabUnit.MgPerDl, LabUnit.MicromolPerL],
        _ => [],
    };

    /// <summary>Whether <paramref name="unit"/> is accepted for <paramref name="analyte"/>.</summary>
    /// <param name="analyte">The analyte.</param>
    /// <param name="unit">The unit.</param>
    /// <returns>True when a conversion to the canonical unit exists.</returns>
    public static bool IsAccepted(Analyte analyte, LabUnit unit) => AcceptedUnits(analyte).Contains(unit);

    /// <summary>Converts a quantity to the analyte's canonical unit.</summary>
    /// <param name="analyte">The analyte.</param>
    /// <param name="quantity">The value and its unit.</param>
    /// <param name="options">Conversion constants (insulin factor); <see cref="UnitConversionOptions.Default"/> if null.</param>
    /// <returns>The value in <see cref="CanonicalUnit"/>.</returns>
    /// <exception cref="ArgumentException">The unit is not accepted for the analyte.</exception>
    public static double ToCanonical(Analyte analyte, Quantity quantity, UnitConversionOptions? options = null)
    {
        options ??= UnitConversionOptions.Default;
        var v = quantity.Value;
        return (analyte, quantity.Unit) switch
        {
            (Analyte.Glucose, LabUnit.MgPerDl) => v,
            (Analyte.Glucose, LabUnit.MmolPerL) => v * GlucoseMgPerDlPerMmolPerL,
            (Analyte.Insulin, LabUnit.MicroIuPerMl) => v,
            (Analyte.Insulin, LabUnit.PmolPerL) => v / options.InsulinPmolPerMicroIu,
            (Analyte.HbA1c, LabUnit.Percent) => v,
            (Analyte.HbA1c, LabUnit.MmolPerMol) => (0.09148 * v) + 2.152,
            (Analyte.TotalCholesterol or Analyte.HdlCholesterol or Analyte.LdlCholesterol, LabUnit.MgPerDl) => v,
            (Analyte.TotalCholesterol or Analyte.HdlCholesterol or Analyte.LdlCholesterol, LabUnit.MmolPerL) =>
                v * CholesterolMgPerDlPerMmolPerL,
            (Analyte.Triglycerides, LabUnit.MgPerDl) => v,
            (Analyte.Triglycerides, LabUnit.MmolPerL) => v * TriglyceridesMgPerDlPerMmolPerL,
            (Analyte.HsCrp, LabUnit.MgPerL) => v,
            (Analyte.HsCrp, LabUnit.MgPerDl) => v * 10.0,
            (Analyte.VitaminD, LabUnit.NgPerMl) => v,
            (Analyte.VitaminD, LabUnit.NmolPerL) => v / VitaminDNmolPerLPerNgPerMl,
            (Analyte.Creatinine, LabUnit.MgPerDl) => v,
            (Analyte.Creatinine, LabUnit.MicromolPerL) => v / CreatinineMicromolPerLPerMgPerDl,
            _ => throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Unit {quantity.Unit} is not accepted for {analyte}."),
                nameof(quantity)),
        };
    }

    /// <summary>Converts a canonical value back to another accepted unit (inverse of <see cref="ToCanonical"/>).</summary>
    /// <param name="analyte">The analyte.</param>
    /// <param name="canonicalValue">Value in the canonical unit.</param>
    /// <param name="unit">Target unit.</param>
    /// <param name="options">Conversion constants.</param>
    /// <returns>The quantity in <paramref name="unit"/>.</returns>
    public static Quantity FromCanonical(Analyte analyte, double canonicalValue, LabUnit unit, UnitConversionOptions? options = null)
    {
        options ??= UnitConversionOptions.Default;
        var v = canonicalValue;
        var converted = (analyte, unit) switch
        {
            (_, var u) when u == CanonicalUnit(analyte) => v,
            (Analyte.Glucose, LabUnit.MmolPerL) => v / GlucoseMgPerDlPerMmolPerL,
            (Analyte.Insulin, LabUnit.PmolPerL) => v * options.InsulinPmolPerMicroIu,
            (Analyte.HbA1c, LabUnit.MmolPerMol) => (v - 2.152) / 0.09148,
            (Analyte.TotalCholesterol or Analyte.HdlCholesterol or Analyte.LdlCholesterol, LabUnit.MmolPerL) =>
                v / CholesterolMgPerDlPerMmolPerL,
            (Analyte.Triglycerides, LabUnit.MmolPerL) => v / TriglyceridesMgPerDlPerMmolPerL,
            (Analyte.HsCrp, LabUnit.MgPerDl) => v / 10.0,
            (Analyte.VitaminD, LabUnit.NmolPerL) => v * VitaminDNmolPerLPerNgPerMl,
            (Analyte.Creatinine, LabUnit.MicromolPerL) => v * CreatinineMicromolPerLPerMgPerDl,
            _ => throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Unit {unit} is not accepted for {analyte}."), nameof(unit)),
        };
        return new Quantity(converted, unit);
    }

    /// <summary>A printable symbol for a unit.</summary>
    /// <param name="unit">The unit.</param>
    /// <returns>E.g. "mg/dL".</returns>
    public static string Symbol(LabUnit unit) => unit switch
    {
        LabUnit.MgPerDl => "mg/dL",
        LabUnit.MmolPerL => "mmol/L",
        LabUnit.MicroIuPerMl => "µIU/mL",
        LabUnit.PmolPerL => "pmol/L",
        LabUnit.MicromolPerL => "µmol/L",
        LabUnit.NgPerMl => "ng/mL",
        LabUnit.NmolPerL => "nmol/L",
        LabUnit.MgPerL => "mg/L",
        LabUnit.Percent => "%",
        LabUnit.MmolPerMol => "mmol/mol",
        _ => string.Create(CultureInfo.InvariantCulture, $"unit#{(int)unit}"),
    };
}
