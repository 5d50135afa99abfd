using HomaBone.Qct.Series;

namespace HomaBone.Qct.Tests.Series;

/// <summary>The whole-volume array cache: exact sizes only, bounded, small arrays ignored, released on demand.</summary>
[Collection(nameof(VolumeBuffersTests))]
public sealed class VolumeBuffersTests
{
    [Fact]
    public void AReturnedArray_IsRentedAgainForTheSameLengthOnly_AndAtMostTwoAreKept()
    {
        VolumeBuffers.Release();
        const int Length = 3 << 20;
        var first = VolumeBuffers.Rent<float>(Length);
        Assert.Equal(Length, first.Length);
        VolumeBuffers.Return(first);
        Assert.NotSame(first, VolumeBuffers.Rent<float>(Length + 1));
        Assert.Same(first, VolumeBuffers.Rent<float>(Length));
        Assert.NotSame(first, VolumeBuffers.Rent<float>(Length)); // taken: a new one

        var arrays = Enumerable.Range(0, 4).Select(_ => new float[Length]).ToList();
        arrays.ForEach(VolumeBuffers.Return);
        Assert.Equal(VolumeBuffers.SlotsPerType, VolumeBuffers.Kept<float>());
        VolumeBuffers.Release();
        Assert.Equal(0, VolumeBuffers.Kept<float>());
    }

    [Fact]
    public void SmallArrays_AreLeftToTheGc_AndTypesAreKeptApart()
    {
        VolumeBuffers.Release();
        VolumeBuffers.Return(new byte[1000]);
        VolumeBuffers.Return<float>(null);
        Assert.Equal(0, VolumeBuffers.Kept<byte>());
        var labels = new byte[VolumeBuffers.MinimumBytes];
        VolumeBuffers.Return(labels);
        Assert.Equal(1, VolumeBuffers.Kept<byte>());
        Assert.Equal(0, VolumeBuffers.Kept<float>());
        Assert.Same(labels, VolumeBuffers.Rent<byte>(labels.Length));
        VolumeBuffers.Release();
    }
}

/// <summary>The cache is process-wide: these tests run while no analysis uses it.</summary>
[CollectionDefinition(nameof(VolumeBuffersTests), DisableParallelization = true)]
public sealed class VolumeBuffersSerial;
