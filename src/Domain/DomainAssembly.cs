namespace HomaBone.Domain;

/// <summary>Marker for the assembly; the domain model lives beside it.</summary>
public static class DomainAssembly
{
}
