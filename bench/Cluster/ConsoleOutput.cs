using Xunit.Abstractions;

namespace HomaBone.Cluster.Bench;

/// <summary>The linked fixtures write their progress and, on failure, every process's log tail here: to stderr.</summary>
internal sealed class ConsoleOutput : ITestOutputHelper
{
    public void WriteLine(string message) => Console.Error.WriteLine(message);

    public void WriteLine(string format, params object[] args) => Console.Error.WriteLine(format, args);
}
