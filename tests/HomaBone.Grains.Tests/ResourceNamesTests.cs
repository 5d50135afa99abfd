namespace HomaBone.Grains.Tests;

/// <summary>Resource-name parsing: identifiers are matched whole, with no trailing newline let through.</summary>
public sealed class ResourceNamesTests
{
    [Theory]
    [InlineData("p1", true)]
    [InlineData("P0000001", true)]
    [InlineData("a.b_c-d", true)]
    [InlineData("p\n", false)]
    [InlineData("\np", false)]
    [InlineData("", false)]
    [InlineData("a/b", false)]
    [InlineData("has space", false)]
    public void IsValidParticipantId_Examples_MatchesWholeString(string id, bool expected) =>
        Assert.Equal(expected, ResourceNames.IsValidParticipantId(id));

    [Theory]
    [InlineData("c1", true)]
    [InlineData("c\n", false)]
    [InlineData("-c", false)]
    [InlineData("UPPER", false)]
    public void IsValidCohortId_Examples_MatchesWholeString(string id, bool expected) =>
        Assert.Equal(expected, ResourceNames.IsValidCohortId(id));

    [Fact]
    public void TryParseParticipant_TrailingNewline_IsRejected()
    {
        Assert.False(ResourceNames.TryParseParticipant("cohorts/c/participants/p\n", out _, out _));
        Assert.False(ResourceNames.TryParseParticipant("cohorts/c\n/participants/p", out _, out _));
        Assert.False(ResourceNames.TryParseCohort("cohorts/c\n", out _));
        Assert.True(ResourceNames.TryParseParticipant("cohorts/c/participants/p", out var cohort, out var participant));
        Assert.Equal(("c", "p"), (cohort, participant));
    }
}
