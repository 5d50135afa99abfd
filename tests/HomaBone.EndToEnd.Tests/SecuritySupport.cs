using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// A test token issuer: an RSA key made in the test, its public half written as a JWKS file for the service
/// (verified offline), and tokens minted with any roles, audience, lifetime or (for forgeries) another key.
/// </summary>
public sealed class TokenIssuer : IDisposable
{
    public const string Issuer = "https://issuer.homabone.test";
    public const string Audience = "homabone-api";
    private const string KeyId = "test-key-1";

    private readonly RSA _key = RSA.Create(2048);
    private readonly RSA _forger = RSA.Create(2048);

    public TokenIssuer()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("homabone-jwks-").FullName;
        JwksPath = Path.Combine(Directory, "jwks.json");
        var p = _key.ExportParameters(false);
        File.WriteAllText(JwksPath, $$"""{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"{{KeyId}}","n":"{{Base64UrlEncoder.Encode(p.Modulus)}}","e":"{{Base64UrlEncoder.Encode(p.Exponent)}}"}]}""");
    }

    public string Directory { get; }

    public string JwksPath { get; }

    /// <summary>The service arguments that turn on JWT authentication with this issuer.</summary>
    public string[] ServiceArgs =>
    [
        $"--HomaBone:Security:Jwt:Issuer={Issuer}",
        $"--HomaBone:Security:Jwt:Audience={Audience}",
        $"--HomaBone:Security:Jwt:JwksPath={JwksPath}",
    ];

    /// <summary>A token for <paramref name="subject"/> with <paramref name="roles"/>.</summary>
    public string Mint(IEnumerable<string> roles, string subject = "test-client", string audience = Audience, string issuer = Issuer, TimeSpan? expiresIn = null, bool forged = false)
    {
        var now = DateTime.UtcNow;
        var expires = now + (expiresIn ?? TimeSpan.FromMinutes(10));
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expires < now ? expires.AddMinutes(-10) : now,
            NotBefore = expires < now ? expires.AddMinutes(-10) : now,
            Expires = expires,
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["roles"] = roles.ToArray() },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(forged ? _forger : _key) { KeyId = KeyId }, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public static CallOptions Bearer(string? token) => new(headers: token is null ? null : new Metadata { { "authorization", "Bearer " + token } }, deadline: DateTime.UtcNow.AddSeconds(20));

    public void Dispose()
    {
        _key.Dispose();
        _forger.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The service with JWT authentication on (no development principal), shared by a test class.</summary>
public sealed class SecuredServiceFixture : IAsyncLifetime
{
    public TokenIssuer Tokens { get; } = new();

    public ServiceProcess Service { get; } = new();

    public GrpcChannel Channel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Service.StartAsync(Tokens.ServiceArgs);
        Channel = Service.CreateChannel();
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        await Service.DisposeAsync();
        Tokens.Dispose();
    }

    /// <summary>Calls any method with an empty request message (bytes), returning the status it ended with.</summary>
    public static async Task<StatusCode> CallRawAsync(GrpcChannel channel, string fullMethod, MethodType type, CallOptions options)
    {
        var parts = fullMethod.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = new Method<byte[], byte[]>(type, parts[0], parts[1], Raw, Raw);
        var invoker = channel.CreateCallInvoker();
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(method, null, options, []);
                    break;
                case MethodType.ClientStreaming:
                    {
                        using var call = invoker.AsyncClientStreamingCall(method, null, options);
                        await call.RequestStream.CompleteAsync();
                        await call.ResponseAsync;
                        break;
                    }

                case MethodType.ServerStreaming:
                    {
                        using var call = invoker.AsyncServerStreamingCall(method, null, options, []);
                        while (await call.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }

                        break;
                    }

                default:
                    {
                        using var call = invoker.AsyncDuplexStreamingCall(method, null, options);
                        await call.RequestStream.CompleteAsync();
                        while (await call.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }

                        break;
                    }
            }

            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);
}
