namespace HomaBone.Qct;

/// <summary>A point or direction in DICOM patient coordinates (LPS, millimetres).</summary>
/// <param name="X">Right-to-left coordinate.</param>
/// <param name="Y">Anterior-to-posterior coordinate.</param>
/// <param name="Z">Inferior-to-superior coordinate.</param>
public readonly record struct Vec3(double X, double Y, double Z)
{
    /// <summary>Euclidean length.</summary>
    public double Length => Math.Sqrt(Dot(this));

    /// <summary>Dot product.</summary>
    public double Dot(Vec3 other) => (X * other.X) + (Y * other.Y) + (Z * other.Z);

    /// <summary>Cross product.</summary>
    public Vec3 Cross(Vec3 o) => new((Y * o.Z) - (Z * o.Y), (Z * o.X) - (X * o.Z), (X * o.Y) - (Y * o.X));

    /// <summary>Unit vector in the same direction.</summary>
    public Vec3 Normalized()
    {
        var length = Length;
        return length > 0 ? this / length : throw new InvalidOperationException("Cannot normalise a zero vector.");
    }

    /// <summary>Sum.</summary>
    public static Vec3 operator +(Vec3 a, Vec3 b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);

    /// <summary>Difference.</summary>
    public static Vec3 operator -(Vec3 a, Vec3 b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);

    /// <summary>Negation.</summary>
    public static Vec3 operator -(Vec3 a) => new(-a.X, -a.Y, -a.Z);

    /// <summary>Scaling.</summary>
    public static Vec3 operator *(Vec3 a, double s) => new(a.X * s, a.Y * s, a.Z * s);

    /// <summary>Scaling.</summary>
    public static Vec3 operator *(double s, Vec3 a) => a * s;

    /// <summary>Division by a scalar.</summary>
    public static Vec3 operator /(Vec3 a, double s) => new(a.X / s, a.Y / s, a.Z / s);

    /// <summary>Named alternative to +.</summary>
    public static Vec3 Add(Vec3 a, Vec3 b) => a + b;

    /// <summary>Named alternative to −.</summary>
    public static Vec3 Subtract(Vec3 a, Vec3 b) => a - b;

    /// <summary>Named alternative to unary −.</summary>
    public static Vec3 Negate(Vec3 a) => -a;

    /// <summary>Named alternative to *.</summary>
    public static Vec3 Multiply(Vec3 a, double s) => a * s;

    /// <summary>Named alternative to /.</summary>
    public static Vec3 Divide(Vec3 a, double s) => a / s;
}
