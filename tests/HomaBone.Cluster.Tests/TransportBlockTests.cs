using System.Net;
using System.Net.Sockets;
using HomaBone.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// Kestrel receives into <see cref="LargeBlockMemoryPool"/> blocks (HomaBone:TransportBlockKiB): the pool's rules, and a
/// real Kestrel endpoint configured by <see cref="HostingExtensions.ConfigureHomaBoneEndpoints"/> whose request body
/// arrives in buffers of the configured size instead of Kestrel's 4 KiB.
/// </summary>
public sealed class TransportBlockTests
{
    [Fact]
    public void Rent_LendsWholeBlocks_ReusesReturnedOnes_AndRefusesLargerRequests()
    {
        using var pool = new LargeBlockMemoryPool(64 * 1024, trimAutomatically: false);
        Assert.Equal(64 * 1024, pool.MaxBufferSize);
        var first = pool.Rent(100);
        Assert.Equal(64 * 1024, first.Memory.Length);
        var memory = first.Memory;
        first.Dispose();
        first.Dispose(); // a second dispose returns nothing more
        Assert.Equal(1, pool.FreeBlocks);
        using var again = pool.Rent();
        Assert.True(again.Memory.Span == memory.Span, "the returned block is lent again");
        Assert.Equal(0, pool.FreeBlocks);
        using var other = pool.Rent(4096);
        Assert.False(other.Memory.Span == memory.Span);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent((64 * 1024) + 1));
    }

    [Fact]
    public void IdleMemory_IsBounded_AndBlocksIdleForAWholePeriodAreReleased()
    {
        using var pool = new LargeBlockMemoryPool(1 << 20, trimAutomatically: false);
        var maxRetained = (int)Math.Max(1, LargeBlockMemoryPool.MaxRetainedBytes / (1 << 20));
        var lent = Enumerable.Range(0, maxRetained + 10).Select(_ => pool.Rent()).ToList();
        lent.ForEach(b => b.Dispose());
        Assert.Equal(maxRetained, pool.FreeBlocks);

        // A period in which at most 5 blocks are in use at once: all but those 5 were idle throughout.
        pool.Trim();
        var inUse = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        inUse.ForEach(b => b.Dispose());
        pool.Trim();
        Assert.Equal(5, pool.FreeBlocks);

        // A period with no use at all releases the rest.
        pool.Trim();
        Assert.Equal(0, pool.FreeBlocks);
    }

    [Fact]
    public void Rent_AfterDispose_IsRefused_AndReturnsAreDropped()
    {
        var pool = new LargeBlockMemoryPool(8192, trimAutomatically: false);
        var block = pool.Rent();
        pool.Dispose();
        block.Dispose();
        Assert.Equal(0, pool.FreeBlocks);
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(2048)]
    public void AnInvalidBlockSize_StopsStartUp_WithTheSettingNamed(int kib)
    {
        var builder = WebApplication.CreateSlimBuilder();
        var error = Assert.Throws<InvalidOperationException>(() => builder.ConfigureHomaBoneEndpoints(new HomaBoneOptions { TransportBlockKiB = kib, HttpPort = FreePort() }, includeGrpc: false));
        Assert.Contains("HomaBone:TransportBlockKiB", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64, 64 * 1024)]
    [InlineData(0, 4096)]
    public async Task ARequestBody_ArrivesInBuffersOfTheConfiguredBlockSize(int kib, int expectedLargest)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var options = new HomaBoneOptions { TransportBlockKiB = kib, HttpPort = FreePort(), DataDirectory = Path.GetTempPath() };
        builder.Services.AddSingleton<ReadinessState>();
        builder.ConfigureHomaBoneEndpoints(options, includeGrpc: false);
        await using var app = builder.Build();
        Assert.Equal(kib > 0, app.Services.GetRequiredService<IMemoryPoolFactory<byte>>() is LargeBlockMemoryPoolFactory);

        // HTTP/1.1 bodies are read straight from the connection's receive pipe: its segments are the transport's blocks.
        app.MapPost("/largest-segment", async (HttpContext context) =>
        {
            var largest = 0;
            long total = 0;
            while (true)
            {
                var read = await context.Request.BodyReader.ReadAsync();
                foreach (var segment in read.Buffer)
                {
                    largest = Math.Max(largest, segment.Length);
                    total += segment.Length;
                }

                context.Request.BodyReader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            return Results.Text($"{largest} {total}");
        });
        await app.StartAsync();
        try
        {
            using var http = new HttpClient();
            var body = new byte[8 << 20];
            using var content = new ByteArrayContent(body);
            var reply = await (await http.PostAsync(new Uri($"http://127.0.0.1:{options.HttpPort}/largest-segment"), content)).Content.ReadAsStringAsync();
            var parts = reply.Split(' ');
            Assert.Equal(body.Length, long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
            var largest = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(largest <= expectedLargest, $"a segment of {largest} bytes with {kib}-KiB blocks");
            Assert.True(largest > expectedLargest / 2, $"the largest segment was {largest} bytes with {kib}-KiB blocks: the transport does not receive into blocks of that size");
            if (app.Services.GetRequiredService<IMemoryPoolFactory<byte>>() is LargeBlockMemoryPoolFactory factory)
            {
                // Pools (each with its trim timer) are made per transport queue, not per connection: 20 more connections add none.
                var before = factory.PoolsCreated;
                for (var c = 0; c < 20; c++)
                {
                    using var client = new HttpClient();
                    using var small = new ByteArrayContent(new byte[100]);
                    (await client.PostAsync(new Uri($"http://127.0.0.1:{options.HttpPort}/largest-segment"), small)).EnsureSuccessStatusCode();
                }

                Assert.Equal(before, factory.PoolsCreated);
                Assert.InRange(before, 1, 32);
            }
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
