//! TLS with an enterprise CA, end to end: Entra ID and ARM (the fake) behind a TLS
//! terminator on 127.0.0.1 whose certificate is signed by a local test CA (the fixtures
//! of `hybrid-http/tests/http/fixtures`). A CA bundle in the configuration
//! (`http.ca_bundle`, in code or in a configuration file) or in `REQUESTS_CA_BUNDLE`
//! makes the connection succeed; without one the unknown CA is refused with a clear
//! error before any secret is sent; skipping the certificate check takes an explicit
//! opt-in and logs a warning.

use hybrid_http::test_util::LogCapture;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hybrid_azure::http::{ClientOptions, RetryPolicy};
use hybrid_azure::throttle::ThrottleOptions;
use hybrid_azure::{AzureBuilder, AzureConfig, AzureProvider, CloudEnvironment};
use hybrid_core::{ErrorKind, Provider};
use hybrid_fake_azure::FakeAzure;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const SECRET: &str = "Tls-matrix-Secret~Wq3Zr8";
const CLIENT: &str = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../hybrid-http/tests/http/fixtures")
        .join(name)
}

/// Terminates TLS on 127.0.0.1 and forwards the plain bytes to `backend`.
async fn tls_terminator(backend: std::net::SocketAddr) -> std::net::SocketAddr {
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
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

/// The fake, and its TLS front.
async fn start() -> (FakeAzure, String) {
    let fake = FakeAzure::builder()
        .client(CLIENT, SECRET)
        .start()
        .await
        .expect("the fake starts");
    let tls = tls_terminator(fake.addr()).await;
    (fake, format!("https://127.0.0.1:{}", tls.port()))
}

/// No system roots, no proxies from the environment, no retries.
fn options() -> ClientOptions {
    ClientOptions::new()
        .with_env_proxy(false)
        .with_builtin_roots(false)
        .with_retry(RetryPolicy::none())
}

fn config(fake: &FakeAzure, url: &str, http: ClientOptions) -> AzureConfig {
    AzureBuilder::new(
        fake.subscription_id(),
        fake.resource_group(),
        fake.location(),
    )
    .with_client_secret(fake.tenant_id(), CLIENT, SECRET)
    .with_cloud(CloudEnvironment {
        authority_host: url.to_owned(),
        resource_manager: url.to_owned(),
    })
    .with_throttle(ThrottleOptions::disabled())
    .with_http(http)
    .build()
    .expect("a valid configuration")
}

async fn connect(c: AzureConfig) -> hybrid_core::Result<AzureProvider> {
    tokio::time::timeout(Duration::from_secs(10), AzureProvider::connect(c))
        .await
        .expect("connect ends in time")
}

#[tokio::test]
async fn a_ca_bundle_in_the_client_options_is_trusted() {
    let (fake, url) = start().await;
    let c = config(
        &fake,
        &url,
        options().with_ca_bundle(fixture("ca-bundle.pem")),
    );
    let p = connect(c).await.expect("the enterprise CA is trusted");
    p.check().await.unwrap();
    assert_eq!(fake.token_requests(), 1, "the token came through TLS");
    assert_eq!(fake.request_count(), 3, "one token, two ARM reads");
}

#[tokio::test]
async fn a_ca_bundle_in_a_configuration_file_is_trusted() {
    let (fake, url) = start().await;
    let file = serde_json::json!({
        "subscription_id": fake.subscription_id(),
        "resource_group": fake.resource_group(),
        "location": fake.location(),
        "tenant_id": fake.tenant_id(),
        "client_id": CLIENT,
        "client_secret": SECRET,
        "cloud": {"authority_host": url, "resource_manager": url},
        "http": {
            "ca_bundle": fixture("ca-bundle.pem"),
            "builtin_roots": false,
            "use_env_proxy": false,
            "retry": {"max_attempts": 1}
        }
    });
    let c: AzureConfig = serde_json::from_value(file).unwrap();
    connect(c).await.expect("the enterprise CA is trusted");
    assert_eq!(fake.token_requests(), 1);
}

#[tokio::test]
async fn requests_ca_bundle_in_the_environment_is_trusted() {
    let (fake, url) = start().await;
    let mut vars: HashMap<String, String> = fake.env_vars().into_iter().collect();
    vars.insert("AZURE_CLIENT_ID".into(), CLIENT.into());
    vars.insert("AZURE_CLIENT_SECRET".into(), SECRET.into());
    vars.insert("AZURE_AUTHORITY_HOST".into(), url.clone());
    vars.insert("AZURE_RESOURCE_MANAGER_ENDPOINT".into(), url.clone());
    vars.insert("AZURE_RESOURCE_GROUP".into(), fake.resource_group().into());
    vars.insert("AZURE_LOCATION".into(), fake.location().into());
    let lookup = |vars: HashMap<String, String>| move |k: &str| vars.get(k).cloned();

    // Without it, the test CA is unknown.
    let mut c = AzureConfig::from_lookup(lookup(vars.clone())).unwrap();
    c.http = c.http.with_env_proxy(false).with_builtin_roots(false);
    assert_eq!(c.http.ca_bundle, None);
    let err = connect(c).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");

    vars.insert(
        "REQUESTS_CA_BUNDLE".into(),
        fixture("ca-bundle.pem").display().to_string(),
    );
    let mut c = AzureConfig::from_lookup(lookup(vars)).unwrap();
    assert_eq!(
        c.http.ca_bundle.as_deref(),
        Some(fixture("ca-bundle.pem").as_path())
    );
    c.http = c.http.with_env_proxy(false).with_builtin_roots(false);
    connect(c)
        .await
        .expect("the CA of REQUESTS_CA_BUNDLE is trusted");
    assert_eq!(
        fake.token_requests(),
        1,
        "only the trusted connect reached Entra"
    );
}

#[tokio::test]
async fn an_unknown_ca_is_refused_with_a_clear_error_before_any_secret_is_sent() {
    let (fake, url) = start().await;
    // The built-in roots do not know the test CA either.
    let c = config(&fake, &url, options().with_builtin_roots(true));
    let err = connect(c).await.expect_err("an unknown CA is refused");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(!err.is_retryable(), "a retry cannot fix a certificate");
    let chain = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(
        chain.to_ascii_lowercase().contains("certificate"),
        "the error says it is about the certificate: {chain}"
    );
    assert!(!chain.contains(SECRET), "{chain}");
    assert_eq!(fake.request_count(), 0, "nothing reached Entra ID or ARM");
}

#[tokio::test(flavor = "current_thread")]
async fn skipping_the_certificate_check_is_an_explicit_opt_in_with_a_warning() {
    let (fake, url) = start().await;
    let logs = LogCapture::default();
    let _guard = logs.install(tracing::Level::WARN);

    // Not by default: neither in code, nor from the environment, nor from a file.
    assert!(!options().danger_accept_invalid_certs);
    let vars: HashMap<String, String> = fake.env_vars().into_iter().collect();
    let mut env = vars.clone();
    env.insert("AZURE_RESOURCE_GROUP".into(), fake.resource_group().into());
    env.insert("AZURE_LOCATION".into(), fake.location().into());
    env.insert("AZURE_INSECURE".into(), "true".into());
    env.insert(
        "AZURE_CLI_DISABLE_CONNECTION_VERIFICATION".into(),
        "1".into(),
    );
    let c = AzureConfig::from_lookup(move |k| env.get(k).cloned()).unwrap();
    assert!(!c.http.danger_accept_invalid_certs);
    let c = config(&fake, &url, options());
    assert!(connect(c).await.is_err(), "refused without the opt-in");
    assert!(!logs.text().contains("DISABLED"));

    // In code.
    let c = config(
        &fake,
        &url,
        options().with_danger_accept_invalid_certs(true),
    );
    connect(c)
        .await
        .expect("insecure mode accepts the unknown CA");
    // In a configuration file.
    let file = serde_json::json!({
        "subscription_id": fake.subscription_id(),
        "resource_group": fake.resource_group(),
        "location": fake.location(),
        "tenant_id": fake.tenant_id(),
        "client_id": CLIENT,
        "client_secret": SECRET,
        "cloud": {"authority_host": url, "resource_manager": url},
        "http": {"danger_accept_invalid_certs": true, "use_env_proxy": false}
    });
    let c: AzureConfig = serde_json::from_value(file).unwrap();
    connect(c).await.expect("insecure mode from a file");
    drop(_guard);
    let logged = logs.text();
    let warnings = logged
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("TLS certificate verification is DISABLED"))
        .count();
    assert_eq!(
        warnings, 2,
        "one warning per client built insecure: {logged}"
    );
    assert!(!logged.contains(SECRET));
}
