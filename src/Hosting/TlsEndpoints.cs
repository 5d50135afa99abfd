using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace HomaBone.Hosting;

/// <summary>The client-certificate (mutual TLS) settings of the public endpoints.</summary>
/// <param name="Mode">None, Allow or Require (Require applies to the gRPC endpoint).</param>
/// <param name="Authorities">The CA certificates that may issue client certificates.</param>
public sealed record ClientCertificateSettings(ClientCertificateMode Mode, X509Certificate2Collection Authorities);

/// <summary>
/// Kestrel TLS options with optional client certificates. The gRPC endpoint enforces the configured mode
/// (Require: the handshake fails without a certificate chaining to the configured CA). The HTTP endpoint
/// (health, metrics, JSON reads) only asks for one, so probes work without a certificate; reads there still
/// need an authenticated principal.
/// </summary>
public static class TlsEndpoints
{
    /// <summary>Reads and checks <see cref="HomaBoneOptions.ClientCertificateMode"/> and its CA file.</summary>
    public static ClientCertificateSettings ReadClientCertificateSettings(HomaBoneOptions options, X509Certificate2? serverCertificate)
    {
        ArgumentNullException.ThrowIfNull(options);
        var mode = options.ClientCertificateMode.Trim().ToUpperInvariant() switch
        {
            "" or "NONE" or "NOCERTIFICATE" => ClientCertificateMode.NoCertificate,
            "ALLOW" or "ALLOWCERTIFICATE" => ClientCertificateMode.AllowCertificate,
            "REQUIRE" or "REQUIRECERTIFICATE" => ClientCertificateMode.RequireCertificate,
            _ => throw new InvalidOperationException($"HomaBone:ClientCertificateMode must be None, Allow or Require; got '{options.ClientCertificateMode}'."),
        };
        var authorities = new X509Certificate2Collection();
        if (mode == ClientCertificateMode.NoCertificate)
        {
            return new ClientCertificateSettings(mode, authorities);
        }

        if (serverCertificate is null)
        {
            throw new InvalidOperationException("Client certificates need TLS: set HomaBone:TlsCertificatePath and HomaBone:TlsKeyPath.");
        }

        if (options.ClientCaPath.Length == 0)
        {
            throw new InvalidOperationException("Client certificates need HomaBone:ClientCaPath (PEM file of the issuing CA).");
        }

        authorities.ImportFromPemFile(options.ClientCaPath);
        return authorities.Count == 0
            ? throw new InvalidOperationException("HomaBone:ClientCaPath holds no certificate.")
            : new ClientCertificateSettings(mode, authorities);
    }

    /// <summary>The HTTPS options of one endpoint.</summary>
    public static HttpsConnectionAdapterOptions HttpsOptions(X509Certificate2 certificate, ClientCertificateSettings clientCertificates, bool grpcEndpoint)
    {
        ArgumentNullException.ThrowIfNull(clientCertificates);
        var mode = clientCertificates.Mode;
        if (!grpcEndpoint && mode == ClientCertificateMode.RequireCertificate)
        {
            mode = ClientCertificateMode.AllowCertificate;
        }

        var https = new HttpsConnectionAdapterOptions { ServerCertificate = certificate, ClientCertificateMode = mode, CheckCertificateRevocation = false };
        if (mode != ClientCertificateMode.NoCertificate)
        {
            https.ClientCertificateValidation = (client, _, _) => ChainsTo(client, clientCertificates.Authorities);
        }

        return https;
    }

    /// <summary>True when <paramref name="certificate"/> chains to one of <paramref name="authorities"/> (no system roots).</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authorities);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        return chain.Build(certificate);
    }
}
