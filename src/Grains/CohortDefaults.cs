using HomaBone.Contracts.V1;

namespace HomaBone.Grains;

/// <summary>The paper's analysis settings (study.md), applied to every setting a client leaves unset.</summary>
public static class CohortDefaults
{
    /// <summary>The study's bone outcomes (Fig. 2/3 and Table 2).</summary>
    public static readonly IReadOnlyList<string> Outcomes =
    [
        "femoral_neck.total_volume", "femoral_neck.cortical_volume", "femoral_neck.trabecular_volume",
        "femoral_neck.total_vbmd", "femoral_neck.cortical_vbmd", "femoral_neck.trabecular_vbmd",
        "trochanter.total_volume", "trochanter.cortical_volume", "trochanter.trabecular_volume",
        "trochanter.total_vbmd", "trochanter.cortical_vbmd", "trochanter.trabecular_vbmd",
        "intertrochanter.total_volume", "intertrochanter.cortical_volume", "intertrochanter.trabecular_volume",
        "intertrochanter.total_vbmd", "intertrochanter.cortical_vbmd", "intertrochanter.trabecular_vbmd",
        "total_hip.total_volume", "total_hip.cortical_volume", "total_hip.trabecular_volume",
        "total_hip.total_vbmd", "total_hip.cortical_vbmd", "total_hip.trabecular_vbmd",
        "neck_cortical_depth", "compressive_strength_index", "section_modulus", "buckling_ratio",
    ];

    /// <summary>Fills every unset setting with the paper's default; returns the same instance.</summary>
    public static CohortSettings Apply(CohortSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Exposure == Exposure.Unspecified)
        {
            settings.Exposure = Exposure.HomaIr;
        }

        if (settings.GroupCount == 0)
        {
            settings.GroupCount = 4;
        }

        if (settings.QuantileDefinition == QuantileDefinition.Unspecified)
        {
            settings.QuantileDefinition = QuantileDefinition.Type2;
        }

        if (settings.BinaryTrendTest == BinaryTrendTest.Unspecified)
        {
            settings.BinaryTrendTest = BinaryTrendTest.CochranArmitage;
        }

        if (settings.OrdinalTrendTest == OrdinalTrendTest.Unspecified)
        {
            settings.OrdinalTrendTest = OrdinalTrendTest.Cuzick;
        }

        if (settings.SdConvention == SdConvention.Unspecified)
        {
            settings.SdConvention = SdConvention.ReferenceGroup;
        }

        if (settings.Models.Count == 0)
        {
            settings.Models.Add(Set("model 1", "age", "height", "weight"));
            settings.Models.Add(Set("model 2", "age", "height", "waist", "thigh"));
            var model3 = Set("model 3", "age", "height", "waist", "thigh", "current_smoking", "alcohol_1_unit_per_day");
            model3.Covariates.Add(new ModelTerm { Variable = "physical_activity_category", Categorical = true });
            model3.Covariates.Add(new ModelTerm { Variable = "vitamin_d" });
            model3.Covariates.Add(new ModelTerm { Variable = "hs_crp", Transform = Transform.Log });
            settings.Models.Add(model3);
        }

        if (settings.GroupDifferenceCovariates.Count == 0)
        {
            settings.GroupDifferenceCovariates.Add(new ModelTerm { Variable = "age" });
            settings.GroupDifferenceCovariates.Add(new ModelTerm { Variable = "weight" });
            settings.GroupDifferenceCovariates.Add(new ModelTerm { Variable = "height" });
        }

        if (settings.Outcomes.Count == 0)
        {
            settings.Outcomes.AddRange(Outcomes);
        }

        settings.Disclosure ??= new DisclosureSettings();
        if (settings.Disclosure.MinCellCount == 0)
        {
            settings.Disclosure.MinCellCount = 3;
        }

        if (settings.Disclosure.MaxParameterFraction == 0)
        {
            settings.Disclosure.MaxParameterFraction = 0.33;
        }

        if (settings.Disclosure.MinChangesPerVersion == 0)
        {
            settings.Disclosure.MinChangesPerVersion = 5;
        }

        if (settings.InsulinPmolPerUiu == 0)
        {
            settings.InsulinPmolPerUiu = 6.0;
        }

        return settings;
    }

    /// <summary>Checks settings after defaults; returns every violation.</summary>
    public static List<FieldViolation> Validate(CohortSettings settings, string prefix)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var violations = new List<FieldViolation>();
        MessageScrubber.Check(settings, prefix, violations);
        if (settings.GroupCount is < 2 or > 10)
        {
            violations.Add(new FieldViolation(prefix + ".group_count", $"must be between 2 and 10; got {settings.GroupCount}"));
        }

        if (settings.Disclosure.MinCellCount < 1)
        {
            violations.Add(new FieldViolation(prefix + ".disclosure.min_cell_count", "must be at least 1"));
        }

        if (settings.Disclosure.MaxParameterFraction is <= 0 or > 1)
        {
            violations.Add(new FieldViolation(prefix + ".disclosure.max_parameter_fraction", "must be in (0, 1]"));
        }

        if (settings.Disclosure.MinChangesPerVersion < 1)
        {
            violations.Add(new FieldViolation(prefix + ".disclosure.min_changes_per_version", "must be at least 1"));
        }

        if (settings.InsulinPmolPerUiu is < 5 or > 8)
        {
            violations.Add(new FieldViolation(prefix + ".insulin_pmol_per_uiu", $"must be between 5 and 8 pmol/L per uIU/mL (conventional 6.0, some labs 6.945); got {settings.InsulinPmolPerUiu}"));
        }

        return violations;
    }

    private static CovariateSet Set(string label, params string[] variables)
    {
        var set = new CovariateSet { Label = label };
        foreach (var v in variables)
        {
            set.Covariates.Add(new ModelTerm { Variable = v });
        }

        return set;
    }
}
