//! Client construction: CA bundles, insecure TLS, proxies, Debug of options.

use std::path::PathBuf;

use hybrid_core::ErrorKind;
use hybrid_http::{ClientOptions, HttpClient};

use crate::common::LogCapture;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/http/fixtures")
        .join(name)
}

/// A file in the temp dir, unique to this test run.
fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("hybrid-http-test-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

fn opts() -> ClientOptions {
    ClientOptions::new().with_env_proxy(false)
}

#[test]
fn ca_bundle_with_several_certificates_loads() {
    let bundle = fixture("ca-bundle.pem");
    let pem = std::fs::read(&bundle).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&pem)
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );
    HttpClient::new(opts().with_ca_bundle(&bundle)).expect("a valid bundle of two certificates");
    HttpClient::new(opts().with_ca_pem(pem.clone()).with_builtin_roots(false))
        .expect("PEM bytes too");
    // Via configuration.
    let cfg = format!(
        r#"{{"ca_bundle": {:?}, "use_env_proxy": false}}"#,
        bundle.display().to_string()
    );
    let from_cfg: ClientOptions = serde_json::from_str(&cfg).unwrap();
    from_cfg.build().expect("from configuration");
}

#[test]
fn invalid_ca_bundles_are_config_errors() {
    let missing = std::env::temp_dir().join("hybrid-http-test-does-not-exist.pem");
    let e = HttpClient::new(opts().with_ca_bundle(&missing)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("cannot read the CA bundle"), "{e}");
    assert!(std::error::Error::source(&e).is_some());

    let not_pem = temp_file("not-pem.pem", b"this is not a certificate\n");
    let e = HttpClient::new(opts().with_ca_bundle(&not_pem)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("holds no PEM certificate"), "{e}");

    let bad_der = temp_file(
        "bad-der.pem",
        b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQgdGhpcyBpcyBub3QgREVS\n-----END CERTIFICATE-----\n",
    );
    let e = HttpClient::new(opts().with_ca_bundle(&bad_der)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");

    let bad_base64 = temp_file(
        "bad-b64.pem",
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let e = HttpClient::new(opts().with_ca_bundle(&bad_base64)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");

    for p in [not_pem, bad_der, bad_base64] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn insecure_tls_is_opt_in_and_warned_about() {
    let logs = LogCapture::default();
    {
        let _guard = logs.install(tracing::Level::TRACE);
        HttpClient::new(opts()).unwrap();
        assert!(
            !logs.text().contains("DISABLED"),
            "no warning without the opt-in"
        );
        HttpClient::new(opts().with_danger_accept_invalid_certs(true)).unwrap();
    }
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(
        text.contains("TLS certificate verification is DISABLED"),
        "{text}"
    );
    assert!(!ClientOptions::default().danger_accept_invalid_certs);
}

#[test]
fn proxies_and_user_agents_are_validated_without_leaking() {
    HttpClient::new(opts().with_proxy("http://proxy.local:3128")).expect("plain proxy");
    HttpClient::new(opts().with_proxy("http://bob:pr0xy-pw@proxy.local:3128"))
        .expect("proxy with credentials");
    for bad in ["::not a url pr0xy-pw", "ftp://bob:pr0xy-pw@proxy.local"] {
        let e = HttpClient::new(opts().with_proxy(bad)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let mut shown = format!("{e} {e:?}");
        if let Some(s) = std::error::Error::source(&e) {
            shown.push_str(&s.to_string());
        }
        assert!(!shown.contains("pr0xy-pw"), "{shown}");
    }
    let e = HttpClient::new(opts().with_user_agent("bad\nagent")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[test]
fn debug_of_options_and_client_hides_secrets() {
    let o = opts().with_proxy("https://carol:pr0xy-pw@proxy.local:8443");
    let c = HttpClient::new(o.clone()).unwrap().with_provider("azure");
    let shown = format!("{o:?} {c:?} {:#?}", c.options());
    assert!(
        !shown.contains("pr0xy-pw") && !shown.contains("carol"),
        "{shown}"
    );
    assert!(shown.contains("proxy.local:8443"));
    assert!(shown.contains("azure"));
}

#[tokio::test]
async fn requests_go_through_the_configured_proxy_with_its_credentials() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    crate::common::bounded(async {
        // The local mock server plays the proxy: the target host is never resolved or
        // contacted, the proxy receives the absolute-form request.
        let proxy = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v3"))
            .and(header("host", "upstream.hybrid.invalid"))
            // base64("bob:pr0xy-pw")
            .and(header("proxy-authorization", "Basic Ym9iOnByMHh5LXB3"))
            .respond_with(ResponseTemplate::new(200).set_body_string("via proxy"))
            .expect(1)
            .mount(&proxy)
            .await;
        let addr = proxy.address();
        let c = HttpClient::new(opts().with_proxy(format!("http://bob:pr0xy-pw@{addr}"))).unwrap();
        let body = c
            .get("http://upstream.hybrid.invalid/v3")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "via proxy");
    })
    .await;
}

/// A TLS server on 127.0.0.1 with the fixture certificate; answers 200 `secure` and
/// counts completed handshakes.
async fn tls_server() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.crt"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counter = handshakes.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsecure",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, handshakes)
}

#[tokio::test]
async fn the_ca_bundle_is_trusted_in_a_real_tls_handshake() {
    use std::sync::atomic::Ordering;
    crate::common::bounded(async {
        let (addr, handshakes) = tls_server().await;
        let url = format!("https://{addr}/v3");
        let once = || opts().with_retry(hybrid_http::RetryPolicy::none());

        // Without the internal CA the server is not trusted (and, although connect
        // errors are retried, a certificate failure is not: one attempt only).
        let err = HttpClient::new(opts())
            .unwrap()
            .get(&url)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
        assert!(
            err.message().contains("certificate is not trusted"),
            "{err}"
        );
        assert!(
            !err.is_retryable(),
            "a certificate failure is not transient"
        );
        assert!(!err.message().contains("attempts"), "{err}");
        assert_eq!(handshakes.load(Ordering::SeqCst), 0);

        // With the bundle (two certificates, the issuer second) it is.
        let trusted = HttpClient::new(
            once()
                .with_ca_bundle(fixture("ca-bundle.pem"))
                .with_builtin_roots(false),
        )
        .unwrap();
        let body = trusted
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "secure");
        assert_eq!(handshakes.load(Ordering::SeqCst), 1);

        // The explicit opt-out of verification works too (and is warned about elsewhere).
        let insecure = HttpClient::new(once().with_danger_accept_invalid_certs(true)).unwrap();
        assert_eq!(
            insecure
                .get(&url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "secure"
        );
        assert_eq!(handshakes.load(Ordering::SeqCst), 2);
    })
    .await;
}
