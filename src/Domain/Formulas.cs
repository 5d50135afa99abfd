using System.Globalization;

namespace HomaBone.Domain;

/// <summary>Homeostasis model assessment.</summary>
public static class Homa
{
    /// <summary>
    /// HOMA-IR = FPG[mg/dL] × FPI[µIU/mL] / 405 (Matthews DR et al., Diabetologia 1985;28:412-9;
    /// 405 = 22.5 × 18). Evaluated exactly as <c>(glucose * insulin) / 405.0</c> in IEEE double, the order that R,
    /// numpy and Stata reproduce bit for bit (methods.md §1.1).
    /// </summary>
    /// <param name="glucoseMgPerDl">Fasting plasma glucose, mg/dL.</param>
    /// <param name="insulinMicroIuPerMl">Fasting insulin, µIU/mL.</param>
    /// <returns>HOMA-IR (dimensionless); 0 when insulin is 0 (callers decide what that means).</returns>
    public static double Matthews1985(double glucoseMgPerDl, double insulinMicroIuPerMl) =>
        glucoseMgPerDl * insulinMicroIuPerMl / 405.0;

    /// <summary>
    /// Exact ordering key for HOMA-IR: glucose (integer mg/dL) × insulin (integer tenths of µIU/mL), an integer
    /// proportional to HOMA-IR (× 4050). Mathematically equal products compare equal, unlike the doubles, which can
    /// differ by one ulp (methods.md §1.1). Defined only when both inputs lie on those grids (within 1e-9).
    /// </summary>
    /// <param name="glucoseMgPerDl">Fasting plasma glucose, mg/dL (integer grid).</param>
    /// <param name="insulinMicroIuPerMl">Fasting insulin, µIU/mL (0.1 grid).</param>
    /// <returns>The key, or not computable when off-grid or negative.</returns>
    public static Derived<long> ExactKey(double glucoseMgPerDl, double insulinMicroIuPerMl)
    {
        if (!OnGrid(glucoseMgPerDl, 1.0, out var g) || !OnGrid(insulinMicroIuPerMl, 10.0, out var i))
        {
            return Derived.NotComputable<long>("glucose not an integer mg/dL or insulin not on the 0.1 µIU/mL grid");
        }

        return Derived.Of(g * i);
    }

    private static bool OnGrid(double x, double scale, out long units)
    {
        units = 0;
        if (!double.IsFinite(x) || x < 0 || x > 1e6)
        {
            return false;
        }

        var scaled = x * scale;
        var rounded = Math.Round(scaled);
        if (Math.Abs(scaled - rounded) > 1e-9 * Math.Max(1.0, scaled))
        {
            return false;
        }

        units = (long)rounded;
        return true;
    }
}

/// <summary>Quantitative insulin sensitivity check index.</summary>
public static class Quicki
{
    /// <summary>
    /// QUICKI = 1 / (log10 FPI[µIU/mL] + log10 FPG[mg/dL]) (Katz A et al., J Clin Endocrinol Metab 2000;85:2402-10).
    /// </summary>
    /// <param name="glucoseMgPerDl">Fasting plasma glucose, mg/dL (&gt; 0).</param>
    /// <param name="insulinMicroIuPerMl">Fasting insulin, µIU/mL (&gt; 0).</param>
    /// <returns>QUICKI, or not computable when an input is ≤ 0 or the denominator is 0.</returns>
    public static Derived<double> Katz2000(double glucoseMgPerDl, double insulinMicroIuPerMl)
    {
        if (!(glucoseMgPerDl > 0) || !(insulinMicroIuPerMl > 0))
        {
            return Derived.NotComputable<double>("QUICKI needs glucose > 0 and insulin > 0 (log undefined)");
        }

        var denominator = Math.Log10(insulinMicroIuPerMl) + Math.Log10(glucoseMgPerDl);
        return denominator == 0
            ? Derived.NotComputable<double>("QUICKI denominator is 0")
            : Derived.Finite(1.0 / denominator, "QUICKI");
    }
}

/// <summary>Triglyceride–glucose index.</summary>
public static class TyG
{
    /// <summary>
    /// TyG = ln(TG[mg/dL] × FPG[mg/dL] / 2) (Simental-Mendía LE, Rodríguez-Morán M, Guerrero-Romero F,
    /// Metab Syndr Relat Disord 2008;6:299-304).
    /// </summary>
    /// <param name="triglyceridesMgPerDl">Fasting triglycerides, mg/dL (&gt; 0).</param>
    /// <param name="glucoseMgPerDl">Fasting plasma glucose, mg/dL (&gt; 0).</param>
    /// <returns>TyG, or not computable for non-positive inputs.</returns>
    public static Derived<double> SimentalMendia2008(double triglyceridesMgPerDl, double glucoseMgPerDl)
    {
        if (!(triglyceridesMgPerDl > 0) || !(glucoseMgPerDl > 0))
        {
            return Derived.NotComputable<double>("TyG needs triglycerides > 0 and glucose > 0 (log undefined)");
        }

        return Derived.Finite(Math.Log(triglyceridesMgPerDl * glucoseMgPerDl / 2.0), "TyG");
    }
}

/// <summary>Body mass index.</summary>
public static class Bmi
{
    /// <summary>BMI = weight[kg] / height[m]² (Quetelet; Keys A et al., J Chronic Dis 1972;25:329-43).</summary>
    /// <param name="weightKg">Weight, kg (&gt; 0).</param>
    /// <param name="heightCm">Height, cm (&gt; 0).</param>
    /// <returns>BMI in kg/m², or not computable for non-positive inputs.</returns>
    public static Derived<double> Quetelet(double weightKg, double heightCm)
    {
        if (!(weightKg > 0) || !(heightCm > 0))
        {
            return Derived.NotComputable<double>("BMI needs weight > 0 and height > 0");
        }

        var heightM = heightCm / 100.0;
        return Derived.Finite(weightKg / (heightM * heightM), "BMI");
    }
}

/// <summary>Estimated glomerular filtration rate from serum creatinine (mL/min/1.73 m²).</summary>
public static class Egfr
{
    /// <summary>
    /// CKD-EPI 2009 (Levey AS et al., Ann Intern Med 2009;150:604-12), single-equation form:
    /// 141 × min(Scr/κ,1)^α × max(Scr/κ,1)^−1.209 × 0.993^Age × 1.018 [female] × 1.159 [Black];
    /// κ = 0.7 (F) / 0.9 (M), α = −0.329 (F) / −0.411 (M). The tabulated female constant 144 is 141 × 1.018 rounded
    /// (+0.32 %); the single equation is used. Continuous at Scr = κ.
    /// </summary>
    /// <param name="creatinineMgPerDl">IDMS-standardised serum creatinine, mg/dL (&gt; 0).</param>
    /// <param name="ageYears">Age, years (&gt; 0).</param>
    /// <param name="sex">Sex (Female or Male).</param>
    /// <param name="black">Apply the race coefficient.</param>
    /// <returns>eGFR, or not computable.</returns>
    public static Derived<double> CkdEpi2009(double creatinineMgPerDl, double ageYears, Sex sex, bool black)
    {
        if (Invalid(creatinineMgPerDl, ageYears, sex) is { } reason)
        {
            return Derived.NotComputable<double>(reason);
        }

        var female = sex == Sex.Female;
        var kappa = female ? 0.7 : 0.9;
        var alpha = female ? -0.329 : -0.411;
        var ratio = creatinineMgPerDl / kappa;
        var value = 141.0 * Math.Pow(Math.Min(ratio, 1.0), alpha) * Math.Pow(Math.Max(ratio, 1.0), -1.209)
            * Math.Pow(0.993, ageYears) * (female ? 1.018 : 1.0) * (black ? 1.159 : 1.0);
        return Derived.Finite(value, "eGFR CKD-EPI 2009");
    }

    /// <summary>
    /// CKD-EPI 2021 race-free (Inker LA et al., N Engl J Med 2021;385:1737-49):
    /// 142 × min(Scr/κ,1)^α × max(Scr/κ,1)^−1.200 × 0.9938^Age × 1.012 [female];
    /// κ = 0.7 (F) / 0.9 (M), α = −0.241 (F) / −0.302 (M).
    /// </summary>
    /// <param name="creatinineMgPerDl">IDMS-standardised serum creatinine, mg/dL (&gt; 0).</param>
    /// <param name="ageYears">Age, years (&gt; 0).</param>
    /// <param name="sex">Sex (Female or Male).</param>
    /// <returns>eGFR, or not computable.</returns>
    public static Derived<double> CkdEpi2021(double creatinineMgPerDl, double ageYears, Sex sex)
    {
        if (Invalid(creatinineMgPerDl, ageYears, sex) is { } reason)
        {
            return Derived.NotComputable<double>(reason);
        }

        var female = sex == Sex.Female;
        var kappa = female ? 0.7 : 0.9;
        var alpha = female ? -0.241 : -0.302;
        var ratio = creatinineMgPerDl / kappa;
        var value = 142.0 * Math.Pow(Math.Min(ratio, 1.0), alpha) * Math.Pow(Math.Max(ratio, 1.0), -1.200)
            * Math.Pow(0.9938, ageYears) * (female ? 1.012 : 1.0);
        return Derived.Finite(value, "eGFR CKD-EPI 2021");
    }

    private static string? Invalid(double creatinineMgPerDl, double ageYears, Sex sex)
    {
        if (!(creatinineMgPerDl > 0) || !double.IsFinite(creatinineMgPerDl))
        {
            return "eGFR needs creatinine > 0";
        }

        if (!(ageYears > 0) || !double.IsFinite(ageYears))
        {
            return "eGFR needs age > 0";
        }

        return sex is Sex.Female or Sex.Male ? null : "eGFR needs sex (female or male)";
    }
}

/// <summary>Strength indices of the femoral neck computed from QCT (Yang et al. 2018, Methods; methods.md §1.5).</summary>
/// <remarks>
/// The paper writes A = (aBMD × FNW)/(vBMD_cort × 10⁴), F = weight × 9.8, CSI = A/F, Z = (aBMD × FNW²)/(vBMD_cort × 10⁷),
/// "rescaled to mm²/N and cm³". The powers of ten are unit conversions whose input units the paper does not state
/// (methods.md §1.5, §9.1); here the units are explicit instead: aBMD in g/cm², FNW in cm, cortical vBMD in mg/cm³
/// (converted to g/cm³), so A is a physical area (cm²), CSI is in mm²/N and Z (a scaled section-modulus index, no
/// π/4 factor) in cm³. P-values, t and standardized β do not depend on these constants.
/// </remarks>
public static class StrengthIndices
{
    /// <summary>Standard gravity used by the paper, m/s².</summary>
    public const double GravityMPerS2 = 9.8;

    /// <summary>Bone cross-sectional area A = aBMD[g/cm²] × FNW[cm] / (vBMD_cort[mg/cm³] / 1000), in cm².</summary>
    /// <param name="projectedAbmdGPerCm2">Projected femoral-neck aBMD, g/cm².</param>
    /// <param name="neckWidthCm">Femoral neck width, cm.</param>
    /// <param name="corticalVbmdMgPerCm3">Femoral-neck cortical vBMD, mg/cm³ (&gt; 0).</param>
    /// <returns>A in cm², or not computable.</returns>
    public static Derived<double> CrossSectionalAreaCm2(double projectedAbmdGPerCm2, double neckWidthCm, double corticalVbmdMgPerCm3)
    {
        if (!(corticalVbmdMgPerCm3 > 0))
        {
            return Derived.NotComputable<double>("cortical vBMD ≤ 0: cross-sectional area undefined");
        }

        if (!(projectedAbmdGPerCm2 > 0) || !(neckWidthCm > 0))
        {
            return Derived.NotComputable<double>("cross-sectional area needs aBMD > 0 and neck width > 0");
        }

        return Derived.Finite(projectedAbmdGPerCm2 * neckWidthCm / (corticalVbmdMgPerCm3 / 1000.0), "cross-sectional area");
    }

    /// <summary>
    /// Compressive strength index CSI = A / F with A in mm² (= 100 × A[cm²]) and F = weight[kg] × 9.8 m/s² in N:
    /// CSI in mm²/N (Yang et al. 2018; after Karlamangla AS et al., Osteoporos Int 2004;15:62-70).
    /// </summary>
    /// <param name="projectedAbmdGPerCm2">Projected femoral-neck aBMD, g/cm².</param>
    /// <param name="neckWidthCm">Femoral neck width, cm.</param>
    /// <param name="corticalVbmdMgPerCm3">Femoral-neck cortical vBMD, mg/cm³.</param>
    /// <param name="weightKg">Body weight, kg (&gt; 0).</param>
    /// <returns>CSI in mm²/N, or not computable.</returns>
    public static Derived<double> CompressiveStrengthIndexMm2PerN(
        double projectedAbmdGPerCm2, double neckWidthCm, double corticalVbmdMgPerCm3, double weightKg)
    {
        if (!(weightKg > 0))
        {
            return Derived.NotComputable<double>("CSI needs weight > 0");
        }

        return CrossSectionalAreaCm2(projectedAbmdGPerCm2, neckWidthCm, corticalVbmdMgPerCm3)
            .Bind(a => Derived.Finite(a * 100.0 / (weightKg * GravityMPerS2), "CSI"));
    }

    /// <summary>
    /// Section modulus index Z = aBMD[g/cm²] × FNW[cm]² / (vBMD_cort[mg/cm³] / 1000), in cm³ (Yang et al. 2018;
    /// after Beck TJ et al., Invest Radiol 1990;25:6-18). A scaled index: the thin-annulus engineering modulus is ≈ Z/4.
    /// </summary>
    /// <param name="projectedAbmdGPerCm2">Projected femoral-neck aBMD, g/cm².</param>
    /// <param name="neckWidthCm">Femoral neck width, cm.</param>
    /// <param name="corticalVbmdMgPerCm3">Femoral-neck cortical vBMD, mg/cm³.</param>
    /// <returns>Z in cm³, or not computable.</returns>
    public static Derived<double> SectionModulusCm3(double projectedAbmdGPerCm2, double neckWidthCm, double corticalVbmdMgPerCm3) =>
        CrossSectionalAreaCm2(projectedAbmdGPerCm2, neckWidthCm, corticalVbmdMgPerCm3)
            .Bind(a => Derived.Finite(a * neckWidthCm, "section modulus"));

    /// <summary>
    /// Volumetric buckling ratio BR = V_total / V_cortical of the femoral neck (dimensionless; Yang et al. 2018, refs 15-16).
    /// About half the HSA buckling ratio (D/2)/t for a thin annulus (methods.md §1.5).
    /// </summary>
    /// <param name="totalVolumeCm3">Enclosed total bone volume, cm³.</param>
    /// <param name="corticalVolumeCm3">Cortical bone volume, cm³ (&gt; 0).</param>
    /// <returns>BR, or not computable.</returns>
    public static Derived<double> BucklingRatio(double totalVolumeCm3, double corticalVolumeCm3)
    {
        if (!(corticalVolumeCm3 > 0))
        {
            return Derived.NotComputable<double>("cortical volume ≤ 0: buckling ratio undefined");
        }

        return totalVolumeCm3 > 0
            ? Derived.Finite(totalVolumeCm3 / corticalVolumeCm3, "buckling ratio")
            : Derived.NotComputable<double>("buckling ratio needs total volume > 0");
    }
}

/// <summary>Natural logarithms of right-skewed variables (methods.md §1.2).</summary>
public static class LogTransforms
{
    /// <summary>ln(x) for x &gt; 0; not computable otherwise.</summary>
    /// <param name="x">The value.</param>
    /// <param name="what">Name of the quantity, for the reason.</param>
    /// <returns>ln x, or not computable.</returns>
    public static Derived<double> NaturalLog(double x, string what) =>
        x > 0 && double.IsFinite(x)
            ? Derived.Finite(Math.Log(x), "ln " + what)
            : Derived.NotComputable<double>(string.Create(CultureInfo.InvariantCulture, $"ln {what} undefined for {x}"));
}
