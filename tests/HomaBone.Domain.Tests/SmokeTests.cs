namespace HomaBone.Domain.Tests;

public class SmokeTests
{
    [Fact]
    public void Assembly_Loads() => Assert.Equal("HomaBone.Domain", typeof(DomainAssembly).Assembly.GetName().Name);
}
