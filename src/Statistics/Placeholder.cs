namespace HomaBone.Statistics;

/// <summary>Marker for the assembly; the statistics API lives beside it.</summary>
public static class StatisticsAssembly
{
}
