namespace HomaBone.Qct.Series;

/// <summary>
/// A regular 3-D grid in patient space. Index (i, j, k): i along the row direction (columns, spacing
/// <see cref="SpacingX"/> = Pixel Spacing[1]), j along the column direction (rows, <see cref="SpacingY"/> = Pixel
/// Spacing[0]), k along <see cref="Normal"/> (slices sorted by position, never by Instance Number).
/// Values are stored with i fastest, then j, then k.
/// </summary>
public sealed class VolumeGeometry
{
    /// <summary>Creates a geometry.</summary>
    public VolumeGeometry(int sizeX, int sizeY, int sizeZ, Vec3 origin, Vec3 rowDirection, Vec3 columnDirection, double spacingX, double spacingY, double spacingZ)
    {
        SizeX = sizeX;
        SizeY = sizeY;
        SizeZ = sizeZ;
        Origin = origin;
        RowDirection = rowDirection;
        ColumnDirection = columnDirection;
        Normal = rowDirection.Cross(columnDirection).Normalized();
        SpacingX = spacingX;
        SpacingY = spacingY;
        SpacingZ = spacingZ;
        Count = sizeX * sizeY * sizeZ;
    }

    /// <summary>Columns.</summary>
    public int SizeX { get; }

    /// <summary>Rows.</summary>
    public int SizeY { get; }

    /// <summary>Slices.</summary>
    public int SizeZ { get; }

    /// <summary>Patient position of voxel (0, 0, 0): the first slice's Image Position (Patient).</summary>
    public Vec3 Origin { get; }

    /// <summary>Direction of increasing column index (Image Orientation (Patient) values 1–3).</summary>
    public Vec3 RowDirection { get; }

    /// <summary>Direction of increasing row index (Image Orientation (Patient) values 4–6).</summary>
    public Vec3 ColumnDirection { get; }

    /// <summary>Row × column direction: the slice-stacking direction.</summary>
    public Vec3 Normal { get; }

    /// <summary>Column spacing, mm (Pixel Spacing[1]).</summary>
    public double SpacingX { get; }

    /// <summary>Row spacing, mm (Pixel Spacing[0]).</summary>
    public double SpacingY { get; }

    /// <summary>Slice spacing from the sorted positions, mm.</summary>
    public double SpacingZ { get; }

    /// <summary>Number of voxels (stored: hot loops test it every iteration).</summary>
    public int Count { get; }

    /// <summary>Voxel volume in cm³.</summary>
    public double VoxelVolumeCm3 => SpacingX * SpacingY * SpacingZ / 1000.0;

    /// <summary>Linear index of (i, j, k).</summary>
    public int Index(int i, int j, int k) => i + (SizeX * (j + (SizeY * k)));

    /// <summary>Patient position (mm) of the centre of voxel (i, j, k).</summary>
    public Vec3 Position(double i, double j, double k) =>
        Origin + (RowDirection * (i * SpacingX)) + (ColumnDirection * (j * SpacingY)) + (Normal * (k * SpacingZ));
}

/// <summary>A volume of values (HU, mg/cm³ or labels) on a <see cref="VolumeGeometry"/>.</summary>
/// <param name="Geometry">The grid.</param>
/// <param name="Values">Values, i fastest; NaN marks padding.</param>
public sealed record CtVolume(VolumeGeometry Geometry, float[] Values);
