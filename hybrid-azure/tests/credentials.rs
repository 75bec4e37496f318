//! Entra ID credentials: the exact token request of each kind, the chain and its
//! report, the token cache's refresh and single flight proven by request counts, and
//! secrets kept out of every Debug, Display and error.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use common::*;
use hybrid_azure::credential::{
    ChainedCredential, ClientCertificate, ClientCertificateCredential, ClientSecretCredential,
    Credential, ManagedIdentityCredential, WorkloadIdentityCredential,
};
use hybrid_azure::http::{ClientOptions, ExposeSecret, HttpClient, SecretString, TokenSource, Url};
use hybrid_azure::{AzureBuilder, AzureProvider, CloudEnvironment, CredentialKind};
use hybrid_core::{ErrorKind, Provider};
use serde_json::{json, Value};
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CERT_S256: &str = "qd0HK6IWqkP7a_9xvfFmvI_6oXkmbaDyPravr0bL8-8";
const CERT_S1: &str = "UOg8Jw1oWYBqxJfiYpnes5Du3zY";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/credentials/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn http() -> HttpClient {
    HttpClient::new(ClientOptions::new()).unwrap()
}

fn form(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(f: &'a [(String, String)], k: &str) -> &'a str {
    f.iter()
        .find(|(x, _)| x == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn token_ok(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token}))
}

#[tokio::test]
async fn client_secret_posts_the_exact_form() {
    let server = MockServer::start().await;
    let scope = format!("{}/.default", server.uri());
    let expected = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", CLIENT)
        .append_pair("client_secret", SECRET)
        .append_pair("scope", &scope)
        .finish();
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(expected))
        .respond_with(token_ok("tok-1"))
        .expect(1)
        .mount(&server)
        .await;
    let authority = Url::parse(&format!("{}/", server.uri())).unwrap();
    let c = ClientSecretCredential::new(
        http(),
        &authority,
        TENANT,
        CLIENT,
        SecretString::from(SECRET),
        scope,
    )
    .unwrap();
    let t = c.fetch_token().await.unwrap();
    assert_eq!(t.secret().expose_secret(), "tok-1");
    let left = t.expires_at().unwrap() - tokio::time::Instant::now();
    assert!(left > Duration::from_secs(3500), "{left:?}");
    assert!(!format!("{c:?}").contains(SECRET));
    assert_eq!(c.describe(), format!("client secret (client {CLIENT})"));
}

#[tokio::test]
async fn rejected_secret_is_unauthenticated_and_the_body_is_never_shown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": format!("AADSTS7000215: Invalid client secret provided: {SECRET}")
        })))
        .mount(&server)
        .await;
    let authority = Url::parse(&server.uri()).unwrap();
    let c = ClientSecretCredential::new(
        http(),
        &authority,
        TENANT,
        CLIENT,
        SecretString::from(SECRET),
        "s/.default",
    )
    .unwrap();
    let e = c.fetch_token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    let all = format!("{e} {e:?}");
    assert!(!all.contains(SECRET) && !all.contains("AADSTS"), "{all}");
    // a 400 invalid_grant is a rejected credential too
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let authority = Url::parse(&server.uri()).unwrap();
    let c = ClientSecretCredential::new(
        http(),
        &authority,
        TENANT,
        CLIENT,
        SecretString::from(SECRET),
        "s/.default",
    )
    .unwrap();
    assert_eq!(
        c.fetch_token().await.unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
}

#[tokio::test]
async fn garbage_token_responses_are_invalid_responses_without_echo() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(format!("{{\"access_token\": \"{SECRET}")),
        )
        .mount(&server)
        .await;
    let authority = Url::parse(&server.uri()).unwrap();
    let c = ClientSecretCredential::new(
        http(),
        &authority,
        TENANT,
        CLIENT,
        SecretString::from(SECRET),
        "s/.default",
    )
    .unwrap();
    let e = c.fetch_token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    let mut all = format!("{e} {e:?}");
    if let Some(s) = std::error::Error::source(&e) {
        all.push_str(&s.to_string());
    }
    assert!(!all.contains(SECRET), "{all}");
}

/// Decodes a JWT's three parts.
fn jwt(assertion: &str) -> (Value, Value, Vec<u8>, String) {
    let parts: Vec<&str> = assertion.split('.').collect();
    assert_eq!(parts.len(), 3, "{assertion}");
    let h: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let c: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    (h, c, sig, format!("{}.{}", parts[0], parts[1]))
}

fn verify(signing_input: &str, sig: &[u8]) {
    let public = fixture("client-public.der");
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, &public)
        .verify(signing_input.as_bytes(), sig)
        .expect("the assertion is signed RS256 with the certificate's key");
}

#[tokio::test]
async fn client_certificate_sends_a_signed_assertion() {
    let server = MockServer::start().await;
    let scope = format!("{}/.default", server.uri());
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(token_ok("cert-tok"))
        .expect(2)
        .mount(&server)
        .await;
    let authority = Url::parse(&server.uri()).unwrap();
    for (file, chain) in [("client-pkcs8.pem", false), ("client-pkcs1.pem", true)] {
        let cert = ClientCertificate::from_pem(&fixture(file)).unwrap();
        assert_eq!(cert.thumbprint_sha256(), CERT_S256);
        assert_eq!(cert.thumbprint_sha1(), CERT_S1);
        let c = ClientCertificateCredential::new(
            http(),
            &authority,
            TENANT,
            CLIENT,
            cert,
            scope.clone(),
        )
        .unwrap()
        .with_send_chain(chain);
        let t = c.fetch_token().await.unwrap();
        assert_eq!(t.secret().expose_secret(), "cert-tok");
        assert!(c.describe().contains(CERT_S256));
    }
    let reqs = received(&server, "POST", &format!("/{TENANT}/oauth2/v2.0/token")).await;
    assert_eq!(reqs.len(), 2);
    let token_url = format!("{}/{TENANT}/oauth2/v2.0/token", server.uri());
    for (i, r) in reqs.iter().enumerate() {
        let f = form(r);
        let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "grant_type",
                "client_id",
                "client_assertion_type",
                "client_assertion",
                "scope"
            ]
        );
        assert_eq!(field(&f, "grant_type"), "client_credentials");
        assert_eq!(field(&f, "client_id"), CLIENT);
        assert_eq!(
            field(&f, "client_assertion_type"),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        assert_eq!(field(&f, "scope"), scope);
        let (h, c, sig, input) = jwt(field(&f, "client_assertion"));
        assert_eq!(h["alg"], "RS256");
        assert_eq!(h["typ"], "JWT");
        assert_eq!(h["x5t"], CERT_S1);
        assert_eq!(h["x5t#S256"], CERT_S256);
        if i == 0 {
            assert!(h.get("x5c").is_none());
        } else {
            let x5c = h["x5c"].as_array().unwrap();
            assert_eq!(x5c.len(), 1);
            let der = STANDARD.decode(x5c[0].as_str().unwrap()).unwrap();
            let pem = String::from_utf8(fixture("cert.pem")).unwrap();
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            assert_eq!(der, STANDARD.decode(body).unwrap());
        }
        assert_eq!(c["aud"], token_url);
        assert_eq!(c["iss"], CLIENT);
        assert_eq!(c["sub"], CLIENT);
        assert_eq!(c["jti"].as_str().unwrap().len(), 36);
        let nbf = c["nbf"].as_u64().unwrap();
        assert_eq!(c["exp"].as_u64().unwrap() - nbf, 600);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(nbf <= now && now - nbf < 60);
        verify(&input, &sig);
    }
}

#[test]
fn certificate_files_are_checked_without_quoting_them() {
    // The leaf is the certificate that matches the key, wherever it stands in the file.
    let mut chain = fixture("other-cert.pem");
    chain.extend(fixture("client-pkcs8.pem"));
    let cert = ClientCertificate::from_pem(&chain).unwrap();
    assert_eq!(cert.thumbprint_sha256(), CERT_S256);
    let a = cert
        .assertion(
            CLIENT,
            "https://login/t/oauth2/v2.0/token",
            1_700_000_000,
            "jti-1",
            true,
        )
        .unwrap();
    let (h, _, sig, input) = jwt(&a);
    assert_eq!(h["x5c"].as_array().unwrap().len(), 2);
    verify(&input, &sig);

    for (file, want) in [
        ("mismatched.pem", "matches the private key"),
        ("ec-key.pem", "not an RSA key"),
        ("cert.pem", "no PRIVATE KEY"),
        ("client-public.der", "no CERTIFICATE"),
    ] {
        let e = ClientCertificate::from_pem(&fixture(file)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{file}");
        let cause = std::error::Error::source(&e).unwrap().to_string();
        assert!(cause.contains(want), "{file}: {cause}");
        assert!(!format!("{e} {e:?} {cause}").contains("BEGIN"), "{file}");
    }
    let e = ClientCertificate::from_pem_file(std::path::Path::new("/nonexistent/cert.pem"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(!format!("{cert:?}").contains("PRIVATE"));
}

#[tokio::test]
async fn workload_identity_reads_the_token_file_for_every_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(token_ok("wi-tok"))
        .expect(2)
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("hybrid-azure-wi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "federated-jwt-1\n").unwrap();
    let authority = Url::parse(&server.uri()).unwrap();
    let c = WorkloadIdentityCredential::new(
        http(),
        &authority,
        TENANT,
        CLIENT,
        &file,
        "https://management.azure.com/.default",
    )
    .unwrap();
    c.fetch_token().await.unwrap();
    std::fs::write(&file, "federated-jwt-2").unwrap();
    c.fetch_token().await.unwrap();
    let reqs = received(&server, "POST", &format!("/{TENANT}/oauth2/v2.0/token")).await;
    let forms: Vec<_> = reqs.iter().map(form).collect();
    for (f, want) in forms.iter().zip(["federated-jwt-1", "federated-jwt-2"]) {
        assert_eq!(field(f, "grant_type"), "client_credentials");
        assert_eq!(field(f, "client_id"), CLIENT);
        assert_eq!(
            field(f, "client_assertion_type"),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        assert_eq!(field(f, "client_assertion"), want);
        assert_eq!(field(f, "scope"), "https://management.azure.com/.default");
    }
    std::fs::write(&file, "  \n").unwrap();
    assert_eq!(c.fetch_token().await.unwrap_err().kind(), ErrorKind::Config);
    std::fs::remove_dir_all(&dir).unwrap();
    let e = c.fetch_token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("federated token file"), "{e}");
}

#[tokio::test]
async fn managed_identity_asks_imds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/metadata/identity/oauth2/token"))
        .and(ExactQuery(vec![
            ("api-version".into(), "2018-02-01".into()),
            ("resource".into(), "https://management.azure.com".into()),
        ]))
        .and(header("metadata", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "mi-tok", "expires_in": "86399", "expires_on": "1999999999",
            "resource": "https://management.azure.com", "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/metadata/identity/oauth2/token"))
        .and(ExactQuery(vec![
            ("api-version".into(), "2018-02-01".into()),
            ("resource".into(), "https://management.azure.com".into()),
            ("client_id".into(), "uami-1".into()),
        ]))
        .and(header("metadata", "true"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "uami-tok", "expires_in": "3600"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let endpoint = Url::parse(&format!("{}/", server.uri())).unwrap();
    let system = ManagedIdentityCredential::new(
        http(),
        endpoint.clone(),
        None,
        "https://management.azure.com/.default",
    );
    let t = system.fetch_token().await.unwrap();
    assert_eq!(t.secret().expose_secret(), "mi-tok");
    assert!(t.expires_at().unwrap() - tokio::time::Instant::now() > Duration::from_secs(86000));
    let user = ManagedIdentityCredential::new(
        http(),
        endpoint,
        Some("uami-1".into()),
        "https://management.azure.com/.default",
    );
    assert_eq!(
        user.fetch_token().await.unwrap().secret().expose_secret(),
        "uami-tok"
    );
    assert_eq!(user.describe(), "managed identity (client uami-1)");
}

#[tokio::test]
async fn the_chain_tries_in_order_and_reports_every_failure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "invalid_client", "error_description": SECRET})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/metadata/identity/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "mi-tok", "expires_in": "3600"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/metadata/identity/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_request", "error_description": "Identity not found"}),
        ))
        .mount(&server)
        .await;
    let authority = Url::parse(&server.uri()).unwrap();
    let endpoint = Url::parse(&format!("{}/", server.uri())).unwrap();
    let secret: Arc<dyn Credential> = Arc::new(
        ClientSecretCredential::new(
            http(),
            &authority,
            TENANT,
            CLIENT,
            SecretString::from(SECRET),
            "https://management.azure.com/.default",
        )
        .unwrap(),
    );
    let mi: Arc<dyn Credential> = Arc::new(ManagedIdentityCredential::new(
        http(),
        endpoint,
        None,
        "https://management.azure.com/.default",
    ));
    let chain = ChainedCredential::new(vec![secret, mi]);
    assert_eq!(
        chain.members(),
        vec![
            format!("client secret (client {CLIENT})"),
            "managed identity (system-assigned)".to_owned()
        ]
    );

    let t = chain.fetch_token().await.unwrap();
    assert_eq!(t.secret().expose_secret(), "mi-tok");
    let a = chain.last_attempts();
    assert_eq!(a.len(), 2);
    assert!(a[0].error.as_deref().unwrap().contains("401"), "{:?}", a[0]);
    assert_eq!(a[1].error, None);

    let e = chain.fetch_token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("1. client secret (client {CLIENT}): ")),
        "{msg}"
    );
    assert!(
        msg.contains("2. managed identity (system-assigned): "),
        "{msg}"
    );
    assert!(msg.contains("401") && msg.contains("400"), "{msg}");
    assert!(!format!("{msg} {e:?} {chain:?}").contains(SECRET));
    assert_eq!(chain.last_attempts().len(), 2);
    assert!(chain.last_attempts().iter().all(|a| a.error.is_some()));

    let empty = ChainedCredential::new(Vec::new());
    assert_eq!(
        empty.fetch_token().await.unwrap_err().kind(),
        ErrorKind::Config
    );
}

#[tokio::test]
async fn config_builds_the_chain_in_the_callers_order() {
    let server = MockServer::start().await;
    let dir = std::env::temp_dir().join(format!("hybrid-azure-chain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("client.pem");
    std::fs::write(&pem, fixture("client-pkcs8.pem")).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, "fed").unwrap();
    let mut c = AzureBuilder::new(SUB, RG, LOC)
        .with_client_secret(TENANT, CLIENT, SECRET)
        .with_cloud(CloudEnvironment {
            authority_host: server.uri(),
            resource_manager: server.uri(),
        })
        .with_managed_identity_endpoint(server.uri())
        .build()
        .unwrap();
    c.client_certificate_path = Some(pem.clone());
    c.federated_token_file = Some(token_file);
    c.credentials = vec![
        CredentialKind::ManagedIdentity,
        CredentialKind::WorkloadIdentity,
        CredentialKind::ClientCertificate,
        CredentialKind::ClientSecret,
    ];
    c.validate().unwrap();
    let p = AzureProvider::new(c).unwrap();
    let d = p.credential().describe();
    let order: Vec<usize> = [
        "managed identity",
        "workload identity",
        "client certificate",
        "client secret",
    ]
    .iter()
    .map(|k| d.find(k).unwrap_or_else(|| panic!("{k} missing in {d}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{d}");
    assert!(!format!("{p:?}").contains(SECRET));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn one_token_serves_many_requests_and_a_401_refreshes_it_once() {
    let server = MockServer::start().await;
    let token_path = format!("/{TENANT}/oauth2/v2.0/token");
    Mock::given(method("POST"))
        .and(path(token_path.clone()))
        .respond_with(token_ok("old-token"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path.clone()))
        .respond_with(token_ok("new-token"))
        .with_priority(2)
        .mount(&server)
        .await;
    let rg = format!("/subscriptions/{SUB}/resourcegroups/{RG}");
    Mock::given(method("GET"))
        .and(path(rg.clone()))
        .and(header("authorization", "Bearer old-token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": {"code": "ExpiredAuthenticationToken", "message": "expired"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(rg.clone()))
        .and(header("authorization", "Bearer new-token"))
        .and(query_param("api-version", "2021-04-01"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": rg, "name": RG, "location": LOC})),
        )
        .mount(&server)
        .await;
    let p = Arc::new(AzureProvider::new(config(&server.uri())).unwrap());
    let calls = (0..50).map(|_| {
        let p = p.clone();
        tokio::spawn(async move { p.check().await })
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap().expect("each call succeeds after one refresh");
    }
    assert_eq!(
        received(&server, "POST", &token_path).await.len(),
        2,
        "one token, then one refresh, for 50 callers"
    );
    for _ in 0..10 {
        p.check().await.unwrap();
    }
    assert_eq!(
        received(&server, "POST", &token_path).await.len(),
        2,
        "the cached token serves later calls"
    );
}

#[tokio::test]
async fn connect_reports_a_failed_credential_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_string(SECRET))
        .mount(&server)
        .await;
    let e = AzureProvider::connect(config(&server.uri()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    let mut text = format!("{e} {e:?}");
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        text.push_str(&s.to_string());
        src = s.source();
    }
    assert!(!text.contains(SECRET), "{text}");
}
