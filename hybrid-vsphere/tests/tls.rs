//! TLS with an enterprise CA, end to end: the fake vCenter (`tests/common`) behind a TLS
//! terminator on 127.0.0.1 whose certificate is signed by a local test CA (the fixtures
//! of `hybrid-http/tests/http/fixtures`). `GOVC_TLS_CA_CERTS` (or
//! `VsphereBuilder::with_ca_file`) makes the connect succeed, for vim25 and the vAPI
//! session alike; without it the unknown CA is refused with a clear error before any
//! request reaches the vCenter; `GOVC_INSECURE` works only when set, and hybrid-http
//! logs a warning when it is. The environment is read through
//! `VsphereConfig::from_lookup`, never by setting process variables.

mod common;

use hybrid_http::test_util::LogCapture;
use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{FakeVcenter, USER};
use hybrid_core::ErrorKind;
use hybrid_http::{ClientOptions, RetryPolicy};
use hybrid_vsphere::{VsphereBuilder, VsphereConfig, VsphereProvider};

const PASSWORD: &str = "Pw-tls-Zr8w1";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../hybrid-http/tests/http/fixtures")
        .join(name)
}

async fn fake_behind_tls() -> (FakeVcenter, std::net::SocketAddr) {
    let fake = FakeVcenter::start(PASSWORD, 1).await;
    let tls =
        common::tls_terminator(fake.addr(), &fixture("server.crt"), &fixture("server.key")).await;
    (fake, tls)
}

/// `GOVC_*` variables for the vCenter behind `tls`, plus `extra`.
fn govc(tls: std::net::SocketAddr, extra: &[(&str, String)]) -> VsphereConfig {
    let mut vars: BTreeMap<String, String> = [
        ("GOVC_URL", format!("https://127.0.0.1:{}/sdk", tls.port())),
        ("GOVC_USERNAME", USER.to_owned()),
        ("GOVC_PASSWORD", PASSWORD.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), v.clone());
    }
    VsphereConfig::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

/// Only the given CAs are trusted (no built-in roots), no proxy, no retries.
fn options() -> ClientOptions {
    ClientOptions::new()
        .with_env_proxy(false)
        .with_builtin_roots(false)
        .with_retry(RetryPolicy::none())
}

#[tokio::test]
async fn govc_tls_ca_certs_trusts_the_enterprise_ca() {
    let (fake, tls) = fake_behind_tls().await;
    let ca = fixture("ca-bundle.pem");
    let cfg = govc(tls, &[("GOVC_TLS_CA_CERTS", ca.display().to_string())]);
    assert_eq!(cfg.ca_file.as_deref(), Some(ca.as_path()));
    let p = VsphereProvider::connect_with_options(cfg, options())
        .await
        .expect("the enterprise CA is trusted");
    assert_eq!(fake.count("Login"), 1, "vim25 came through TLS");
    assert_eq!(
        fake.count("POST /api/session"),
        1,
        "so did the vAPI session"
    );
    assert!(p.discovery().automation_api.is_some());

    // The builder's form of the same setting.
    let cfg = VsphereBuilder::new(format!("https://127.0.0.1:{}/sdk", tls.port()))
        .with_credentials(USER, PASSWORD)
        .with_ca_file(&ca)
        .build()
        .unwrap();
    VsphereProvider::connect_with_options(cfg, options())
        .await
        .expect("with_ca_file trusts the CA");
    assert_eq!(fake.count("Login"), 2);
}

#[tokio::test]
async fn several_ca_files_joined_as_govc_allows_are_all_trusted() {
    let (fake, tls) = fake_behind_tls().await;
    // The bundle's two CAs in two files: the unrelated one first, the issuing one second.
    let pem = std::fs::read_to_string(fixture("ca-bundle.pem")).unwrap();
    let end = "-----END CERTIFICATE-----";
    let cut = pem.find(end).unwrap() + end.len();
    let dir = std::env::temp_dir().join(format!("hybrid-vsphere-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("unrelated.pem"), dir.join("issuer.pem"));
    std::fs::write(&a, &pem[..cut]).unwrap();
    std::fs::write(&b, pem[cut..].trim_start()).unwrap();
    let joined = std::env::join_paths([&a, &b]).unwrap();
    let cfg = govc(
        tls,
        &[("GOVC_TLS_CA_CERTS", joined.to_string_lossy().into_owned())],
    );
    let only_first = govc(tls, &[("GOVC_TLS_CA_CERTS", a.display().to_string())]);
    let ok = VsphereProvider::connect_with_options(cfg, options()).await;
    let refused = VsphereProvider::connect_with_options(only_first, options()).await;
    std::fs::remove_dir_all(&dir).ok();
    ok.expect("the second file's CA is trusted");
    let err = refused.expect_err("the unrelated CA alone does not do");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(fake.count("Login"), 1);

    let missing = govc(
        tls,
        &[(
            "GOVC_TLS_CA_CERTS",
            "/nonexistent/a.pem:/nonexistent/b.pem".to_owned(),
        )],
    );
    let err = VsphereProvider::connect_with_options(missing, options())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("/nonexistent/a.pem"), "{err}");
}

#[tokio::test]
async fn an_unknown_ca_is_refused_with_a_clear_error() {
    let (fake, tls) = fake_behind_tls().await;
    let err = VsphereProvider::connect_with_options(govc(tls, &[]), options())
        .await
        .expect_err("an unknown CA is refused");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(!err.is_retryable(), "a retry cannot fix a certificate");
    let chain = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(
        chain.to_ascii_lowercase().contains("certificate"),
        "the error says it is about the certificate: {chain}"
    );
    assert!(!chain.contains(PASSWORD), "{chain}");
    assert_eq!(
        fake.count("RetrieveServiceContent") + fake.count("Login"),
        0,
        "nothing reached the vCenter"
    );

    // The same with the default options (built-in roots trusted, retries on): still
    // refused, and not retried.
    let err = VsphereProvider::connect(govc(tls, &[]))
        .await
        .expect_err("an unknown CA is refused");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(!err.to_string().contains("attempts"), "not retried: {err}");
}

#[tokio::test(flavor = "current_thread")]
async fn govc_insecure_is_an_explicit_opt_in_with_a_warning() {
    let (fake, tls) = fake_behind_tls().await;
    let logs = LogCapture::default();
    let guard = logs.install(tracing::Level::WARN);
    let insecure = govc(tls, &[("GOVC_INSECURE", "1".to_owned())]);
    assert!(insecure.insecure);
    VsphereProvider::connect_with_options(insecure, options())
        .await
        .expect("insecure mode accepts the unknown CA");
    drop(guard);
    let logged = logs.text();
    assert!(
        logged.contains("WARN") && logged.contains("TLS certificate verification is DISABLED"),
        "the opt-in is logged as a warning: {logged}"
    );
    assert_eq!(fake.count("Login"), 1);

    for off in ["0", "false", ""] {
        let cfg = govc(tls, &[("GOVC_INSECURE", off.to_owned())]);
        assert!(!cfg.insecure, "{off:?}");
        let err = VsphereProvider::connect_with_options(cfg, options())
            .await
            .expect_err("verification stays on");
        assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    }
    assert_eq!(fake.count("Login"), 1);
}
