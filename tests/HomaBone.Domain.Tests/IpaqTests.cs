using HomaBone.Domain;

namespace HomaBone.Domain.Tests;

// Examples worked by hand from the IPAQ scoring protocol (Guidelines for Data Processing and Analysis of the IPAQ,
// short and long forms, revised November 2005; METs walking 3.3, moderate 4.0, vigorous 8.0; methods.md §1.4).
public class IpaqTests
{
    private static IpaqResponses R(int vd, double vm, int md, double mm, int wd, double wm) => new()
    {
        VigorousDays = vd,
        VigorousMinutesPerDay = vm,
        ModerateDays = md,
        ModerateMinutesPerDay = mm,
        WalkingDays = wd,
        WalkingMinutesPerDay = wm,
    };

    [Fact]
    public void Score2005_MissingDays_Excluded()
    {
        var r = R(0, 0, 0, 0, 0, 0) with { WalkingDays = null };
        var s = Ipaq.Score2005(r);
        Assert.False(s.IsComputable);
        Assert.Contains("rule 1", s.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Score2005_MissingMinutesWithDays_Excluded() =>
        Assert.False(Ipaq.Score2005(R(2, 30, 0, 0, 3, 20) with { VigorousMinutesPerDay = null }).IsComputable);

    [Fact]
    public void Score2005_ZeroDaysMissingMinutes_ScoredAsZero()
    {
        var s = Ipaq.Score2005(new IpaqResponses { VigorousDays = 0, ModerateDays = 0, WalkingDays = 7, WalkingMinutesPerDay = 30 });
        // 3.3 × 30 × 7 = 693 MET-min/week, 7 days ≥ 5 and ≥ 600 → minimally active (criterion c, also b).
        Assert.Equal(693.0, s.Value!.Value.TotalMetMinPerWeek, 10);
        Assert.Equal(IpaqCategory.MinimallyActive, s.Value.Value.Category);
    }

    [Fact]
    public void Score2005_Over960MinutesPerDay_Excluded()
    {
        // 500 + 300 + 200 = 1000 min/day > 960 (rule 2 is applied before truncation).
        var s = Ipaq.Score2005(R(1, 500, 1, 300, 1, 200));
        Assert.False(s.IsComputable);
        Assert.Contains("rule 2", s.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Score2005_Exactly960MinutesPerDay_Kept()
    {
        // 480 + 300 + 180 = 960: not > 960. After truncation: 8×180×1 + 4×180×1 + 3.3×180×1 = 2754.
        var s = Ipaq.Score2005(R(1, 480, 1, 300, 1, 180));
        Assert.Equal(2754.0, s.Value!.Value.TotalMetMinPerWeek, 10);
    }

    [Fact]
    public void Score2005_UnderTenMinutes_RecodedToZeroWithDays()
    {
        // Walking 7 days × 9 min → 0 min and 0 days (rule 3): total 0, inactive.
        var s = Ipaq.Score2005(R(0, 0, 0, 0, 7, 9)).Value!.Value;
        Assert.Equal(0.0, s.TotalMetMinPerWeek);
        Assert.Equal(IpaqCategory.Inactive, s.Category);
    }

    [Fact]
    public void Score2005_TenMinutes_Kept() =>
        Assert.Equal(3.3 * 10 * 2, Ipaq.Score2005(R(0, 0, 0, 0, 2, 10)).Value!.Value.TotalMetMinPerWeek, 10);

    [Fact]
    public void Score2005_Over180Minutes_TruncatedTo180()
    {
        // Vigorous 3 days × 200 → 180 min: 8 × 180 × 3 = 4320; vigorous ≥ 3 days and ≥ 1500 → HEPA (a).
        var s = Ipaq.Score2005(R(3, 200, 0, 0, 0, 0)).Value!.Value;
        Assert.Equal(4320.0, s.VigorousMetMinPerWeek, 10);
        Assert.Equal(IpaqCategory.HepaActive, s.Category);
    }

    [Fact]
    public void Score2005_HepaCriterionB_SevenDaysAnd3000()
    {
        // Walking 7 × 120 = 3.3 × 840 = 2772; moderate 1 × 60 → 240; total 3012; 8 domain-days ≥ 7 → HEPA (b).
        var s = Ipaq.Score2005(R(0, 0, 1, 60, 7, 120)).Value!.Value;
        Assert.Equal(3012.0, s.TotalMetMinPerWeek, 10);
        Assert.Equal(IpaqCategory.HepaActive, s.Category);
    }

    [Fact]
    public void Score2005_HepaA_Below1500_IsMinimallyActiveA()
    {
        // Vigorous 3 days × 20 min = 480 MET-min: not HEPA, minimally active by (a) (≥ 3 days of ≥ 20 min).
        var s = Ipaq.Score2005(R(3, 20, 0, 0, 0, 0)).Value!.Value;
        Assert.Equal(480.0, s.TotalMetMinPerWeek, 10);
        Assert.Equal(IpaqCategory.MinimallyActive, s.Category);
    }

    [Fact]
    public void Score2005_CriterionC_FiveDaysAnd600()
    {
        // Walking 3 × 25 = 247.5, moderate 2 × 45 = 360: 607.5 on 5 domain-days → minimally active (c); (b) fails (25 < 30).
        var s = Ipaq.Score2005(R(0, 0, 2, 45, 3, 25)).Value!.Value;
        Assert.Equal(607.5, s.TotalMetMinPerWeek, 10);
        Assert.Equal(IpaqCategory.MinimallyActive, s.Category);
    }

    [Fact]
    public void Score2005_FourDays_Inactive()
    {
        // Walking 4 × 30 = 396 MET-min, 4 days: no criterion met.
        Assert.Equal(IpaqCategory.Inactive, Ipaq.Score2005(R(0, 0, 0, 0, 4, 30)).Value!.Value.Category);
    }

    // The ambiguous criterion 2(b): moderate 3 days × 30 min (360) + walking 2 days × 30 min (198) = 558 < 600 on
    // 5 domain-days, so (c) fails; neither domain alone has 5 days; the combined count is 3 + 2 = 5.
    [Theory]
    [InlineData(IpaqModerateWalkingRule.Separate, IpaqCategory.Inactive)]
    [InlineData(IpaqModerateWalkingRule.CombinedCount, IpaqCategory.MinimallyActive)]
    [InlineData(IpaqModerateWalkingRule.Union, IpaqCategory.MinimallyActive)]
    public void Score2005_AmbiguousCriterion2b_FollowsOption(IpaqModerateWalkingRule rule, IpaqCategory expected)
    {
        var s = Ipaq.Score2005(R(0, 0, 3, 30, 2, 30), new IpaqOptions { ModerateWalkingRule = rule }).Value!.Value;
        Assert.Equal(558.0, s.TotalMetMinPerWeek, 10);
        Assert.Equal(expected, s.Category);
    }

    [Theory]
    [InlineData(IpaqModerateWalkingRule.Separate)]
    [InlineData(IpaqModerateWalkingRule.CombinedCount)]
    [InlineData(IpaqModerateWalkingRule.Union)]
    public void Score2005_SingleDomainFiveDays_MinimallyActiveUnderEveryOption(IpaqModerateWalkingRule rule)
    {
        // Moderate 5 × 30 = 600 would also meet (c); use walking 5 × 30 = 495 < 600 so only (b) applies.
        var s = Ipaq.Score2005(R(0, 0, 0, 0, 5, 30), new IpaqOptions { ModerateWalkingRule = rule }).Value!.Value;
        Assert.Equal(IpaqCategory.MinimallyActive, s.Category);
    }

    [Fact]
    public void Score2005_DefaultOption_IsUnion() =>
        Assert.Equal(IpaqModerateWalkingRule.Union, IpaqOptions.Default.ModerateWalkingRule);

    [Fact]
    public void Score2005_MinutesWithZeroDays_IgnoredIncludingRule2()
    {
        // Vigorous "0 days, 900 min" is not asked/used: rule 2 sums only answered domains (60 + 30 ≤ 960).
        var s = Ipaq.Score2005(R(0, 900, 2, 60, 5, 30)).Value!.Value;
        Assert.Equal(0.0, s.VigorousMetMinPerWeek);
        Assert.Equal((4.0 * 60 * 2) + (3.3 * 30 * 5), s.TotalMetMinPerWeek, 10);
    }
}
