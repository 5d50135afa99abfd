namespace HomaBone.Domain;

/// <summary>
/// A derived value: either a number (<see cref="Value"/>) or "not computable" with a <see cref="Reason"/>.
/// Never a sentinel: a not-computable value is never represented as 0, NaN or ±∞.
/// </summary>
/// <typeparam name="T">The value type.</typeparam>
public readonly record struct Derived<T>
    where T : struct
{
    private readonly string? _reason;

    internal Derived(T? value, string? reason)
    {
        Value = value;
        _reason = value is null ? reason ?? "not computed" : null;
    }

    /// <summary>The value, or null when not computable.</summary>
    public T? Value { get; }

    /// <summary>Why the value is not computable; null when it is.</summary>
    public string? Reason => Value is null ? _reason ?? "not computed" : null;

    /// <summary>True when <see cref="Value"/> holds a number.</summary>
    public bool IsComputable => Value is not null;

    /// <inheritdoc />
    public override string ToString() => Value is { } v ? v.ToString() ?? string.Empty : $"not computable: {Reason}";
}

/// <summary>Factories for <see cref="Derived{T}"/>.</summary>
public static class Derived
{
    /// <summary>A computable value.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>The derived value.</returns>
    /// <exception cref="ArgumentException">A non-finite double or float (use <see cref="Finite"/> for computed numbers).</exception>
    public static Derived<T> Of<T>(T value)
        where T : struct
    {
        if ((value is double d && !double.IsFinite(d)) || (value is float f && !float.IsFinite(f)))
        {
            throw new ArgumentException("A derived value is never NaN or ±∞.", nameof(value));
        }

        return new(value, null);
    }

    /// <summary>A not-computable value.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="reason">Why (non-empty).</param>
    /// <returns>The derived value.</returns>
    public static Derived<T> NotComputable<T>(string reason)
        where T : struct
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new(null, reason);
    }

    /// <summary>A number if it is finite, otherwise not computable ("non-finite result").</summary>
    /// <param name="value">The computed number.</param>
    /// <param name="what">Name of the quantity, for the reason.</param>
    /// <returns>The derived value.</returns>
    public static Derived<double> Finite(double value, string what) =>
        double.IsFinite(value) ? Of(value) : NotComputable<double>($"{what}: non-finite result");

    /// <summary>Applies <paramref name="map"/> to a computable value; passes the reason through otherwise.</summary>
    /// <typeparam name="T">Source type.</typeparam>
    /// <typeparam name="TResult">Result type.</typeparam>
    /// <param name="source">The source value.</param>
    /// <param name="map">The mapping, itself returning a derived value.</param>
    /// <returns>The mapped value.</returns>
    public static Derived<TResult> Bind<T, TResult>(this Derived<T> source, Func<T, Derived<TResult>> map)
        where T : struct
        where TResult : struct
    {
        ArgumentNullException.ThrowIfNull(map);
        return source.Value is { } v ? map(v) : NotComputable<TResult>(source.Reason!);
    }
}
