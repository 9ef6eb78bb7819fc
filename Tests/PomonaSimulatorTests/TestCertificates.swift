/// Throwaway test PKI generated once with openssl (ECDSA P-256, valid for 100 years):
/// a CA, a leaf for `localhost` / `127.0.0.1` signed by it, and an unrelated self-signed CA.
/// Fixtures only: these keys protect nothing.
enum TestCertificates {
    static let caPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBrTCCAVOgAwIBAgIUQaWUPDY3O7mRA1HN5ZvEm4wXzfUwCgYIKoZIzj0EAwIw
        IzEhMB8GA1UEAwwYUG9tb25hIFNpbXVsYXRvciBUZXN0IENBMCAXDTI2MTEyOTIx
        NDIyM1oYDzIxMjYxMTA1MjE0MjIzWjAjMSEwHwYDVQQDDBhQb21vbmEgU2ltdWxh
        dG9yIFRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARcgfvW79nfgK96
        HKezOWR6bf8WUiBzt+mc9h2D8WZSjeKeNoUKq4AtDiRyFJlCCP4Ev/4IBGxLNAad
        HI5e7broo2MwYTAdBgNVHQ4EFgQUf0SBVdOacxOXbBFt6lknLxIqwSMwHwYDVR0j
        BBgwFoAUf0SBVdOacxOXbBFt6lknLxIqwSMwDwYDVR0TAQH/BAUwAwEB/zAOBgNV
        HQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwIDSAAwRQIgGauiEtkdnSzL56Mm13Iz01pb
        EpSHTD88qGQ3f4En1coCIQDhV25XjFkdRkCUWYPUOyPTY8unpO/X7wySqBc1Zv+U
        BQ==
        -----END CERTIFICATE-----
        """
    static let leafPEM = """
        -----BEGIN CERTIFICATE-----
        MIIByjCCAXGgAwIBAgIUblbynRy+6Vc9kP98VvMZUmGX07MwCgYIKoZIzj0EAwIw
        IzEhMB8GA1UEAwwYUG9tb25hIFNpbXVsYXRvciBUZXN0IENBMCAXDTI2MTEyOTIx
        NDIyNFoYDzIxMjYxMTA1MjE0MjI0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTAT
        BgcqhkjOPQIBBggqhkjOPQMBBwNCAAScXXcdYRcji0xnP5CcJkWHFChdqho26Zz+
        9GDNCdEOCcC8HOZXXiTHntRkL00vupN5TWKtcB+Ba8F2hvP8vvywo4GPMIGMMBoG
        A1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAJBgNVHRMEAjAAMA4GA1UdDwEB/wQE
        AwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUft6fBGovduil1lVE
        FuWQBnBKhmcwHwYDVR0jBBgwFoAUf0SBVdOacxOXbBFt6lknLxIqwSMwCgYIKoZI
        zj0EAwIDRwAwRAIgE7aEWJLtIsiWYEyPnfFLNztKw33cDWI6YVbvaO6242MCIB4p
        k+ChF2yqnzlBi186rkxB8YZKbaNZndl1omrcHXj2
        -----END CERTIFICATE-----
        """
    static let leafKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWCPVumGxAFSOHmoZ
        MvU6CE5Vup1L2R/t+eQLXqdEH3qhRANCAAScXXcdYRcji0xnP5CcJkWHFChdqho2
        6Zz+9GDNCdEOCcC8HOZXXiTHntRkL00vupN5TWKtcB+Ba8F2hvP8vvyw
        -----END PRIVATE KEY-----
        """
    static let untrustedCAPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBhjCCASugAwIBAgIUDBNmm6hKuc2+gjzqCnZ78yLHCXAwCgYIKoZIzj0EAwIw
        FzEVMBMGA1UEAwwMVW50cnVzdGVkIENBMCAXDTI2MTEyOTIxNDIyNFoYDzIxMjYx
        MTA1MjE0MjI0WjAXMRUwEwYDVQQDDAxVbnRydXN0ZWQgQ0EwWTATBgcqhkjOPQIB
        BggqhkjOPQMBBwNCAASKuUbEJ8E75brRePXkOIlGTeORFq/WtbBUV0GMKeeR2ilQ
        HWEitJXLELpp+wYvz7mJt3BNYATwCN1cQOUczoB4o1MwUTAdBgNVHQ4EFgQUPU3W
        mjeu4ryqnC9MlRjin7Jw4/8wHwYDVR0jBBgwFoAUPU3Wmjeu4ryqnC9MlRjin7Jw
        4/8wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAyewn97LFhHua
        wkG/HPD7Kd/FQypbKxbu8o4I4qdVKPsCIQCc7cGjgPr6GiLrDqMJRBvswGsywvrZ
        dsRoDCsxzgpF8w==
        -----END CERTIFICATE-----
        """
}
