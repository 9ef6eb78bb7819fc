import Foundation

/// Throwaway test PKI for the output tests, generated once with openssl (ECDSA P-256, valid for
/// 100 years): a CA, a server leaf for `localhost` / `127.0.0.1` and a client leaf signed by it,
/// and an unrelated CA. Fixtures only: these keys protect nothing.
enum OutputTestPKI {
    static let caPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBpjCCAU2gAwIBAgIUI92EGfn1VJjAMh5BwX+nlcdVfbUwCgYIKoZIzj0EAwIw
        IDEeMBwGA1UEAwwVUG9tb25hIE91dHB1dCBUZXN0IENBMCAXDTI2MTEzMDAwNDAy
        N1oYDzIxMjYxMTA2MDA0MDI3WjAgMR4wHAYDVQQDDBVQb21vbmEgT3V0cHV0IFRl
        c3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT2FmrjEzh3PRj+UTWrc/m4
        RV+M9Sjiq0dNOYmEATCEtbTeV3FsynCfZi03C8y4iSpGYNIx+laP8XBJx3pl3unt
        o2MwYTAdBgNVHQ4EFgQU3VAggnoBvSydxHHwfsqKv800fOUwHwYDVR0jBBgwFoAU
        3VAggnoBvSydxHHwfsqKv800fOUwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8E
        BAMCAQYwCgYIKoZIzj0EAwIDRwAwRAIgOagQYx2F6BZd/rK5bQ+VSHhjRhYgkaag
        UT69iY+XLEECIGsi3Q7gsprfDC7FJHwBCfgl3SUyOFcNmshqP0gUk/50
        -----END CERTIFICATE-----
        """
    static let serverPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBxzCCAW6gAwIBAgIUVQpNOI8G1yqWozCwS4SbVoF+/wEwCgYIKoZIzj0EAwIw
        IDEeMBwGA1UEAwwVUG9tb25hIE91dHB1dCBUZXN0IENBMCAXDTI2MTEzMDAwNDAy
        N1oYDzIxMjYxMTA2MDA0MDI3WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcq
        hkjOPQIBBggqhkjOPQMBBwNCAATci9NFMn/2ub2U3QHoAAwZmbtZCwlzSwMNhSkM
        4M/VMOeC7V1ReQJpUTjUtNvoPtQ9w3DfZ19aG1B0ATYb/5J9o4GPMIGMMBoGA1Ud
        EQQTMBGCCWxvY2FsaG9zdIcEfwAAATAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIH
        gDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUg9pzIBsnhApFDh7A1kXK
        1SsscQwwHwYDVR0jBBgwFoAU3VAggnoBvSydxHHwfsqKv800fOUwCgYIKoZIzj0E
        AwIDRwAwRAIgTFo8ZxUUJ8iS3DWz+zjSjMalRGofo0fymR6b4XmClJQCIE4aqZxY
        3fb6xgD0f07SOB3mPW1KPgtY/XOpLX2Jhxyb
        -----END CERTIFICATE-----
        """
    static let serverKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFMqQ/v4u88e5CoNe
        Dlc2sam9zfUtzszrYbRmqEfVMHKhRANCAATci9NFMn/2ub2U3QHoAAwZmbtZCwlz
        SwMNhSkM4M/VMOeC7V1ReQJpUTjUtNvoPtQ9w3DfZ19aG1B0ATYb/5J9
        -----END PRIVATE KEY-----
        """
    static let clientPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBrjCCAVSgAwIBAgIUVQpNOI8G1yqWozCwS4SbVoF+/wIwCgYIKoZIzj0EAwIw
        IDEeMBwGA1UEAwwVUG9tb25hIE91dHB1dCBUZXN0IENBMCAXDTI2MTEzMDAwNDAy
        N1oYDzIxMjYxMTA2MDA0MDI3WjAYMRYwFAYDVQQDDA1wb21vbmEtY2xpZW50MFkw
        EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDsVgbL6pkt7DFObnfYZnkvNqly5TjhRT
        46kkRvYaqOcFET9b+Y5d2RPnO1Pp2/becfnlAD/BVJdzO9T0GNSeSqNyMHAwCQYD
        VR0TBAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYD
        VR0OBBYEFIjVLilsoztJjd6dd71bZLtnRvKFMB8GA1UdIwQYMBaAFN1QIIJ6Ab0s
        ncRx8H7Kir/NNHzlMAoGCCqGSM49BAMCA0gAMEUCIFU6Ao7yFdDLMRBUCijTb9NY
        uzFnk+Y8jou1Nf5l6RpTAiEAvpzj/87ZgbPsw1PLELvohklH+I6DVFmPeFgzOuhE
        vk8=
        -----END CERTIFICATE-----
        """
    static let clientKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeauzmGCgB+kRYbfF
        lmp7YSlcZdKR/S6G4LrygtFAErOhRANCAAQOxWBsvqmS3sMU5ud9hmeS82qXLlOO
        FFPjqSRG9hqo5wURP1v5jl3ZE+c7U+nb9t5x+eUAP8FUl3M71PQY1J5K
        -----END PRIVATE KEY-----
        """
    static let otherCAPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBkDCCATWgAwIBAgIUSgW3TJ19FBvPHdKUzg/0WWsXNoUwCgYIKoZIzj0EAwIw
        HDEaMBgGA1UEAwwRVW5yZWxhdGVkIFRlc3QgQ0EwIBcNMjYxMTMwMDA0MDI3WhgP
        MjEyNjExMDYwMDQwMjdaMBwxGjAYBgNVBAMMEVVucmVsYXRlZCBUZXN0IENBMFkw
        EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEB17ka9xmmgLbDeSc1BuoS9rP4hu/YC6h
        ztlE6nAjLph2dNKxcgQCmTui3Kz2tbk30o2+9idcU3KsXTCRQHUU06NTMFEwHQYD
        VR0OBBYEFEtiijzvR2+dTcHZK0x75B1hsmr9MB8GA1UdIwQYMBaAFEtiijzvR2+d
        TcHZK0x75B1hsmr9MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIh
        ALQVG2UlQGFCaRGIDctO8PFjZ+8/jDEhGkyzA52Fd2r4AiEAwL3hC7ewBNgB2/Dw
        i7My4wCWRpEEpl8YL2xg/aNXZi4=
        -----END CERTIFICATE-----
        """

    /// Writes the PEM files into a fresh directory and returns their paths.
    static func writeFiles() throws -> Files {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        return Files(
            directory: directory.path,
            ca: try write("ca.pem", caPEM), server: try write("server.pem", serverPEM), serverKey: try write("server.key", serverKeyPEM),
            client: try write("client.pem", clientPEM), clientKey: try write("client.key", clientKeyPEM),
            otherCA: try write("other-ca.pem", otherCAPEM))
    }

    struct Files {
        let directory: String
        let ca: String
        let server: String
        let serverKey: String
        let client: String
        let clientKey: String
        let otherCA: String
    }
}
