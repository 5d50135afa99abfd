using System.Diagnostics;

namespace HomaBone.Qct;

/// <summary>Stopwatch instrumentation of the analysis stages, off unless a sink is set (profiling, tests).</summary>
internal static class QctTiming
{
    /// <summary>Receives (stage, milliseconds since the previous mark); null disables timing.</summary>
    public static Action<string, double>? Sink { get; set; }

    /// <summary>Records the time since <paramref name="since"/> under <paramref name="stage"/> and restarts it.</summary>
    public static void Mark(string stage, ref long since)
    {
        if (Sink is { } sink)
        {
            var now = Stopwatch.GetTimestamp();
            sink(stage, Stopwatch.GetElapsedTime(since, now).TotalMilliseconds);
            since = now;
        }
    }
}
