//! TLS with an enterprise CA, end to end: Keystone behind a TLS terminator on
//! 127.0.0.1 whose certificate is signed by a local test CA (the fixtures of
//! `hybrid-http/tests/http/fixtures`). `OS_CACERT` (and `cacert:` in clouds.yaml) makes
//! the connect succeed; without it the unknown CA is refused with a clear error;
//! `OS_INSECURE` works only when set.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use hybrid_core::ErrorKind;
use hybrid_fake_openstack::FakeOpenStack;
use hybrid_http::ClientOptions;
use hybrid_openstack::config::ConfigLoader;
use hybrid_openstack::OpenStackProvider;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

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

fn env(
    fake: &FakeOpenStack,
    tls: std::net::SocketAddr,
    extra: &[(&str, String)],
) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = [
        (
            "OS_AUTH_URL",
            format!("https://127.0.0.1:{}/identity/v3", tls.port()),
        ),
        ("OS_USERNAME", "admin".to_owned()),
        ("OS_PASSWORD", "secret".to_owned()),
        ("OS_PROJECT_NAME", "admin".to_owned()),
        ("OS_USER_DOMAIN_NAME", "Default".to_owned()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".to_owned()),
        ("OS_REGION_NAME", fake.region().to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), v.clone());
    }
    vars
}

fn options() -> ClientOptions {
    ClientOptions::new()
        .with_env_proxy(false)
        .with_builtin_roots(false)
        .with_retry(hybrid_http::RetryPolicy::none())
}

#[tokio::test]
async fn os_cacert_trusts_the_enterprise_ca() {
    let fake = FakeOpenStack::start().await.unwrap();
    let tls = tls_terminator(fake.addr()).await;
    let ca = fixture("ca-bundle.pem").display().to_string();
    let cloud = ConfigLoader::new()
        .with_env(env(&fake, tls, &[("OS_CACERT", ca.clone())]))
        .with_search_dirs(vec![])
        .load(None)
        .unwrap();
    assert_eq!(
        cloud.cacert.as_deref().map(|p| p.display().to_string()),
        Some(ca)
    );
    let p = OpenStackProvider::connect_ungated(&cloud, options())
        .await
        .expect("the enterprise CA is trusted");
    assert_eq!(p.facts().region.as_deref(), Some(fake.region()));
    assert_eq!(fake.token_requests(), 1, "the token came through TLS");
}

#[tokio::test]
async fn an_unknown_ca_is_refused_with_a_clear_error() {
    let fake = FakeOpenStack::start().await.unwrap();
    let tls = tls_terminator(fake.addr()).await;
    let cloud = ConfigLoader::new()
        .with_env(env(&fake, tls, &[]))
        .with_search_dirs(vec![])
        .load(None)
        .unwrap();
    let err = OpenStackProvider::connect_ungated(&cloud, options())
        .await
        .expect_err("an unknown CA is refused");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    let chain = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(
        chain.to_ascii_lowercase().contains("certificate"),
        "the error says it is about the certificate: {chain}"
    );
    assert!(!chain.contains("secret"), "{chain}");
    assert_eq!(fake.token_requests(), 0, "nothing reached Keystone");
}

#[tokio::test]
async fn os_insecure_is_an_explicit_opt_in() {
    let fake = FakeOpenStack::start().await.unwrap();
    let tls = tls_terminator(fake.addr()).await;
    let cloud = ConfigLoader::new()
        .with_env(env(&fake, tls, &[("OS_INSECURE", "true".to_owned())]))
        .with_search_dirs(vec![])
        .load(None)
        .unwrap();
    assert!(cloud.insecure);
    OpenStackProvider::connect_ungated(&cloud, options())
        .await
        .expect("insecure mode accepts the unknown CA");
    let cloud = ConfigLoader::new()
        .with_env(env(&fake, tls, &[("OS_INSECURE", "false".to_owned())]))
        .with_search_dirs(vec![])
        .load(None)
        .unwrap();
    assert!(!cloud.insecure);
    assert!(OpenStackProvider::connect_ungated(&cloud, options())
        .await
        .is_err());
}
