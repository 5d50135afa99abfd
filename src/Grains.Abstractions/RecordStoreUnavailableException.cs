namespace HomaBone.Grains;

/// <summary>
/// A transient failure of the record store (a lost connection, a deadlock or serialization failure that rolled the
/// transaction back): nothing was stored, and the call may be repeated. Thrown across the Orleans boundary instead of
/// the driver's exception, which Orleans cannot serialize; the gateway answers it UNAVAILABLE.
/// </summary>
[GenerateSerializer]
[Alias("HomaBone.Grains.RecordStoreUnavailableException")]
public sealed class RecordStoreUnavailableException : Orleans.Runtime.OrleansException
{
    public RecordStoreUnavailableException()
    {
    }

    public RecordStoreUnavailableException(string message)
        : base(message)
    {
    }

    public RecordStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
