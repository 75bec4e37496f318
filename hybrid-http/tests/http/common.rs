use std::future::Future;

use std::time::Duration;

use hybrid_http::{ClientOptions, HttpClient, RetryPolicy};
use wiremock::MockServer;

/// Every test body runs under this bound: a hang fails the test instead of blocking CI.
pub async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("the test did not finish within 20 s")
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Fast, deterministic retries: 4 attempts, 20 ms doubling to 100 ms, no jitter, 10 s.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::new()
        .with_max_attempts(4)
        .with_backoff(ms(20), ms(100))
        .with_jitter(0.0)
        .with_total_deadline(Duration::from_secs(10))
}

pub fn options() -> ClientOptions {
    ClientOptions::new()
        .with_env_proxy(false)
        .with_connect_timeout(Duration::from_secs(2))
        .with_request_timeout(Duration::from_secs(5))
        .with_retry(fast_retry())
}

pub fn client() -> HttpClient {
    HttpClient::new(options()).expect("client")
}

pub async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
}

/// A local port with nothing listening on it.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

pub use hybrid_http::test_util::LogCapture;
