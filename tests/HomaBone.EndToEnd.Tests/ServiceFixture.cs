namespace HomaBone.EndToEnd.Tests;

/// <summary>One running service shared by a test class; tests use fresh cohort and participant ids.</summary>
public sealed class ServiceFixture : IAsyncLifetime
{
    public ServiceProcess Service { get; } = new();

    public Task InitializeAsync() => Service.StartAsync();

    public async Task DisposeAsync() => await Service.DisposeAsync();

    public static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("n")[..12];
}
