using System.Globalization;
using HomaBone.Domain;

namespace HomaBone.Synthetic;

/// <summary>
/// Writes participants as CSV (RFC 4180, comma, invariant culture, one row per participant, every input in its
/// canonical unit; missing = empty field, booleans 1/0, sex F/M). Numbers use the shortest round-trip form, so R's
/// <c>read.csv</c> reads back the identical doubles. The last column is the generator's intended first exclusion
/// reason (empty for eligible participants).
/// </summary>
public static class ParticipantCsvWriter
{
    private static readonly string[] RegionColumns = ["fn", "troch", "inter", "tpf"];

    /// <summary>The header columns, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } = BuildColumns();

    /// <summary>Writes the header and one row per participant.</summary>
    /// <param name="writer">Destination.</param>
    /// <param name="participants">Participants (streamed).</param>
    /// <param name="units">Unit constants for converting non-canonical inputs.</param>
    public static void Write(TextWriter writer, IEnumerable<SyntheticParticipant> participants, UnitConversionOptions? units = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(participants);
        writer.Write(string.Join(',', Columns));
        writer.Write('\n');
        foreach (var p in participants)
        {
            WriteRow(writer, p.ParticipantId, p.Record, p.IntendedExclusion, units);
        }
    }

    /// <summary>Writes one row (no header).</summary>
    /// <param name="writer">Destination.</param>
    /// <param name="participantId">Identifier.</param>
    /// <param name="record">The record.</param>
    /// <param name="intendedExclusion">Value of the last column.</param>
    /// <param name="units">Unit constants.</param>
    public static void WriteRow(TextWriter writer, string participantId, Participant record, ExclusionReason? intendedExclusion = null, UnitConversionOptions? units = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        var f = new List<string>(Columns.Count) { Quote(participantId) };
        var d = record.Demographics;
        f.Add(d.Sex switch { Sex.Female => "F", Sex.Male => "M", _ => string.Empty });
        f.Add(N(d.AgeYears));
        f.Add(N(d.MonthsSinceLastMenses));
        f.Add(B(d.AnyMenstrualFlowWithin12Months));
        f.Add(B(d.AntiDiabeticMedication));
        f.Add(B(d.OsteoporosisTreatment));
        f.Add(B(d.CurrentGlucocorticoid));
        f.Add(B(d.EstrogenReplacementTherapy));
        f.Add(B(d.LiverCirrhosis));
        f.Add(B(d.CurrentSmoking));
        f.Add(N(d.AlcoholUnitsPerDay));
        f.Add(B(d.Black));
        var a = record.Anthropometry;
        f.Add(N(a.HeightCm));
        f.Add(N(a.WeightKg));
        f.Add(N(a.WaistCm));
        f.Add(N(a.ThighCm));
        foreach (var analyte in LabOrder)
        {
            f.Add(N(record.Labs.CanonicalValue(analyte, units)));
        }

        var pa = record.PhysicalActivity;
        f.Add(I(pa.VigorousDays));
        f.Add(N(pa.VigorousMinutesPerDay));
        f.Add(I(pa.ModerateDays));
        f.Add(N(pa.ModerateMinutesPerDay));
        f.Add(I(pa.WalkingDays));
        f.Add(N(pa.WalkingMinutesPerDay));
        var q = record.Qct;
        f.Add(N(q.L1L2VbmdMgPerCm3));
        foreach (var r in new[] { q.FemoralNeck, q.Trochanter, q.Intertrochanter, q.TotalProximalFemur })
        {
            f.Add(N(r.TotalVbmdMgPerCm3));
            f.Add(N(r.CorticalVbmdMgPerCm3));
            f.Add(N(r.TrabecularVbmdMgPerCm3));
            f.Add(N(r.TotalVolumeCm3));
            f.Add(N(r.CorticalVolumeCm3));
            f.Add(N(r.TrabecularVolumeCm3));
        }

        var g = q.NeckGeometry;
        f.Add(N(g.ProjectedAbmdGPerCm2));
        f.Add(N(g.NeckWidthCm));
        f.Add(N(g.CorticalDepthMm));
        f.Add(N(g.HipAxisLengthMm));
        f.Add(N(g.NeckAngleDeg));
        f.Add(intendedExclusion is { } e ? e.ToString() : string.Empty);
        writer.Write(string.Join(',', f));
        writer.Write('\n');
    }

    private static readonly Analyte[] LabOrder =
    [
        Analyte.Glucose, Analyte.Insulin, Analyte.HbA1c, Analyte.TotalCholesterol, Analyte.HdlCholesterol,
        Analyte.LdlCholesterol, Analyte.Triglycerides, Analyte.HsCrp, Analyte.VitaminD, Analyte.Creatinine,
    ];

    private static List<string> BuildColumns()
    {
        var c = new List<string>
        {
            "participant_id", "sex", "age_years", "months_since_last_menses", "any_flow_12m", "antidiabetic_medication",
            "osteoporosis_treatment", "current_glucocorticoid", "estrogen_replacement", "liver_cirrhosis",
            "current_smoking", "alcohol_units_per_day", "black", "height_cm", "weight_kg", "waist_cm", "thigh_cm",
            "glucose_mg_dl", "insulin_uiu_ml", "hba1c_percent", "total_chol_mg_dl", "hdl_mg_dl", "ldl_mg_dl",
            "tg_mg_dl", "hscrp_mg_l", "vitd_ng_ml", "creatinine_mg_dl",
            "vig_days", "vig_min_per_day", "mod_days", "mod_min_per_day", "walk_days", "walk_min_per_day",
            "l1l2_vbmd_mg_cm3",
        };
        foreach (var r in RegionColumns)
        {
            c.Add(r + "_tot_vbmd_mg_cm3");
            c.Add(r + "_cort_vbmd_mg_cm3");
            c.Add(r + "_trab_vbmd_mg_cm3");
            c.Add(r + "_tot_vol_cm3");
            c.Add(r + "_cort_vol_cm3");
            c.Add(r + "_trab_vol_cm3");
        }

        c.AddRange(["fn_abmd_g_cm2", "fn_width_cm", "fn_cort_depth_mm", "hip_axis_length_mm", "neck_angle_deg", "intended_exclusion"]);
        return c;
    }

    private static string N(double? x) => x is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : string.Empty;

    private static string I(int? x) => x is { } v ? v.ToString(CultureInfo.InvariantCulture) : string.Empty;

    private static string B(bool? x) => x switch { true => "1", false => "0", null => string.Empty };

    private static string Quote(string s) =>
        s.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
