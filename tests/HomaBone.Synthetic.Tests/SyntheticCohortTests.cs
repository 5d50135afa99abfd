using System.Globalization;
using HomaBone.Domain;
using HomaBone.Synthetic;
using Xunit.Abstractions;

namespace HomaBone.Synthetic.Tests;

public class SyntheticCohortTests(ITestOutputHelper output)
{
    private static readonly List<SyntheticParticipant> Default = SyntheticCohort.Generate(2018).ToList();

    [Fact]
    public void Generate_SameSeed_IdenticalOutput()
    {
        var again = SyntheticCohort.Generate(2018).ToList();
        Assert.Equal(Default.Count, again.Count);
        for (var i = 0; i < again.Count; i++)
        {
            Assert.Equal(Default[i], again[i], new ParticipantComparer());
        }

        Assert.Equal(Csv(Default), Csv(again));
    }

    [Fact]
    public void Generate_DifferentSeed_DifferentOutput() =>
        Assert.NotEqual(Csv(Default), Csv(SyntheticCohort.Generate(2019).ToList()));

    [Fact]
    public void Generate_Fingerprint_StableAcrossRunsAndPlatforms()
    {
        // The CSV of a small cohort is pinned by a hash: a change in the PRNG, ln/exp or the model shows up here.
        var csv = Csv(SyntheticCohort.Generate(7, new SyntheticCohortOptions { Eligible = 20, Excluded = new Dictionary<ExclusionReason, int>() }).ToList());
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(csv)));
        output.WriteLine(hash);
        Assert.Equal("F33EC02E2CDEB1B01150D93776C0298C1D4DB1D87752C68A1DAA755B5C2E785B", hash);
    }

    [Fact]
    public void Generate_Default_CountsMatchFlowDiagram()
    {
        Assert.Equal(1008 + 796 + 51 + 123 + 2 + 2 + 64 + 2 + 1 + 129, Default.Count);
        Assert.Equal(2178, Default.Count);
        var byFirst = Default.GroupBy(p => EligibilityCriteria.Evaluate(p.Record).FirstReason)
            .ToDictionary(g => g.Key ?? ExclusionReason.Unspecified, g => g.Count());
        Assert.Equal(1008, byFirst[ExclusionReason.Unspecified]);
        foreach (var (reason, count) in SyntheticCohortOptions.PaperExclusionCounts)
        {
            Assert.Equal(count, byFirst[reason]);
        }

        Assert.All(Default, p => Assert.Equal(p.IntendedExclusion, EligibilityCriteria.Evaluate(p.Record).FirstReason));
    }

    [Fact]
    public void Generate_Default_AnyReasonCountsAtLeastFirstReasonCounts()
    {
        var any = Default.SelectMany(p => EligibilityCriteria.Evaluate(p.Record).AllReasons).GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(any[ExclusionReason.AgeUnder50] > 51, "premenopausal women under 50 also fail the age criterion");
    }

    [Fact]
    public void Generate_Default_EveryRecordValidAndIdsUnique()
    {
        Assert.All(Default, p => Assert.Empty(ParticipantValidator.Validate(p.ParticipantId, p.Record)));
        Assert.Equal(Default.Count, Default.Select(p => p.ParticipantId).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal("P0000001", Default[0].ParticipantId);
    }

    [Fact]
    public void Generate_Default_InterleavesRoles() =>
        Assert.Contains(Default.Take(100), p => p.IntendedExclusion is not null);

    [Fact]
    public void Generate_Eligible_OnGridsAndHomaQuartilesNearPaper()
    {
        var eligible = Default.Where(p => p.IntendedExclusion is null).ToList();
        Assert.Equal(1008, eligible.Count);
        Assert.All(eligible, p =>
        {
            var g = p.Record.Labs.Glucose!.Value.Value;
            var i = p.Record.Labs.Insulin!.Value.Value;
            Assert.Equal(Math.Round(g), g);
            Assert.True(Derivations.Derive(p.Record).ExactHomaKey.IsComputable);
            Assert.Equal(Math.Round(i * 10) / 10, i);
        });
        var homa = eligible.Select(p => Derivations.Derive(p.Record).HomaIr.Value!.Value).Order().ToArray();
        var (q1, q2, q3) = (Type2(homa, 1, 4), Type2(homa, 2, 4), Type2(homa, 3, 4));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HOMA-IR cuts {q1:F3} {q2:F3} {q3:F3} (paper 1.37 1.73 2.26)"));
        Assert.InRange(q1, 1.37 * 0.9, 1.37 * 1.1);
        Assert.InRange(q2, 1.73 * 0.9, 1.73 * 1.1);
        Assert.InRange(q3, 2.26 * 0.9, 2.26 * 1.1);

        // Table 1 shape: age ≈ 57.3, BMI ≈ 23.6, weight rising across quartiles.
        var derived = eligible.Select(p => (p, d: Derivations.Derive(p.Record))).ToList();
        var meanAge = derived.Average(x => x.p.Record.Demographics.AgeYears!.Value);
        var meanBmi = derived.Average(x => x.d.BmiKgPerM2.Value!.Value);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"age {meanAge:F1} BMI {meanBmi:F2}"));
        Assert.InRange(meanAge, 56.5, 58.0);
        Assert.InRange(meanBmi, 23.0, 24.2);
        double QuartileMean(int q, Func<(SyntheticParticipant p, DerivedValues d), double?> f)
        {
            var lo = q switch { 1 => double.NegativeInfinity, 2 => q1, 3 => q2, _ => q3 };
            var hi = q switch { 1 => q1, 2 => q2, 3 => q3, _ => double.PositiveInfinity };
            return derived.Where(x => x.d.HomaIr.Value > lo && x.d.HomaIr.Value <= hi).Select(f).Where(v => v is not null).Average(v => v!.Value);
        }

        foreach (var (name, f) in new (string, Func<(SyntheticParticipant p, DerivedValues d), double?>)[]
        {
            ("age", x => x.p.Record.Demographics.AgeYears),
            ("weight", x => x.p.Record.Anthropometry.WeightKg),
            ("BMI", x => x.d.BmiKgPerM2.Value),
            ("waist", x => x.p.Record.Anthropometry.WaistCm),
            ("glucose", x => x.p.Record.Labs.Glucose?.Value),
            ("insulin", x => x.p.Record.Labs.Insulin?.Value),
            ("TG", x => x.p.Record.Labs.Triglycerides?.Value),
            ("HDL", x => x.p.Record.Labs.HdlCholesterol?.Value),
            ("25OHD", x => x.p.Record.Labs.VitaminD?.Value),
            ("eGFR2009", x => x.d.EgfrCkdEpi2009.Value),
            ("FN vBMD", x => x.p.Record.Qct.FemoralNeck.TotalVbmdMgPerCm3),
            ("TPF vBMD", x => x.p.Record.Qct.TotalProximalFemur.TotalVbmdMgPerCm3),
            ("FN vol", x => x.p.Record.Qct.FemoralNeck.TotalVolumeCm3),
            ("CSI", x => x.d.CsiMm2PerN.Value),
            ("Z", x => x.d.SectionModulusCm3.Value),
            ("BR", x => x.d.BucklingRatio.Value),
            ("HEPA", x => x.d.IpaqCategory.Value is { } c ? (c == IpaqCategory.HepaActive ? 1 : 0) : null),
            ("Inactive", x => x.d.IpaqCategory.Value is { } c ? (c == IpaqCategory.Inactive ? 1 : 0) : null),
        })
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-10} {QuartileMean(1, f),9:F3} {QuartileMean(2, f),9:F3} {QuartileMean(3, f),9:F3} {QuartileMean(4, f),9:F3}"));
        }

        Assert.True(QuartileMean(4, x => x.p.Record.Anthropometry.WeightKg) > QuartileMean(1, x => x.p.Record.Anthropometry.WeightKg) + 4);
        Assert.True(QuartileMean(4, x => x.p.Record.Labs.Glucose?.Value) > QuartileMean(1, x => x.p.Record.Labs.Glucose?.Value) + 6);
    }

    [Fact]
    public void Generate_Default_MissingnessPresentButEligibilityInputsComplete()
    {
        var eligible = Default.Where(p => p.IntendedExclusion is null).ToList();
        var missVitD = eligible.Count(p => p.Record.Labs.VitaminD is null);
        var missCrp = eligible.Count(p => p.Record.Labs.HsCrp is null);
        var missIpaq = eligible.Count(p => !Ipaq.Score2005(p.Record.PhysicalActivity).IsComputable);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"missing 25(OH)D {missVitD}, hs-CRP {missCrp}, IPAQ {missIpaq}"));
        Assert.InRange(missVitD, 8, 50);
        Assert.InRange(missCrp, 3, 35);
        Assert.InRange(missIpaq, 2, 30);
        var model3Complete = eligible.Count(p =>
        {
            var d = Derivations.Derive(p.Record);
            return p.Record.Labs.VitaminD is not null && d.LnHsCrp.IsComputable && d.IpaqCategory.IsComputable
                && p.Record.Demographics.CurrentSmoking is not null && d.AlcoholAtLeastOneUnitPerDay.IsComputable
                && p.Record.Anthropometry.WaistCm is not null && p.Record.Anthropometry.ThighCm is not null;
        });
        Assert.InRange(model3Complete, 900, 1000);
    }

    [Fact]
    public void Generate_NoMissingOption_NoGaps()
    {
        var all = SyntheticCohort.Generate(3, new SyntheticCohortOptions { IncludeMissingValues = false, Excluded = new Dictionary<ExclusionReason, int>() });
        Assert.All(all, p => Assert.NotNull(p.Record.Labs.VitaminD));
    }

    [Fact]
    public void Generate_AlternativeUnits_SameDerivedValues()
    {
        var options = new SyntheticCohortOptions { Eligible = 200, Excluded = new Dictionary<ExclusionReason, int>() };
        var canonical = SyntheticCohort.Generate(11, options).ToList();
        var si = SyntheticCohort.Generate(11, options with { AlternativeUnitFraction = 1.0 }).ToList();
        Assert.Contains(si, p => p.Record.Labs.Glucose?.Unit == LabUnit.MmolPerL);
        for (var i = 0; i < canonical.Count; i++)
        {
            var a = Derivations.Derive(canonical[i].Record);
            var b = Derivations.Derive(si[i].Record);
            Assert.Equal(a.HomaIr.Value!.Value, b.HomaIr.Value!.Value, 1e-12);
            Assert.Equal(a.ExactHomaKey, b.ExactHomaKey);
            Assert.Empty(ParticipantValidator.Validate(si[i].Record));
        }
    }

    [Fact]
    public void Generate_Million_IsStreamingAndFast()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        long n = 0;
        foreach (var p in SyntheticCohort.Generate(1, new SyntheticCohortOptions { Eligible = 1_000_000 }))
        {
            n++;
        }

        sw.Stop();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{n} participants in {sw.Elapsed.TotalSeconds:F1} s"));
        Assert.Equal(1_000_000 + 1170, n);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Csv_HeaderAndRows_OnePerParticipant()
    {
        var text = Csv(Default);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Default.Count + 1, lines.Length);
        Assert.Equal(string.Join(',', ParticipantCsvWriter.Columns), lines[0]);
        Assert.All(lines, l => Assert.Equal(ParticipantCsvWriter.Columns.Count, l.Split(',').Length));
        Assert.StartsWith("P0000001,F,", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void DeterministicMath_MatchesSystemMath()
    {
        foreach (var x in new[] { 1e-16, 0.001, 0.3, 0.5, 1.0, 1.4142, 2.0, 10.0, 123456.789 })
        {
            Assert.Equal(Math.Log(x), DeterministicMath.Log(x), Math.Abs(Math.Log(x)) * 1e-14 + 1e-15);
        }

        foreach (var x in new[] { -30.0, -1.0, -0.1, 0.0, 0.5, 1.0, 3.7, 50.0 })
        {
            Assert.Equal(Math.Exp(x), DeterministicMath.Exp(x), Math.Exp(x) * 1e-14);
        }
    }

    private static string Csv(IEnumerable<SyntheticParticipant> participants)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        ParticipantCsvWriter.Write(writer, participants);
        return writer.ToString();
    }

    private static double Type2(double[] sorted, int j, int k)
    {
        // Stata xtile / Hyndman–Fan type 2 (methods.md §2).
        var n = sorted.Length;
        if (n * j % k == 0)
        {
            var i = n * j / k;
            return (sorted[i - 1] + sorted[i]) / 2;
        }

        return sorted[(int)Math.Ceiling((double)n * j / k) - 1];
    }

    private sealed class ParticipantComparer : IEqualityComparer<SyntheticParticipant>
    {
        public bool Equals(SyntheticParticipant? x, SyntheticParticipant? y) =>
            x!.ParticipantId == y!.ParticipantId && x.IntendedExclusion == y.IntendedExclusion && Csv([x]) == Csv([y]);

        public int GetHashCode(SyntheticParticipant obj) => obj.ParticipantId.GetHashCode(StringComparison.Ordinal);
    }
}
