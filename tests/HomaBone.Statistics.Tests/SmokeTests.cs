namespace HomaBone.Statistics.Tests;

public class SmokeTests
{
    [Fact]
    public void Assembly_Loads() => Assert.Equal("HomaBone.Statistics", typeof(StatisticsAssembly).Assembly.GetName().Name);
}
