//! Retry rules: idempotency, connect errors, Retry-After in its forms, deadlines.

use std::time::{Duration, Instant, SystemTime};

use hybrid_core::ErrorKind;
use hybrid_http::{ClientOptions, HttpClient, RetryPolicy, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{bounded, client, closed_port, fast_retry, ms, options, requests};

/// `failures` responses of `fail`, then 200 with `ok`.
async fn flaky(server: &MockServer, http_method: &str, failures: u64, fail: ResponseTemplate) {
    Mock::given(method(http_method))
        .respond_with(fail)
        .up_to_n_times(failures)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method(http_method))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(server)
        .await;
}

#[tokio::test]
async fn get_is_retried_on_503_until_success() {
    bounded(async {
        let server = MockServer::start().await;
        flaky(&server, "GET", 2, ResponseTemplate::new(503)).await;
        let resp = client()
            .get(format!("{}/x", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.text().await.unwrap(), "ok");
        assert_eq!(requests(&server).await.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn retries_stop_at_max_attempts() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(502))
            .mount(&server)
            .await;
        let err = client()
            .delete(format!("{}/x", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert_eq!(err.http_status(), Some(502));
        assert!(err.message().contains("after 4 attempts"), "{err}");
        assert!(err.is_retryable());
        assert_eq!(requests(&server).await.len(), 4);
    })
    .await;
}

#[tokio::test]
async fn post_is_not_retried_on_503() {
    bounded(async {
        let server = MockServer::start().await;
        flaky(&server, "POST", 1, ResponseTemplate::new(503)).await;
        let err = client()
            .post(format!("{}/servers", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(
            !err.is_retryable(),
            "a POST that may have run is not blindly retryable"
        );
        assert_eq!(requests(&server).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn post_marked_idempotent_is_retried() {
    bounded(async {
        let server = MockServer::start().await;
        flaky(&server, "POST", 2, ResponseTemplate::new(500)).await;
        let resp = client()
            .post(format!("{}/action", server.uri()))
            .idempotent(true)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(requests(&server).await.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    bounded(async {
        let server = MockServer::start().await;
        flaky(&server, "GET", 1, ResponseTemplate::new(404)).await;
        let err = client()
            .get(format!("{}/x", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(requests(&server).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn connect_errors_exhaust_attempts_with_a_transport_error() {
    bounded(async {
        let url = format!("http://127.0.0.1:{}/v3?password=hunter2", closed_port());
        let err = client().post(&url).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert!(err.message().contains("could not connect"), "{err}");
        assert!(
            err.message().contains("after 4 attempts"),
            "even a POST is retried: {err}"
        );
        assert!(err.is_retryable());
        let chain = format!("{err} {err:?} {}", std::error::Error::source(&err).unwrap());
        assert!(!chain.contains("hunter2"), "{chain}");
    })
    .await;
}

/// A minimal HTTP server that starts listening on `port` after `delay`, answers every
/// connection with 200, and counts the requests.
async fn late_server(port: u16, delay: Duration, expected: usize) -> usize {
    tokio::time::sleep(delay).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let mut served = 0;
    while served < expected {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nup")
            .await
            .unwrap();
        served += 1;
    }
    served
}

#[tokio::test]
async fn connect_error_is_retried_until_the_server_comes_up() {
    bounded(async {
        let port = closed_port();
        let c = HttpClient::new(
            options().with_retry(
                RetryPolicy::new()
                    .with_max_attempts(50)
                    .with_backoff(ms(50), ms(50))
                    .with_jitter(0.0)
                    .with_total_deadline(Duration::from_secs(10)),
            ),
        )
        .unwrap();
        let url = format!("http://127.0.0.1:{port}/servers");
        // A POST: it never reached the server, so sending it again is safe.
        let request = async { c.post(&url).send().await.unwrap().text().await.unwrap() };
        let (body, served) = tokio::join!(request, late_server(port, ms(300), 1));
        assert_eq!(body, "up");
        assert_eq!(served, 1);
    })
    .await;
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    bounded(async {
        let server = MockServer::start().await;
        flaky(
            &server,
            "GET",
            1,
            ResponseTemplate::new(429).insert_header("retry-after", "1"),
        )
        .await;
        let start = Instant::now();
        let resp = client()
            .get(format!("{}/x", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(start.elapsed() >= ms(950), "waited {:?}", start.elapsed());
        assert_eq!(requests(&server).await.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    bounded(async {
        let server = MockServer::start().await;
        let when = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
        flaky(
            &server,
            "GET",
            1,
            ResponseTemplate::new(503).insert_header("retry-after", when.as_str()),
        )
        .await;
        let start = Instant::now();
        let resp = client()
            .get(format!("{}/x", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        // The date has a one-second resolution: at least one second remains.
        assert!(start.elapsed() >= ms(900), "waited {:?}", start.elapsed());
        assert_eq!(requests(&server).await.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn x_ms_retry_after_ms_wins_over_retry_after() {
    bounded(async {
        let server = MockServer::start().await;
        flaky(
            &server,
            "GET",
            1,
            ResponseTemplate::new(429)
                .insert_header("x-ms-retry-after-ms", "300")
                // Past the 2 s deadline below: only the millisecond header lets the retry happen.
                .insert_header("retry-after", "30"),
        )
        .await;
        let start = Instant::now();
        let resp = client()
            .get(format!("{}/x", server.uri()))
            .deadline(Duration::from_secs(2))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(start.elapsed() >= ms(290), "waited {:?}", start.elapsed());
        assert_eq!(requests(&server).await.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn post_429_is_retried_after_the_hint_as_it_was_refused_unread() {
    bounded(async {
        let server = MockServer::start().await;
        flaky(
            &server,
            "POST",
            1,
            ResponseTemplate::new(429).insert_header("retry-after", "1"),
        )
        .await;
        let start = Instant::now();
        let resp = client()
            .post(format!("{}/x", server.uri()))
            .body("payload", "text/plain")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.text().await.unwrap(), "ok");
        assert!(start.elapsed() >= ms(990), "waited {:?}", start.elapsed());
        let sent = requests(&server).await;
        assert_eq!(sent.len(), 2);
        assert!(
            sent.iter().all(|r| r.body == b"payload"),
            "the same body twice"
        );
    })
    .await;
}

#[tokio::test]
async fn post_429_storm_ends_rate_limited_after_the_attempts_with_the_hint() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("x-ms-retry-after-ms", "30"))
            .mount(&server)
            .await;
        let err = client()
            .post(format!("{}/x", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(ms(30)));
        assert!(err.is_retryable());
        assert!(err.message().contains("after 4 attempts"), "{err}");
        assert_eq!(requests(&server).await.len(), 4);
    })
    .await;
}

#[tokio::test]
async fn post_503_and_408_are_still_sent_once() {
    bounded(async {
        for status in [503, 408] {
            let server = MockServer::start().await;
            flaky(&server, "POST", 1, ResponseTemplate::new(status)).await;
            let err = client()
                .post(format!("{}/x", server.uri()))
                .send()
                .await
                .unwrap_err();
            assert_eq!(err.http_status(), Some(status));
            assert_eq!(requests(&server).await.len(), 1, "{status}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_request_timeout_beyond_the_total_deadline_extends_it() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_delay(ms(600))
                    .set_body_string("slow"),
            )
            .mount(&server)
            .await;
        let tight = options().with_retry(fast_retry().with_total_deadline(ms(200)));
        let c = HttpClient::new(tight).unwrap();
        // The policy's 200 ms deadline alone cuts the answer off …
        let err = c
            .get(format!("{}/x", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        // … a request's own 2 s timeout gives the attempt its whole time …
        let resp = c
            .get(format!("{}/x", server.uri()))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.text().await.unwrap(), "slow");
        // … unless the request also sets its own deadline.
        let err = c
            .get(format!("{}/x", server.uri()))
            .timeout(Duration::from_secs(2))
            .deadline(ms(200))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    })
    .await;
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_ends_retries_at_once() {
    bounded(async {
        let server = MockServer::start().await;
        flaky(
            &server,
            "GET",
            1,
            ResponseTemplate::new(503).insert_header("retry-after", "30"),
        )
        .await;
        let start = Instant::now();
        let err = client()
            .get(format!("{}/x", server.uri()))
            .deadline(Duration::from_secs(3))
            .send()
            .await
            .unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "no waiting for a hopeless retry"
        );
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
        assert_eq!(requests(&server).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn total_deadline_stops_backoff_retries() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
        let policy = RetryPolicy::new()
            .with_max_attempts(1000)
            .with_backoff(ms(100), ms(100))
            .with_jitter(0.0)
            .with_total_deadline(ms(700));
        let c = HttpClient::new(options().with_retry(policy)).unwrap();
        let start = Instant::now();
        let err = c
            .get(format!("{}/x", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        let n = requests(&server).await.len();
        assert!(
            (2..=8).contains(&n),
            "{n} attempts within a 700 ms deadline at 100 ms intervals"
        );
    })
    .await;
}

#[tokio::test]
async fn slow_server_hits_the_deadline_as_timeout() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let err = client()
            .get(format!("{}/slow", server.uri()))
            .deadline(ms(400))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.message().contains("deadline"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn attempt_timeouts_are_retried_only_when_idempotent() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(path("/slow"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let c = HttpClient::new(
            ClientOptions::new()
                .with_env_proxy(false)
                .with_request_timeout(ms(200))
                .with_retry(fast_retry().with_max_attempts(2)),
        )
        .unwrap();
        let err = c
            .get(format!("{}/slow", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.message().contains("no response within"), "{err}");
        assert_eq!(requests(&server).await.len(), 2);

        server.reset().await;
        Mock::given(path("/slow"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let err = c
            .post(format!("{}/slow", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(!err.is_retryable());
        // Give a late second request the chance to show up if it were sent.
        tokio::time::sleep(ms(100)).await;
        assert_eq!(requests(&server).await.len(), 1);
    })
    .await;
}
