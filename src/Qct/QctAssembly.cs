namespace HomaBone.Qct;

/// <summary>Marker for the assembly; the QCT API lives beside it.</summary>
public static class QctAssembly
{
}
