//! Marker, next-link and continuation-token listings.

use futures::{StreamExt, TryStreamExt};
use hybrid_core::paging::PageToken;
use hybrid_core::ErrorKind;
use hybrid_http::pagination::{PageStyle, PagedRequest, TokenLocation};
use hybrid_http::Url;
use serde::Deserialize;
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{bounded, client, requests};

#[derive(Debug, Deserialize, PartialEq)]
struct Item {
    id: String,
}

fn ids(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.id.as_str()).collect()
}

fn servers(ids: &[&str]) -> serde_json::Value {
    json!({"servers": ids.iter().map(|i| json!({"id": i, "name": format!("vm-{i}")})).collect::<Vec<_>>()})
}

#[tokio::test]
async fn marker_paging_across_three_pages() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v2.1/servers"))
            .and(query_param_is_missing("marker"))
            .and(query_param("limit", "2"))
            .and(query_param("status", "ACTIVE"))
            .and(header("x-auth-token", "tok"))
            .respond_with(ResponseTemplate::new(200).set_body_json(servers(&["a", "b"])))
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(path("/v2.1/servers"))
            .and(query_param("marker", "b"))
            .and(query_param("limit", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(servers(&["c", "d"])))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/v2.1/servers"))
            .and(query_param("marker", "d"))
            .and(query_param("limit", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(servers(&["e"])))
            .expect(1)
            .mount(&server)
            .await;

        let url = Url::parse(&format!("{}/v2.1/servers?status=ACTIVE", server.uri())).unwrap();
        let listing = PagedRequest::new(&client(), url, "servers", PageStyle::marker(Some(2)))
            .with_request(|r| r.header("x-auth-token", "tok").operation("list_servers"));

        let first = listing.page::<Item>(None).await.unwrap();
        assert_eq!(ids(&first.items), ["a", "b"]);
        assert_eq!(first.next, Some(PageToken::new("b")));
        let all: Vec<Item> = listing.clone().stream().try_collect().await.unwrap();
        assert_eq!(ids(&all), ["a", "b", "c", "d", "e"]);
        assert_eq!(
            requests(&server).await.len(),
            4,
            "one page, then three pages, nothing more"
        );
    })
    .await;
}

#[tokio::test]
async fn next_link_paging_azure_and_openstack() {
    bounded(async {
        let server = MockServer::start().await;
        let base = server.uri();
        Mock::given(path("/subscriptions/s/providers/Microsoft.Compute/virtualMachines"))
            .and(query_param_is_missing("$skiptoken"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "value": [{"id": "vm1"}, {"id": "vm2"}],
                "nextLink": format!("{base}/subscriptions/s/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01&$skiptoken=p2")
            })))
            .mount(&server)
            .await;
        Mock::given(path("/subscriptions/s/providers/Microsoft.Compute/virtualMachines"))
            .and(query_param("$skiptoken", "p2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"id": "vm3"}]})))
            .mount(&server)
            .await;
        let url = Url::parse(&format!(
            "{base}/subscriptions/s/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01"
        ))
        .unwrap();
        let all: Vec<Item> = PagedRequest::new(&client(), url, "value", PageStyle::NextLink)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(ids(&all), ["vm1", "vm2", "vm3"]);

        // Glance: a root-relative `next`.
        Mock::given(path("/v2/images"))
            .and(query_param_is_missing("marker"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "images": [{"id": "i1"}], "next": "/v2/images?marker=i1"
            })))
            .mount(&server)
            .await;
        Mock::given(path("/v2/images"))
            .and(query_param("marker", "i1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"images": [{"id": "i2"}]})))
            .mount(&server)
            .await;
        let url = Url::parse(&format!("{base}/v2/images")).unwrap();
        let all: Vec<Item> = PagedRequest::new(&client(), url, "images", PageStyle::NextLink)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(ids(&all), ["i1", "i2"]);
    })
    .await;
}

#[tokio::test]
async fn next_link_off_host_is_refused() {
    bounded(async {
        let server = MockServer::start().await;
        let other_port = crate::common::closed_port();
        for (p, link) in [
            (
                "/evil",
                "https://management.evil.example/steal?token=x".to_owned(),
            ),
            ("/port", format!("http://127.0.0.1:{other_port}/next")),
        ] {
            Mock::given(path(p))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "value": [{"id": "one"}], "nextLink": link
                })))
                .mount(&server)
                .await;
            let url = Url::parse(&format!("{}{p}", server.uri())).unwrap();
            let listing = PagedRequest::new(&client(), url, "value", PageStyle::NextLink);
            let err = listing.page::<Item>(None).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{p}: {err}");
            assert!(err.message().contains("another origin"), "{err}");

            let results: Vec<_> = listing.stream::<Item>().collect().await;
            assert_eq!(
                results.len(),
                1,
                "the page with the bad link is an error, nothing is followed"
            );
            assert_eq!(
                results[0].as_ref().unwrap_err().kind(),
                ErrorKind::InvalidResponse
            );
        }
        // Only the two listings' own requests (each twice) were made, all to the server.
        assert_eq!(requests(&server).await.len(), 4);

        // A forged token pointing elsewhere is refused before any request.
        let url = Url::parse(&format!("{}/evil", server.uri())).unwrap();
        let listing = PagedRequest::new(&client(), url, "value", PageStyle::NextLink);
        let err = listing
            .page::<Item>(Some(PageToken::new("https://evil.example/x")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(requests(&server).await.len(), 4);
    })
    .await;
}

#[tokio::test]
async fn continuation_tokens_in_fields_and_headers() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(path("/field"))
            .and(query_param_is_missing("continuationToken"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"items": [{"id": "1"}], "continuationToken": "c2"})),
            )
            .mount(&server)
            .await;
        Mock::given(path("/field"))
            .and(query_param("continuationToken", "c2"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"items": [{"id": "2"}], "continuationToken": ""})),
            )
            .mount(&server)
            .await;
        Mock::given(path("/header"))
            .and(query_param_is_missing("ct"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-ms-continuation", "h2")
                    .set_body_json(json!([{"id": "x"}])),
            )
            .mount(&server)
            .await;
        Mock::given(path("/header"))
            .and(query_param("ct", "h2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "y"}])))
            .mount(&server)
            .await;
        let c = client();
        let style = PageStyle::Continuation {
            query_param: "continuationToken".into(),
            location: TokenLocation::Field("continuationToken".into()),
        };
        let url = Url::parse(&format!("{}/field", server.uri())).unwrap();
        let all: Vec<Item> = PagedRequest::new(&c, url, "items", style)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(ids(&all), ["1", "2"]);

        let style = PageStyle::Continuation {
            query_param: "ct".into(),
            location: TokenLocation::Header("x-ms-continuation".into()),
        };
        let url = Url::parse(&format!("{}/header", server.uri())).unwrap();
        let all: Vec<Item> = PagedRequest::new(&c, url, "", style)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(ids(&all), ["x", "y"]);
    })
    .await;
}

#[tokio::test]
async fn malformed_listings_are_invalid_responses() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(path("/nolist"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"servers": "nope"})))
            .mount(&server)
            .await;
        Mock::given(path("/baditem"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"servers": [{"id": 5}]})))
            .mount(&server)
            .await;
        Mock::given(path("/noid"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"servers": [{"name": "x"}]})),
            )
            .mount(&server)
            .await;
        let c = client();
        for (p, what) in [
            ("/nolist", "no `servers` array"),
            ("/baditem", "item 0"),
            ("/noid", "no `id`"),
        ] {
            let url = Url::parse(&format!("{}{p}", server.uri())).unwrap();
            let err = PagedRequest::new(&c, url, "servers", PageStyle::marker(Some(1)))
                .with_request(|r| r.operation("list_servers"))
                .page::<Item>(None)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{p}");
            assert!(err.message().contains(what), "{p}: {err}");
            assert_eq!(err.http_status(), Some(200));
            assert_eq!(err.context().operation.as_deref(), Some("list_servers"));
        }
    })
    .await;
}
