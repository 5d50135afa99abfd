using System.Globalization;

namespace HomaBone.Domain;

/// <summary>One problem with one field of a record.</summary>
/// <param name="Field">Dotted path of the field, e.g. <c>labs.glucose</c>.</param>
/// <param name="Description">What is wrong, with the accepted range and unit.</param>
public sealed record FieldViolation(string Field, string Description);

/// <summary>A plausibility range of one numeric field, in the field's canonical unit (inclusive at both ends).</summary>
/// <param name="Field">Dotted path.</param>
/// <param name="Min">Smallest accepted value.</param>
/// <param name="Max">Largest accepted value.</param>
/// <param name="Unit">Canonical unit symbol.</param>
public sealed record PlausibilityRange(string Field, double Min, double Max, string Unit);

/// <summary>Validation of participant records and identifiers. Every violation is reported at once.</summary>
public static class ParticipantValidator
{
    /// <summary>Longest accepted participant identifier.</summary>
    public const int MaxIdLength = 64;

    private static readonly string[] Regions = ["femoralNeck", "trochanter", "intertrochanter", "totalProximalFemur"];

    /// <summary>The plausibility ranges, in canonical units (also tabulated in docs/domain.md).</summary>
    public static IReadOnlyList<PlausibilityRange> Ranges { get; } = BuildRanges();

    private static readonly Dictionary<string, PlausibilityRange> RangeByField =
        Ranges.ToDictionary(r => r.Field, StringComparer.Ordinal);

    /// <summary>Whether <paramref name="id"/> is 1–64 characters of [A-Za-z0-9._-].</summary>
    /// <param name="id">Candidate identifier.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidIdentifier(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxIdLength && id.All(IsIdChar);

    /// <summary>Validates an identifier (participant or cohort).</summary>
    /// <param name="field">Field path to report, e.g. <c>participantId</c>.</param>
    /// <param name="id">The identifier.</param>
    /// <returns>Zero or one violation.</returns>
    public static IReadOnlyList<FieldViolation> ValidateIdentifier(string field, string? id)
    {
        if (IsValidIdentifier(id))
        {
            return [];
        }

        var got = id is null ? "nothing"
            : id.Length == 0 ? "an empty string"
            : id.Length > MaxIdLength ? string.Create(CultureInfo.InvariantCulture, $"{id.Length} characters")
            : "a character outside the set";
        return [new FieldViolation(field, $"must be 1–{MaxIdLength} characters of [A-Za-z0-9._-]; got {got}")];
    }

    /// <summary>Validates an identifier and a record together.</summary>
    /// <param name="participantId">Participant identifier.</param>
    /// <param name="participant">The record.</param>
    /// <param name="options">Unit conversion constants.</param>
    /// <returns>Every violation (empty when valid).</returns>
    public static IReadOnlyList<FieldViolation> Validate(string? participantId, Participant participant, UnitConversionOptions? options = null)
    {
        var list = new List<FieldViolation>(ValidateIdentifier("participantId", participantId));
        list.AddRange(Validate(participant, options));
        return list;
    }

    /// <summary>
    /// Validates a record: finite numbers inside the plausibility ranges, accepted units, integer IPAQ days 0–7,
    /// minutes 0–1440, defined enum values, and consistency between related fields.
    /// </summary>
    /// <param name="participant">The record.</param>
    /// <param name="options">Unit conversion constants (the insulin factor affects the range check).</param>
    /// <returns>Every violation (empty when valid).</returns>
    public static IReadOnlyList<FieldViolation> Validate(Participant participant, UnitConversionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(participant);
        options ??= UnitConversionOptions.Default;
        var v = new List<FieldViolation>();

        var d = participant.Demographics ?? new Demographics();
        if (!Enum.IsDefined(d.Sex))
        {
            v.Add(new("demographics.sex", string.Create(CultureInfo.InvariantCulture, $"unknown value {(int)d.Sex}; accepted: unspecified, female, male")));
        }

        Check(v, "demographics.ageYears", d.AgeYears);
        Check(v, "demographics.monthsSinceLastMenses", d.MonthsSinceLastMenses);
        Check(v, "demographics.alcoholUnitsPerDay", d.AlcoholUnitsPerDay);
        if (d.MonthsSinceLastMenses is { } months && double.IsFinite(months) && d.AnyMenstrualFlowWithin12Months is { } flow
            && (months < 12) != flow)
        {
            v.Add(new("demographics.anyMenstrualFlowWithin12Months", string.Create(CultureInfo.InvariantCulture,
                $"inconsistent with monthsSinceLastMenses = {months} (flow within 12 months means < 12 months)")));
        }

        if (d.Sex == Sex.Male && (d.MonthsSinceLastMenses is not null || d.AnyMenstrualFlowWithin12Months == true))
        {
            v.Add(new("demographics.sex", "male, but menstrual history is given"));
        }

        var a = participant.Anthropometry ?? new Anthropometry();
        Check(v, "anthropometry.heightCm", a.HeightCm);
        Check(v, "anthropometry.weightKg", a.WeightKg);
        Check(v, "anthropometry.waistCm", a.WaistCm);
        Check(v, "anthropometry.thighCm", a.ThighCm);

        var labs = participant.Labs ?? new LabResults();
        foreach (var analyte in LabAnalytes)
        {
            CheckLab(v, analyte, labs.Get(analyte), options);
        }

        var tc = labs.CanonicalValue(Analyte.TotalCholesterol, options);
        foreach (var (analyte, name) in new[] { (Analyte.HdlCholesterol, "HDL"), (Analyte.LdlCholesterol, "LDL") })
        {
            var part = labs.CanonicalValue(analyte, options);
            if (tc is { } t && part is { } p && double.IsFinite(t) && double.IsFinite(p) && p > t)
            {
                v.Add(new(LabField(analyte), string.Create(CultureInfo.InvariantCulture,
                    $"{name} cholesterol {p:0.##} mg/dL exceeds total cholesterol {t:0.##} mg/dL")));
            }
        }

        var pa = participant.PhysicalActivity ?? new IpaqResponses();
        CheckDays(v, "physicalActivity.vigorousDays", pa.VigorousDays);
        Check(v, "physicalActivity.vigorousMinutesPerDay", pa.VigorousMinutesPerDay);
        CheckDays(v, "physicalActivity.moderateDays", pa.ModerateDays);
        Check(v, "physicalActivity.moderateMinutesPerDay", pa.ModerateMinutesPerDay);
        CheckDays(v, "physicalActivity.walkingDays", pa.WalkingDays);
        Check(v, "physicalActivity.walkingMinutesPerDay", pa.WalkingMinutesPerDay);

        var q = participant.Qct ?? new QctMeasures();
        Check(v, "qct.l1L2VbmdMgPerCm3", q.L1L2VbmdMgPerCm3);
        var regions = new[] { q.FemoralNeck, q.Trochanter, q.Intertrochanter, q.TotalProximalFemur };
        for (var i = 0; i < regions.Length; i++)
        {
            var r = regions[i] ?? new QctRegion();
            var prefix = "qct." + Regions[i] + ".";
            Check(v, prefix + "totalVbmdMgPerCm3", r.TotalVbmdMgPerCm3);
            Check(v, prefix + "corticalVbmdMgPerCm3", r.CorticalVbmdMgPerCm3);
            Check(v, prefix + "trabecularVbmdMgPerCm3", r.TrabecularVbmdMgPerCm3);
            Check(v, prefix + "totalVolumeCm3", r.TotalVolumeCm3);
            Check(v, prefix + "corticalVolumeCm3", r.CorticalVolumeCm3);
            Check(v, prefix + "trabecularVolumeCm3", r.TrabecularVolumeCm3);
            if (r.TotalVolumeCm3 is { } total && double.IsFinite(total))
            {
                if (r.CorticalVolumeCm3 is { } cort && double.IsFinite(cort) && cort > total)
                {
                    v.Add(new(prefix + "corticalVolumeCm3", string.Create(CultureInfo.InvariantCulture,
                        $"cortical volume {cort} cm³ exceeds total volume {total} cm³")));
                }

                if (r.TrabecularVolumeCm3 is { } trab && double.IsFinite(trab) && trab > total)
                {
                    v.Add(new(prefix + "trabecularVolumeCm3", string.Create(CultureInfo.InvariantCulture,
                        $"trabecular volume {trab} cm³ exceeds total volume {total} cm³")));
                }
            }
        }

        var g = q.NeckGeometry ?? new FemoralNeckGeometry();
        Check(v, "qct.neckGeometry.projectedAbmdGPerCm2", g.ProjectedAbmdGPerCm2);
        Check(v, "qct.neckGeometry.neckWidthCm", g.NeckWidthCm);
        Check(v, "qct.neckGeometry.corticalDepthMm", g.CorticalDepthMm);
        Check(v, "qct.neckGeometry.hipAxisLengthMm", g.HipAxisLengthMm);
        Check(v, "qct.neckGeometry.neckAngleDeg", g.NeckAngleDeg);
        return v;
    }

    /// <summary>The field path of a laboratory analyte, e.g. <c>labs.glucose</c>.</summary>
    /// <param name="analyte">The analyte.</param>
    /// <returns>The path.</returns>
    public static string LabField(Analyte analyte) => analyte switch
    {
        Analyte.Glucose => "labs.glucose",
        Analyte.Insulin => "labs.insulin",
        Analyte.HbA1c => "labs.hbA1c",
        Analyte.TotalCholesterol => "labs.totalCholesterol",
        Analyte.HdlCholesterol => "labs.hdlCholesterol",
        Analyte.LdlCholesterol => "labs.ldlCholesterol",
        Analyte.Triglycerides => "labs.triglycerides",
        Analyte.HsCrp => "labs.hsCrp",
        Analyte.VitaminD => "labs.vitaminD",
        Analyte.Creatinine => "labs.creatinine",
        _ => "labs.unknown",
    };

    private static readonly Analyte[] LabAnalytes =
    [
        Analyte.Glucose, Analyte.Insulin, Analyte.HbA1c, Analyte.TotalCholesterol, Analyte.HdlCholesterol,
        Analyte.LdlCholesterol, Analyte.Triglycerides, Analyte.HsCrp, Analyte.VitaminD, Analyte.Creatinine,
    ];

    private static void CheckLab(List<FieldViolation> v, Analyte analyte, Quantity? quantity, UnitConversionOptions options)
    {
        if (quantity is not { } q)
        {
            return;
        }

        var field = LabField(analyte);
        if (!UnitConversions.IsAccepted(analyte, q.Unit))
        {
            var accepted = string.Join(", ", UnitConversions.AcceptedUnits(analyte).Select(UnitConversions.Symbol));
            v.Add(new(field + ".unit", $"unit {UnitConversions.Symbol(q.Unit)} is not accepted; accepted: {accepted}"));
            return;
        }

        if (!double.IsFinite(q.Value))
        {
            v.Add(new(field, string.Create(CultureInfo.InvariantCulture, $"must be a finite number; got {q.Value}")));
            return;
        }

        if (analyte == Analyte.Insulin && !(options.InsulinPmolPerMicroIu > 0 && double.IsFinite(options.InsulinPmolPerMicroIu)))
        {
            v.Add(new(field, "insulin conversion factor (pmol/L per µIU/mL) must be a positive number"));
            return;
        }

        var canonical = UnitConversions.ToCanonical(analyte, q, options);
        var range = RangeByField[field];
        if (canonical < range.Min || canonical > range.Max)
        {
            var got = q.Unit == UnitConversions.CanonicalUnit(analyte)
                ? string.Create(CultureInfo.InvariantCulture, $"{q.Value}")
                : string.Create(CultureInfo.InvariantCulture,
                    $"{q.Value} {UnitConversions.Symbol(q.Unit)} (= {canonical:G6} {range.Unit})");
            v.Add(new(field, string.Create(CultureInfo.InvariantCulture,
                $"must be between {range.Min} and {range.Max} {range.Unit}; got {got}")));
        }
    }

    private static void Check(List<FieldViolation> v, string field, double? value)
    {
        if (value is not { } x)
        {
            return;
        }

        var range = RangeByField[field];
        if (!double.IsFinite(x))
        {
            v.Add(new(field, string.Create(CultureInfo.InvariantCulture, $"must be a finite number ({range.Unit}); got {x}")));
        }
        else if (x < range.Min || x > range.Max)
        {
            v.Add(new(field, string.Create(CultureInfo.InvariantCulture,
                $"must be between {range.Min} and {range.Max} {range.Unit}; got {x}")));
        }
    }

    private static void CheckDays(List<FieldViolation> v, string field, int? days)
    {
        if (days is { } d && (d < 0 || d > 7))
        {
            v.Add(new(field, string.Create(CultureInfo.InvariantCulture, $"must be between 0 and 7 days/week; got {d}")));
        }
    }

    private static bool IsIdChar(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-';

    private static List<PlausibilityRange> BuildRanges()
    {
        var r = new List<PlausibilityRange>
        {
            new("demographics.ageYears", 18, 120, "years"),
            new("demographics.monthsSinceLastMenses", 0, 1200, "months"),
            new("demographics.alcoholUnitsPerDay", 0, 50, "units/day"),
            new("anthropometry.heightCm", 100, 230, "cm"),
            new("anthropometry.weightKg", 25, 300, "kg"),
            new("anthropometry.waistCm", 40, 200, "cm"),
            new("anthropometry.thighCm", 20, 120, "cm"),
            new("labs.glucose", 20, 600, "mg/dL"),
            new("labs.insulin", 0, 500, "µIU/mL"),
            new("labs.hbA1c", 3, 20, "%"),
            new("labs.totalCholesterol", 50, 700, "mg/dL"),
            new("labs.hdlCholesterol", 5, 250, "mg/dL"),
            new("labs.ldlCholesterol", 5, 600, "mg/dL"),
            new("labs.triglycerides", 10, 5000, "mg/dL"),
            new("labs.hsCrp", 0, 300, "mg/L"),
            new("labs.vitaminD", 0, 200, "ng/mL"),
            new("labs.creatinine", 0.1, 20, "mg/dL"),
            new("physicalActivity.vigorousMinutesPerDay", 0, 1440, "min/day"),
            new("physicalActivity.moderateMinutesPerDay", 0, 1440, "min/day"),
            new("physicalActivity.walkingMinutesPerDay", 0, 1440, "min/day"),
            new("qct.l1L2VbmdMgPerCm3", 0, 500, "mg/cm³"),
        };
        foreach (var region in Regions)
        {
            var p = "qct." + region + ".";
            r.Add(new(p + "totalVbmdMgPerCm3", 20, 1200, "mg/cm³"));
            r.Add(new(p + "corticalVbmdMgPerCm3", 100, 1600, "mg/cm³"));
            r.Add(new(p + "trabecularVbmdMgPerCm3", -100, 600, "mg/cm³"));
            r.Add(new(p + "totalVolumeCm3", 0, 300, "cm³"));
            r.Add(new(p + "corticalVolumeCm3", 0, 300, "cm³"));
            r.Add(new(p + "trabecularVolumeCm3", 0, 300, "cm³"));
        }

        r.Add(new("qct.neckGeometry.projectedAbmdGPerCm2", 0.1, 2.0, "g/cm²"));
        r.Add(new("qct.neckGeometry.neckWidthCm", 1.5, 6.0, "cm"));
        r.Add(new("qct.neckGeometry.corticalDepthMm", 0, 10, "mm"));
        r.Add(new("qct.neckGeometry.hipAxisLengthMm", 50, 200, "mm"));
        r.Add(new("qct.neckGeometry.neckAngleDeg", 0, 180, "deg"));
        return r;
    }
}
