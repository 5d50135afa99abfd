namespace HomaBone.Domain;

/// <summary>How an hs-CRP at or below the detection limit (reported as 0 or below the LOD) enters ln hs-CRP.</summary>
public enum LodSubstitution
{
    /// <summary>No substitution: ln hs-CRP is not computable for 0 (the default).</summary>
    None = 0,

    /// <summary>Substitute LOD / 2.</summary>
    HalfLod = 1,

    /// <summary>Substitute LOD / √2.</summary>
    LodOverSqrt2 = 2,
}

/// <summary>Every option the derivations take; the defaults reproduce the paper's choices as far as they are known.</summary>
public sealed record DerivationOptions
{
    /// <summary>Default options.</summary>
    public static DerivationOptions Default { get; } = new();

    /// <summary>Unit-conversion constants (insulin pmol/L factor).</summary>
    public UnitConversionOptions Units { get; init; } = UnitConversionOptions.Default;

    /// <summary>IPAQ scoring options.</summary>
    public IpaqOptions Ipaq { get; init; } = IpaqOptions.Default;

    /// <summary>hs-CRP below-detection-limit substitution for the log.</summary>
    public LodSubstitution HsCrpLodSubstitution { get; init; } = LodSubstitution.None;

    /// <summary>hs-CRP detection limit in mg/L, required when <see cref="HsCrpLodSubstitution"/> is not None.</summary>
    public double? HsCrpLodMgPerL { get; init; }

    /// <summary>
    /// Round HOMA-IR to IEEE single precision, <c>(double)(float)x</c>, emulating Stata's default float storage
    /// (methods.md §1.1). Off by default.
    /// </summary>
    public bool EmulateStataFloatHoma { get; init; }
}

/// <summary>Values derived from one participant's record on ingest. Each is a number or "not computable" with a reason.</summary>
public sealed record DerivedValues
{
    /// <summary>HOMA-IR (Matthews 1985), dimensionless.</summary>
    public required Derived<double> HomaIr { get; init; }

    /// <summary>ln HOMA-IR.</summary>
    public required Derived<double> LnHomaIr { get; init; }

    /// <summary>Exact HOMA ordering key glucose[mg/dL] × insulin[0.1 µIU/mL] (see <see cref="Homa.ExactKey"/>).</summary>
    public required Derived<long> ExactHomaKey { get; init; }

    /// <summary>QUICKI (Katz 2000).</summary>
    public required Derived<double> Quicki { get; init; }

    /// <summary>TyG index (Simental-Mendía 2008).</summary>
    public required Derived<double> TyG { get; init; }

    /// <summary>BMI, kg/m².</summary>
    public required Derived<double> BmiKgPerM2 { get; init; }

    /// <summary>eGFR CKD-EPI 2009, mL/min/1.73 m².</summary>
    public required Derived<double> EgfrCkdEpi2009 { get; init; }

    /// <summary>eGFR CKD-EPI 2021, mL/min/1.73 m².</summary>
    public required Derived<double> EgfrCkdEpi2021 { get; init; }

    /// <summary>IPAQ total MET-min/week.</summary>
    public required Derived<double> IpaqMetMinPerWeek { get; init; }

    /// <summary>IPAQ category.</summary>
    public required Derived<IpaqCategory> IpaqCategory { get; init; }

    /// <summary>ln hs-CRP (hs-CRP in mg/L).</summary>
    public required Derived<double> LnHsCrp { get; init; }

    /// <summary>Femoral-neck bone cross-sectional area A, cm².</summary>
    public required Derived<double> NeckCrossSectionalAreaCm2 { get; init; }

    /// <summary>Compressive strength index, mm²/N.</summary>
    public required Derived<double> CsiMm2PerN { get; init; }

    /// <summary>Section modulus index Z, cm³.</summary>
    public required Derived<double> SectionModulusCm3 { get; init; }

    /// <summary>Volumetric buckling ratio (dimensionless).</summary>
    public required Derived<double> BucklingRatio { get; init; }

    /// <summary>Alcohol ≥ 1 unit/day (the study's category).</summary>
    public required Derived<bool> AlcoholAtLeastOneUnitPerDay { get; init; }
}

/// <summary>Computes <see cref="DerivedValues"/> from a participant record.</summary>
public static class Derivations
{
    /// <summary>Derives every value. Inputs in an unaccepted unit count as missing (validation reports them).</summary>
    /// <param name="participant">The record.</param>
    /// <param name="options">Options; <see cref="DerivationOptions.Default"/> if null.</param>
    /// <returns>The derived values.</returns>
    public static DerivedValues Derive(Participant participant, DerivationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(participant);
        options ??= DerivationOptions.Default;
        var labs = participant.Labs;
        var units = options.Units;
        var glucose = Usable(labs.CanonicalValue(Analyte.Glucose, units));
        var insulin = Usable(labs.CanonicalValue(Analyte.Insulin, units));
        var tg = Usable(labs.CanonicalValue(Analyte.Triglycerides, units));
        var crp = Usable(labs.CanonicalValue(Analyte.HsCrp, units));
        var creatinine = Usable(labs.CanonicalValue(Analyte.Creatinine, units));
        var demo = participant.Demographics;
        var anthro = participant.Anthropometry;
        var age = Usable(demo.AgeYears);
        var weight = Usable(anthro.WeightKg);
        var height = Usable(anthro.HeightCm);

        var homa = Homa(glucose, insulin, options);
        var ipaq = Domain.Ipaq.Score2005(participant.PhysicalActivity, options.Ipaq);
        var neck = participant.Qct.NeckGeometry;
        var abmd = Usable(neck.ProjectedAbmdGPerCm2);
        var fnw = Usable(neck.NeckWidthCm);
        var cortVbmd = Usable(participant.Qct.FemoralNeck.CorticalVbmdMgPerCm3);
        const string qctMissing = "femoral-neck aBMD, neck width or cortical vBMD missing";

        return new DerivedValues
        {
            HomaIr = homa,
            LnHomaIr = homa.Bind(h => h > 0
                ? Derived.Finite(Math.Log(h), "ln HOMA-IR")
                : Derived.NotComputable<double>("HOMA-IR is 0 (insulin 0): ln undefined")),
            ExactHomaKey = glucose is { } g && insulin is { } i
                ? Domain.Homa.ExactKey(g, i)
                : Derived.NotComputable<long>("fasting glucose or insulin missing"),
            Quicki = glucose is { } g2 && insulin is { } i2
                ? Domain.Quicki.Katz2000(g2, i2)
                : Derived.NotComputable<double>("fasting glucose or insulin missing"),
            TyG = tg is { } t && glucose is { } g3
                ? Domain.TyG.SimentalMendia2008(t, g3)
                : Derived.NotComputable<double>("triglycerides or fasting glucose missing"),
            BmiKgPerM2 = weight is { } w && height is { } h2
                ? Bmi.Quetelet(w, h2)
                : Derived.NotComputable<double>("weight or height missing"),
            EgfrCkdEpi2009 = creatinine is { } c && age is { } a
                ? Egfr.CkdEpi2009(c, a, demo.Sex, demo.Black == true)
                : Derived.NotComputable<double>("creatinine or age missing"),
            EgfrCkdEpi2021 = creatinine is { } c2 && age is { } a2
                ? Egfr.CkdEpi2021(c2, a2, demo.Sex)
                : Derived.NotComputable<double>("creatinine or age missing"),
            IpaqMetMinPerWeek = ipaq.Bind(s => Derived.Finite(s.TotalMetMinPerWeek, "IPAQ MET-min/week")),
            IpaqCategory = ipaq.Bind(s => Derived.Of(s.Category)),
            LnHsCrp = LnHsCrp(crp, options),
            NeckCrossSectionalAreaCm2 = abmd is { } ab && fnw is { } fw && cortVbmd is { } cv
                ? StrengthIndices.CrossSectionalAreaCm2(ab, fw, cv)
                : Derived.NotComputable<double>(qctMissing),
            CsiMm2PerN = abmd is { } ab2 && fnw is { } fw2 && cortVbmd is { } cv2
                ? weight is { } w2
                    ? StrengthIndices.CompressiveStrengthIndexMm2PerN(ab2, fw2, cv2, w2)
                    : Derived.NotComputable<double>("weight missing")
                : Derived.NotComputable<double>(qctMissing),
            SectionModulusCm3 = abmd is { } ab3 && fnw is { } fw3 && cortVbmd is { } cv3
                ? StrengthIndices.SectionModulusCm3(ab3, fw3, cv3)
                : Derived.NotComputable<double>(qctMissing),
            BucklingRatio = Usable(participant.Qct.FemoralNeck.TotalVolumeCm3) is { } vt
                && Usable(participant.Qct.FemoralNeck.CorticalVolumeCm3) is { } vc
                    ? StrengthIndices.BucklingRatio(vt, vc)
                    : Derived.NotComputable<double>("femoral-neck total or cortical volume missing"),
            AlcoholAtLeastOneUnitPerDay = Usable(demo.AlcoholUnitsPerDay) is { } alcohol
                ? Derived.Of(alcohol >= 1.0)
                : Derived.NotComputable<bool>("alcohol missing"),
        };
    }

    private static Derived<double> Homa(double? glucose, double? insulin, DerivationOptions options)
    {
        if (glucose is not { } g || insulin is not { } i)
        {
            return Derived.NotComputable<double>("fasting glucose or insulin missing");
        }

        if (g <= 0 || i < 0)
        {
            return Derived.NotComputable<double>("HOMA-IR needs glucose > 0 and insulin ≥ 0");
        }

        var homa = Domain.Homa.Matthews1985(g, i);
        if (options.EmulateStataFloatHoma)
        {
            homa = (double)(float)homa;
        }

        return Derived.Finite(homa, "HOMA-IR");
    }

    private static Derived<double> LnHsCrp(double? crp, DerivationOptions options)
    {
        if (crp is not { } c)
        {
            return Derived.NotComputable<double>("hs-CRP missing");
        }

        var substitute = options.HsCrpLodSubstitution != LodSubstitution.None;
        var lod = options.HsCrpLodMgPerL;
        if (c > 0 && (!substitute || lod is not { } l || c >= l))
        {
            return LogTransforms.NaturalLog(c, "hs-CRP");
        }

        if (!substitute || lod is not { } limit || !(limit > 0))
        {
            return Derived.NotComputable<double>("hs-CRP is 0 (below the detection limit): ln undefined and no LOD substitution configured");
        }

        var substituted = options.HsCrpLodSubstitution == LodSubstitution.HalfLod ? limit / 2.0 : limit / Math.Sqrt(2.0);
        return LogTransforms.NaturalLog(substituted, "hs-CRP (LOD-substituted)");
    }

    private static double? Usable(double? x) => x is { } v && double.IsFinite(v) ? v : null;
}
