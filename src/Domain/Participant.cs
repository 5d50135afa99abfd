namespace HomaBone.Domain;

/// <summary>Sex as recorded; <see cref="Unspecified"/> means missing.</summary>
public enum Sex
{
    /// <summary>Missing.</summary>
    Unspecified = 0,

    /// <summary>Female.</summary>
    Female = 1,

    /// <summary>Male.</summary>
    Male = 2,
}

/// <summary>
/// One participant's inputs. Every field is optional: missing is normal, and each derivation or eligibility
/// criterion says what it does without it. The record is immutable; a correction is a new record.
/// </summary>
public sealed record Participant
{
    /// <summary>Demographics and medical history.</summary>
    public Demographics Demographics { get; init; } = new();

    /// <summary>Anthropometry.</summary>
    public Anthropometry Anthropometry { get; init; } = new();

    /// <summary>Fasting laboratory values, each with its unit.</summary>
    public LabResults Labs { get; init; } = new();

    /// <summary>IPAQ short-form answers.</summary>
    public IpaqResponses PhysicalActivity { get; init; } = new();

    /// <summary>QCT measures of the lumbar spine and proximal femur.</summary>
    public QctMeasures Qct { get; init; } = new();
}

/// <summary>Demographics and history.</summary>
public sealed record Demographics
{
    /// <summary>Sex (the study is of women; the eGFR equations need it).</summary>
    public Sex Sex { get; init; }

    /// <summary>Age in years (fractional allowed).</summary>
    public double? AgeYears { get; init; }

    /// <summary>Months since the last menstrual flow (0 = currently menstruating).</summary>
    public double? MonthsSinceLastMenses { get; init; }

    /// <summary>Any menstrual flow within the last 12 months (the questionnaire's yes/no form).</summary>
    public bool? AnyMenstrualFlowWithin12Months { get; init; }

    /// <summary>Currently taking anti-diabetic medication (oral agents or insulin).</summary>
    public bool? AntiDiabeticMedication { get; init; }

    /// <summary>Current or past treatment for osteoporosis (bisphosphonate, SERM, denosumab, teriparatide…).</summary>
    public bool? OsteoporosisTreatment { get; init; }

    /// <summary>Current systemic glucocorticoid use.</summary>
    public bool? CurrentGlucocorticoid { get; init; }

    /// <summary>Estrogen replacement (menopausal hormone) therapy.</summary>
    public bool? EstrogenReplacementTherapy { get; init; }

    /// <summary>Liver cirrhosis.</summary>
    public bool? LiverCirrhosis { get; init; }

    /// <summary>Current smoking.</summary>
    public bool? CurrentSmoking { get; init; }

    /// <summary>Alcohol, standard units per day (the study's category is ≥ 1 unit/day).</summary>
    public double? AlcoholUnitsPerDay { get; init; }

    /// <summary>Black race, used only by the race coefficient of CKD-EPI 2009 (missing → coefficient not applied).</summary>
    public bool? Black { get; init; }
}

/// <summary>Anthropometry.</summary>
public sealed record Anthropometry
{
    /// <summary>Height in cm (to 0.1).</summary>
    public double? HeightCm { get; init; }

    /// <summary>Weight in kg (to 0.1).</summary>
    public double? WeightKg { get; init; }

    /// <summary>Waist circumference in cm.</summary>
    public double? WaistCm { get; init; }

    /// <summary>Mid-thigh circumference in cm.</summary>
    public double? ThighCm { get; init; }
}

/// <summary>Fasting (&gt; 8 h) laboratory values, each with the unit it arrived in.</summary>
public sealed record LabResults
{
    /// <summary>Fasting plasma glucose (mg/dL or mmol/L).</summary>
    public Quantity? Glucose { get; init; }

    /// <summary>Fasting insulin (µIU/mL or pmol/L).</summary>
    public Quantity? Insulin { get; init; }

    /// <summary>HbA1c (% NGSP or mmol/mol IFCC).</summary>
    public Quantity? HbA1c { get; init; }

    /// <summary>Total cholesterol (mg/dL or mmol/L).</summary>
    public Quantity? TotalCholesterol { get; init; }

    /// <summary>HDL cholesterol (mg/dL or mmol/L).</summary>
    public Quantity? HdlCholesterol { get; init; }

    /// <summary>LDL cholesterol (mg/dL or mmol/L).</summary>
    public Quantity? LdlCholesterol { get; init; }

    /// <summary>Triglycerides (mg/dL or mmol/L).</summary>
    public Quantity? Triglycerides { get; init; }

    /// <summary>hs-CRP (mg/L or mg/dL). 0 means below the detection limit.</summary>
    public Quantity? HsCrp { get; init; }

    /// <summary>25(OH)D (ng/mL or nmol/L).</summary>
    public Quantity? VitaminD { get; init; }

    /// <summary>Serum creatinine, IDMS-standardised (mg/dL or µmol/L).</summary>
    public Quantity? Creatinine { get; init; }

    /// <summary>The quantity recorded for an analyte.</summary>
    /// <param name="analyte">The analyte.</param>
    /// <returns>The quantity, or null when missing.</returns>
    public Quantity? Get(Analyte analyte) => analyte switch
    {
        Analyte.Glucose => Glucose,
        Analyte.Insulin => Insulin,
        Analyte.HbA1c => HbA1c,
        Analyte.TotalCholesterol => TotalCholesterol,
        Analyte.HdlCholesterol => HdlCholesterol,
        Analyte.LdlCholesterol => LdlCholesterol,
        Analyte.Triglycerides => Triglycerides,
        Analyte.HsCrp => HsCrp,
        Analyte.VitaminD => VitaminD,
        Analyte.Creatinine => Creatinine,
        _ => null,
    };

    /// <summary>The same results with every present quantity expressed in its canonical unit.</summary>
    /// <param name="options">Conversion constants.</param>
    /// <returns>Canonical results (values with an unaccepted unit are left as they are; validation reports them).</returns>
    public LabResults ToCanonical(UnitConversionOptions? options = null) => new()
    {
        Glucose = Canonical(Analyte.Glucose, Glucose, options),
        Insulin = Canonical(Analyte.Insulin, Insulin, options),
        HbA1c = Canonical(Analyte.HbA1c, HbA1c, options),
        TotalCholesterol = Canonical(Analyte.TotalCholesterol, TotalCholesterol, options),
        HdlCholesterol = Canonical(Analyte.HdlCholesterol, HdlCholesterol, options),
        LdlCholesterol = Canonical(Analyte.LdlCholesterol, LdlCholesterol, options),
        Triglycerides = Canonical(Analyte.Triglycerides, Triglycerides, options),
        HsCrp = Canonical(Analyte.HsCrp, HsCrp, options),
        VitaminD = Canonical(Analyte.VitaminD, VitaminD, options),
        Creatinine = Canonical(Analyte.Creatinine, Creatinine, options),
    };

    /// <summary>The value of an analyte in its canonical unit, or null when missing or in an unaccepted unit.</summary>
    /// <param name="analyte">The analyte.</param>
    /// <param name="options">Conversion constants.</param>
    /// <returns>The canonical value.</returns>
    public double? CanonicalValue(Analyte analyte, UnitConversionOptions? options = null)
    {
        var q = Get(analyte);
        if (q is null || !UnitConversions.IsAccepted(analyte, q.Value.Unit))
        {
            return null;
        }

        return UnitConversions.ToCanonical(analyte, q.Value, options);
    }

    private static Quantity? Canonical(Analyte analyte, Quantity? q, UnitConversionOptions? options)
    {
        if (q is null || !UnitConversions.IsAccepted(analyte, q.Value.Unit))
        {
            return q;
        }

        return new Quantity(UnitConversions.ToCanonical(analyte, q.Value, options), UnitConversions.CanonicalUnit(analyte));
    }
}

/// <summary>
/// IPAQ short-form answers (last 7 days): days per week and usual minutes per day for each intensity.
/// Hours + minutes answers are converted to minutes/day by the caller (weekly totals ÷ 7).
/// </summary>
public sealed record IpaqResponses
{
    /// <summary>Days with vigorous activity (0–7).</summary>
    public int? VigorousDays { get; init; }

    /// <summary>Usual minutes per day of vigorous activity.</summary>
    public double? VigorousMinutesPerDay { get; init; }

    /// <summary>Days with moderate activity (0–7).</summary>
    public int? ModerateDays { get; init; }

    /// <summary>Usual minutes per day of moderate activity.</summary>
    public double? ModerateMinutesPerDay { get; init; }

    /// <summary>Days walking at least 10 minutes (0–7).</summary>
    public int? WalkingDays { get; init; }

    /// <summary>Usual minutes per day of walking.</summary>
    public double? WalkingMinutesPerDay { get; init; }

    /// <summary>True when no IPAQ item was answered.</summary>
    public bool IsEmpty => VigorousDays is null && VigorousMinutesPerDay is null && ModerateDays is null
        && ModerateMinutesPerDay is null && WalkingDays is null && WalkingMinutesPerDay is null;
}

/// <summary>QCT measures of one proximal-femur region (QCTPro, partial-volume-corrected volumes).</summary>
public sealed record QctRegion
{
    /// <summary>Integral (total) vBMD, mg/cm³ K2HPO4.</summary>
    public double? TotalVbmdMgPerCm3 { get; init; }

    /// <summary>Cortical vBMD, mg/cm³.</summary>
    public double? CorticalVbmdMgPerCm3 { get; init; }

    /// <summary>Trabecular vBMD, mg/cm³.</summary>
    public double? TrabecularVbmdMgPerCm3 { get; init; }

    /// <summary>Total (enclosed) bone volume, cm³.</summary>
    public double? TotalVolumeCm3 { get; init; }

    /// <summary>Cortical bone volume, cm³.</summary>
    public double? CorticalVolumeCm3 { get; init; }

    /// <summary>Trabecular bone volume, cm³.</summary>
    public double? TrabecularVolumeCm3 { get; init; }

    /// <summary>True when no measure of the region is present.</summary>
    public bool IsEmpty => TotalVbmdMgPerCm3 is null && CorticalVbmdMgPerCm3 is null && TrabecularVbmdMgPerCm3 is null
        && TotalVolumeCm3 is null && CorticalVolumeCm3 is null && TrabecularVolumeCm3 is null;
}

/// <summary>Femoral-neck geometry from QCT (CTXA-style projection).</summary>
public sealed record FemoralNeckGeometry
{
    /// <summary>Projected areal BMD of the femoral neck, g/cm².</summary>
    public double? ProjectedAbmdGPerCm2 { get; init; }

    /// <summary>Femoral neck width, cm.</summary>
    public double? NeckWidthCm { get; init; }

    /// <summary>Estimated cortical depth (thickness), mm.</summary>
    public double? CorticalDepthMm { get; init; }

    /// <summary>Hip axis length, mm.</summary>
    public double? HipAxisLengthMm { get; init; }

    /// <summary>Femoral neck angle, degrees.</summary>
    public double? NeckAngleDeg { get; init; }

    /// <summary>True when no geometry measure is present.</summary>
    public bool IsEmpty => ProjectedAbmdGPerCm2 is null && NeckWidthCm is null && CorticalDepthMm is null
        && HipAxisLengthMm is null && NeckAngleDeg is null;
}

/// <summary>QCT measures: lumbar spine and the proximal femur regions.</summary>
public sealed record QctMeasures
{
    /// <summary>Mean vBMD of L1 and L2, mg/cm³.</summary>
    public double? L1L2VbmdMgPerCm3 { get; init; }

    /// <summary>Femoral neck.</summary>
    public QctRegion FemoralNeck { get; init; } = new();

    /// <summary>Trochanter.</summary>
    public QctRegion Trochanter { get; init; } = new();

    /// <summary>Intertrochanter.</summary>
    public QctRegion Intertrochanter { get; init; } = new();

    /// <summary>Total proximal femur.</summary>
    public QctRegion TotalProximalFemur { get; init; } = new();

    /// <summary>Femoral-neck geometry.</summary>
    public FemoralNeckGeometry NeckGeometry { get; init; } = new();

    /// <summary>True when there is no QCT measure at all (the "QCT missing" exclusion).</summary>
    public bool IsEmpty => L1L2VbmdMgPerCm3 is null && FemoralNeck.IsEmpty && Trochanter.IsEmpty
        && Intertrochanter.IsEmpty && TotalProximalFemur.IsEmpty && NeckGeometry.IsEmpty;
}
