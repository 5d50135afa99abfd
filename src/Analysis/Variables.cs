namespace HomaBone.Analysis;

/// <summary>How a variable is summarised in Table 1.</summary>
public enum VariableKind
{
    /// <summary>Continuous, mean and SD.</summary>
    Continuous,

    /// <summary>Continuous and skewed, median and IQR.</summary>
    Skewed,

    /// <summary>0/1, count and percent.</summary>
    Binary,

    /// <summary>Ordinal category coded 1..k.</summary>
    Ordinal,
}

/// <summary>A variable of the catalogue: a column of <see cref="AnalysisRow.Values"/> (NaN = missing).</summary>
public sealed record Variable(int Index, string Name, string Label, string Unit, VariableKind Kind);

/// <summary>
/// The variable catalogue: every number the analyses use, in canonical study units. Names are the contract
/// of user-specified models (ModelTerm.variable) and of cohort settings (outcomes, covariates).
/// </summary>
public static class Variables
{
    private static readonly List<Variable> All = [];
    private static readonly Dictionary<string, Variable> ByName = new(StringComparer.Ordinal);

    /// <summary>HOMA-IR (Matthews 1985).</summary>
    public static readonly Variable HomaIr = Add("homa_ir", "HOMA-IR", string.Empty, VariableKind.Skewed);

    /// <summary>ln HOMA-IR.</summary>
    public static readonly Variable LogHomaIr = Add("log_homa_ir", "ln HOMA-IR", string.Empty, VariableKind.Continuous);

    /// <summary>QUICKI (Katz 2000).</summary>
    public static readonly Variable Quicki = Add("quicki", "QUICKI", string.Empty, VariableKind.Continuous);

    /// <summary>TyG index (Simental-Mendía 2008).</summary>
    public static readonly Variable TygIndex = Add("tyg_index", "TyG index", string.Empty, VariableKind.Continuous);

    /// <summary>Age.</summary>
    public static readonly Variable Age = Add("age", "Age", "a", VariableKind.Continuous);

    /// <summary>Height.</summary>
    public static readonly Variable Height = Add("height", "Height", "cm", VariableKind.Continuous);

    /// <summary>Weight.</summary>
    public static readonly Variable Weight = Add("weight", "Weight", "kg", VariableKind.Continuous);

    /// <summary>BMI.</summary>
    public static readonly Variable Bmi = Add("bmi", "BMI", "kg/m2", VariableKind.Continuous);

    /// <summary>Waist circumference.</summary>
    public static readonly Variable Waist = Add("waist", "Waist circumference", "cm", VariableKind.Continuous);

    /// <summary>Mid-thigh circumference.</summary>
    public static readonly Variable Thigh = Add("thigh", "Thigh circumference", "cm", VariableKind.Continuous);

    /// <summary>Fasting glucose.</summary>
    public static readonly Variable Glucose = Add("glucose", "Fasting glucose", "mg/dL", VariableKind.Continuous);

    /// <summary>Fasting insulin.</summary>
    public static readonly Variable Insulin = Add("insulin", "Fasting insulin", "uIU/mL", VariableKind.Continuous);

    /// <summary>Triglycerides.</summary>
    public static readonly Variable Triglycerides = Add("triglycerides", "Triglyceride", "mg/dL", VariableKind.Continuous);

    /// <summary>HDL cholesterol.</summary>
    public static readonly Variable Hdl = Add("hdl_cholesterol", "HDL cholesterol", "mg/dL", VariableKind.Continuous);

    /// <summary>25(OH)D.</summary>
    public static readonly Variable VitaminD = Add("vitamin_d", "25(OH)D", "ng/mL", VariableKind.Continuous);

    /// <summary>eGFR, CKD-EPI 2009.</summary>
    public static readonly Variable Egfr = Add("egfr", "eGFR (CKD-EPI 2009)", "mL/min/{1.73_m2}", VariableKind.Continuous);

    /// <summary>hs-CRP.</summary>
    public static readonly Variable HsCrp = Add("hs_crp", "hs-CRP", "mg/L", VariableKind.Skewed);

    /// <summary>Alcohol ≥ 1 unit/day.</summary>
    public static readonly Variable Alcohol = Add("alcohol_1_unit_per_day", "Alcohol ≥ 1 unit/day", string.Empty, VariableKind.Binary);

    /// <summary>Current smoking.</summary>
    public static readonly Variable Smoking = Add("current_smoking", "Current smoking", string.Empty, VariableKind.Binary);

    /// <summary>IPAQ category: 1 inactive, 2 minimally active, 3 HEPA active.</summary>
    public static readonly Variable PhysicalActivity = Add("physical_activity_category", "Physical activity (IPAQ)", string.Empty, VariableKind.Ordinal);

    /// <summary>IPAQ MET-min/week.</summary>
    public static readonly Variable MetMinutes = Add("met_minutes_per_week", "Physical activity", "{MET}.min/wk", VariableKind.Skewed);

    /// <summary>Femoral neck cortical depth.</summary>
    public static readonly Variable CorticalDepth = Add("neck_cortical_depth", "Neck cortical depth", "mm", VariableKind.Continuous);

    /// <summary>Femoral neck width.</summary>
    public static readonly Variable NeckWidth = Add("neck_width", "Neck width", "cm", VariableKind.Continuous);

    /// <summary>Hip axis length.</summary>
    public static readonly Variable HipAxisLength = Add("hip_axis_length", "Hip axis length", "mm", VariableKind.Continuous);

    /// <summary>Neck-shaft angle.</summary>
    public static readonly Variable NeckAngle = Add("neck_shaft_angle", "Neck angle", "deg", VariableKind.Continuous);

    /// <summary>Compressive strength index.</summary>
    public static readonly Variable Csi = Add("compressive_strength_index", "CSI", "mm2/N", VariableKind.Continuous);

    /// <summary>Section modulus.</summary>
    public static readonly Variable SectionModulus = Add("section_modulus", "Section modulus Z", "cm3", VariableKind.Continuous);

    /// <summary>Buckling ratio.</summary>
    public static readonly Variable BucklingRatio = Add("buckling_ratio", "Buckling ratio", string.Empty, VariableKind.Continuous);

    /// <summary>L1-L2 trabecular vBMD.</summary>
    public static readonly Variable SpineVbmd = Add("spine_vbmd", "L1-L2 vBMD", "mg/cm3", VariableKind.Continuous);

    /// <summary>The four femur regions.</summary>
    public static readonly IReadOnlyList<string> Regions = ["femoral_neck", "trochanter", "intertrochanter", "total_hip"];

    /// <summary>The six measures of each region.</summary>
    public static readonly IReadOnlyList<string> RegionMeasures = ["total_volume", "cortical_volume", "trabecular_volume", "total_vbmd", "cortical_vbmd", "trabecular_vbmd"];

    private static readonly int FirstRegionIndex = All.Count;

    static Variables()
    {
        foreach (var region in Regions)
        {
            foreach (var measure in RegionMeasures)
            {
                var unit = measure.EndsWith("volume", StringComparison.Ordinal) ? "cm3" : "mg/cm3";
                Add(region + "." + measure, RegionLabel(region) + " " + measure.Replace('_', ' '), unit, VariableKind.Continuous);
            }
        }
    }

    /// <summary>Number of variables (columns of a row).</summary>
    public static int Count => All.Count;

    /// <summary>Every variable in column order.</summary>
    public static IReadOnlyList<Variable> Catalogue => All;

    /// <summary>The column of a region measure.</summary>
    public static int RegionIndex(int region, int measure) => FirstRegionIndex + (region * RegionMeasures.Count) + measure;

    /// <summary>Finds a variable by name.</summary>
    public static bool TryGet(string name, out Variable variable) => ByName.TryGetValue(name, out variable!);

    private static string RegionLabel(string region) => region switch
    {
        "femoral_neck" => "Femoral neck",
        "trochanter" => "Trochanter",
        "intertrochanter" => "Intertrochanter",
        _ => "Total hip",
    };

    private static Variable Add(string name, string label, string unit, VariableKind kind)
    {
        var variable = new Variable(All.Count, name, label, unit, kind);
        All.Add(variable);
        ByName.Add(name, variable);
        return variable;
    }
}

/// <summary>One participant's analysis row at one revision.</summary>
/// <param name="ParticipantId">The participant id (rows are ordered by it: the canonical order).</param>
/// <param name="Revision">The participant's revision.</param>
/// <param name="Seq">The cohort-wide change sequence number of that revision.</param>
/// <param name="Active">False when withdrawn.</param>
/// <param name="Eligible">Eligible for the analysis.</param>
/// <param name="FirstReason">First failing eligibility criterion (homabone.v1.ExclusionReason number), 0 if none.</param>
/// <param name="Reasons">Every failing criterion.</param>
/// <param name="Values">One value per catalogue variable; NaN = missing.</param>
public sealed record AnalysisRow(string ParticipantId, long Revision, long Seq, bool Active, bool Eligible, int FirstReason, int[] Reasons, double[] Values);
