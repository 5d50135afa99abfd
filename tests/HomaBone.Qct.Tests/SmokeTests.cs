namespace HomaBone.Qct.Tests;

public class SmokeTests
{
    [Fact]
    public void Assembly_Loads() => Assert.Equal("HomaBone.Qct", typeof(QctAssembly).Assembly.GetName().Name);
}
