//! Token cache against a Keystone-like token endpoint: 401 handling, single flight,
//! auth endpoints that never echo bodies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hybrid_core::ErrorKind;
use hybrid_http::{
    Authorizer, ClientOptions, ExposeSecret, HttpClient, SecretString, Token, TokenCache,
    TokenHeader, TokenSource,
};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{bounded, client, ms, requests};

/// Issues `tok-1`, `tok-2`, … in `X-Subject-Token`, as Keystone does.
struct Issuer(AtomicUsize);

impl Respond for Issuer {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(201)
            .insert_header("x-subject-token", format!("tok-{n}").as_str())
            .set_body_json(json!({"token": {"methods": ["password"]}}))
            // A little latency makes concurrent callers really overlap.
            .set_delay(ms(50))
    }
}

/// A Keystone-like token source on `HttpClient`.
struct Keystone {
    client: HttpClient,
    url: String,
    password: SecretString,
    /// The lifetime of the first token; later ones last an hour.
    lifetime: Duration,
    fetched: AtomicUsize,
}

#[hybrid_http::async_trait]
impl TokenSource for Keystone {
    async fn fetch_token(&self) -> hybrid_core::Result<Token> {
        let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "password": self.password.expose_secret()}}}}});
        let resp = self
            .client
            .post(&self.url)
            .json(&body)
            .auth_endpoint(true)
            .operation("authenticate")
            .send()
            .await?;
        let token = resp.secret_header("x-subject-token").ok_or_else(|| {
            hybrid_core::Error::new(ErrorKind::InvalidResponse, "no X-Subject-Token")
        })?;
        let lifetime = match self.fetched.fetch_add(1, Ordering::SeqCst) {
            0 => self.lifetime,
            _ => Duration::from_secs(3600),
        };
        Ok(Token::expiring_in(token, lifetime))
    }
}

async fn keystone(server: &MockServer, lifetime: Duration) -> Arc<TokenCache<Keystone>> {
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(Issuer(AtomicUsize::new(0)))
        .mount(server)
        .await;
    Arc::new(
        TokenCache::new(Keystone {
            client: client(),
            url: format!("{}/v3/auth/tokens", server.uri()),
            password: SecretString::from("hunter2-password".to_string()),
            lifetime,
            fetched: AtomicUsize::new(0),
        })
        .with_header(TokenHeader::x_auth_token()),
    )
}

async fn token_requests(server: &MockServer) -> usize {
    requests(server)
        .await
        .iter()
        .filter(|r| r.url.path() == "/v3/auth/tokens")
        .count()
}

async fn service_requests(server: &MockServer) -> Vec<String> {
    requests(server)
        .await
        .iter()
        .filter(|r| r.url.path() != "/v3/auth/tokens")
        .map(|r| {
            r.headers
                .get("x-auth-token")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn unauthorized_invalidates_and_retries_once_with_a_new_token() {
    bounded(async {
        let server = MockServer::start().await;
        let cache = keystone(&server, Duration::from_secs(3600)).await;
        Mock::given(path("/v2.1/servers"))
            .and(header("x-auth-token", "tok-1"))
            .respond_with(ResponseTemplate::new(401))
            .mount(&server)
            .await;
        Mock::given(path("/v2.1/servers"))
            .and(header("x-auth-token", "tok-2"))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({"server": {"id": "s1"}})))
            .mount(&server)
            .await;
        // A POST: the 401 proves it was not carried out, so it is sent again.
        let v: serde_json::Value = client()
            .post(format!("{}/v2.1/servers", server.uri()))
            .json(&json!({"server": {}}))
            .auth(cache.clone())
            .send_json()
            .await
            .unwrap();
        assert_eq!(v["server"]["id"], "s1");
        assert_eq!(token_requests(&server).await, 2);
        assert_eq!(service_requests(&server).await, vec!["tok-1", "tok-2"]);
    })
    .await;
}

#[tokio::test]
async fn a_second_401_is_returned_not_retried_again() {
    bounded(async {
        let server = MockServer::start().await;
        let cache = keystone(&server, Duration::from_secs(3600)).await;
        Mock::given(path("/v2.1/servers"))
            .respond_with(ResponseTemplate::new(401).set_body_json(
                json!({"error": {"message": "The request you have made requires authentication.", "code": 401, "title": "Unauthorized"}}),
            ))
            .mount(&server)
            .await;
        let err = client()
            .get(format!("{}/v2.1/servers", server.uri()))
            .auth(cache.clone())
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
        assert!(err.message().contains("requires authentication"), "{err}");
        assert_eq!(service_requests(&server).await, vec!["tok-1", "tok-2"]);
        assert_eq!(token_requests(&server).await, 2);
    })
    .await;
}

#[tokio::test]
async fn hundred_concurrent_callers_after_expiry_make_one_token_request() {
    bounded(async {
        let server = MockServer::start().await;
        let cache = keystone(&server, ms(300)).await;
        Mock::given(path("/v2.1/flavors"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"flavors": []})))
            .mount(&server)
            .await;
        let c = client();
        let url = format!("{}/v2.1/flavors", server.uri());
        c.get(&url).auth(cache.clone()).send().await.unwrap();
        assert_eq!(token_requests(&server).await, 1);

        tokio::time::sleep(ms(350)).await; // tok-1 has expired
        let calls = (0..100).map(|_| {
            let c = c.clone();
            let cache = cache.clone();
            let url = url.clone();
            async move { c.get(&url).auth(cache).send().await.map(|r| r.status()) }
        });
        let results = futures::future::join_all(calls).await;
        assert!(results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|s| s.as_u16() == 200)));
        assert_eq!(
            token_requests(&server).await,
            2,
            "exactly one token request for 100 callers"
        );
        let tokens = service_requests(&server).await;
        assert_eq!(tokens.len(), 101);
        assert!(tokens[1..].iter().all(|t| t == "tok-2"));
    })
    .await;
}

#[tokio::test]
async fn auth_endpoint_error_body_is_never_echoed() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(path("/v3/auth/tokens"))
            .respond_with(
                ResponseTemplate::new(401)
                    .insert_header("x-openstack-request-id", "req-auth-1")
                    .set_body_json(json!({"error": {
                        "message": "Invalid password hunter2-password for user admin",
                        "code": 401, "title": "Unauthorized"}})),
            )
            .mount(&server)
            .await;
        let cache = TokenCache::new(Keystone {
            client: client(),
            url: format!("{}/v3/auth/tokens", server.uri()),
            password: SecretString::from("hunter2-password".to_string()),
            lifetime: Duration::from_secs(60),
            fetched: AtomicUsize::new(0),
        });
        let err = cache.authorize().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
        assert_eq!(err.http_status(), Some(401));
        assert_eq!(err.request_id(), Some("req-auth-1"));
        let mut everything = format!("{err} {err:?} {cache:?}");
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            everything.push_str(&format!(" {s} {s:?}"));
            source = s.source();
        }
        assert!(!everything.contains("hunter2"), "{everything}");
        assert!(!everything.contains("Invalid password"), "{everything}");
    })
    .await;
}

#[tokio::test]
async fn auth_endpoint_decoding_error_does_not_quote_the_body() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(path("/oauth2/v2.0/token"))
            .respond_with(ResponseTemplate::new(200).set_body_string(
                r#"{"access_token": "eyJ-very-secret", "expires_in": "soon-eyJ-very-secret"}"#,
            ))
            .mount(&server)
            .await;
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Grant {
            access_token: String,
            expires_in: u64,
        }
        let err = client()
            .post(format!("{}/oauth2/v2.0/token", server.uri()))
            .auth_endpoint(true)
            .send_json::<Grant>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        let source = std::error::Error::source(&err).unwrap();
        let everything = format!("{err} {err:?} {source} {source:?}");
        assert!(!everything.contains("eyJ"), "{everything}");
        assert!(everything.contains("line 1"), "{everything}");
    })
    .await;
}

#[tokio::test]
async fn bearer_tokens_and_secret_free_debug() {
    bounded(async {
        let server = MockServer::start().await;
        struct Fixed;
        #[hybrid_http::async_trait]
        impl TokenSource for Fixed {
            async fn fetch_token(&self) -> hybrid_core::Result<Token> {
                Ok(Token::expiring_in(
                    "eyJ0eXAi.azure-secret".to_string(),
                    Duration::from_secs(3600),
                ))
            }
        }
        Mock::given(header("authorization", "Bearer eyJ0eXAi.azure-secret"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        let cache: Arc<dyn Authorizer> = Arc::new(TokenCache::new(Fixed));
        let c = HttpClient::new(ClientOptions::new().with_env_proxy(false)).unwrap();
        let req = c
            .get(format!("{}/subscriptions", server.uri()))
            .auth(cache.clone());
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let shown = format!("{cache:?} {resp:?} {c:?}");
        assert!(!shown.contains("azure-secret"), "{shown}");
    })
    .await;
}
