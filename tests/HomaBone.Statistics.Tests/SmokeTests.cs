namespace HomaBone.Statistics.Tests;

public class SmokeTests
{
    [Fact]
    public void Assembly_Loads_HasExpectedName() => Assert.Equal("HomaBone.Statistics", typeof(Quantiles).Assembly.GetName().Name);
}
