//! Entra ID, IMDS, ARM authentication and headers, paging, faults, throttling and
//! counters, driven over HTTP with reqwest.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use hybrid_fake_azure::{FakeAzure, Mangle, RateLimit, RateLimits, RetryAfter};
use reqwest::Method;
use serde_json::{json, Value};

fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        if chunk.len() > 1 {
            out.push(A[(n >> 6) as usize & 63] as char);
        }
        if chunk.len() > 2 {
            out.push(A[n as usize & 63] as char);
        }
    }
    out
}

fn jwt(claims: Value) -> String {
    format!(
        "{}.{}.{}",
        b64url(br#"{"alg":"RS256","typ":"JWT","x5t":"abc"}"#),
        b64url(claims.to_string().as_bytes()),
        b64url(b"not-a-real-signature")
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn token_form(fake: &FakeAzure, form: &[(&str, &str)]) -> Reply {
    let http = reqwest::Client::new();
    let resp = http.post(fake.token_url()).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
        text,
    }
}

#[tokio::test]
async fn client_secret_tokens_and_entra_errors() {
    let fake = FakeAzure::builder()
        .tenant("11111111-2222-4333-8444-555555555555")
        .client("app-1", "s3cret-value~1")
        .start()
        .await
        .unwrap();
    assert_eq!(fake.client_id(), "app-1");
    assert_eq!(fake.client_secret(), "s3cret-value~1");
    let scope = ("scope", "https://management.azure.com/.default");
    let ok = token_form(
        &fake,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app-1"),
            ("client_secret", "s3cret-value~1"),
            scope,
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["token_type"], "Bearer");
    assert_eq!(ok.body["expires_in"], 3599);
    assert_eq!(ok.body["ext_expires_in"], 3599);
    let token = ok.body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT-shaped token");
    assert!(ok.header("x-ms-request-id").is_some());

    let wrong = token_form(
        &fake,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app-1"),
            ("client_secret", "nope"),
            scope,
        ],
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["error"], "invalid_client");
    assert_eq!(wrong.body["error_codes"], json!([7000215]));
    assert!(wrong.body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS7000215:"));
    assert!(
        !wrong.text.contains("nope") && !wrong.text.contains("s3cret"),
        "no secret echoed"
    );

    let unknown = token_form(
        &fake,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app-2"),
            ("client_secret", "x"),
            scope,
        ],
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.body["error"], "unauthorized_client");
    assert_eq!(unknown.body["error_codes"], json!([700016]));

    let no_grant = token_form(
        &fake,
        &[
            ("client_id", "app-1"),
            ("client_secret", "s3cret-value~1"),
            scope,
        ],
    )
    .await;
    assert_eq!(
        (no_grant.status, no_grant.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(no_grant.body["error_codes"], json!([900144]));

    let bad_grant = token_form(
        &fake,
        &[("grant_type", "password"), ("client_id", "app-1"), scope],
    )
    .await;
    assert_eq!(bad_grant.body["error"], "unsupported_grant_type");

    let bad_scope = token_form(
        &fake,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app-1"),
            ("client_secret", "s3cret-value~1"),
            ("scope", "https://management.azure.com/user_impersonation"),
        ],
    )
    .await;
    assert_eq!(
        (bad_scope.status, bad_scope.body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    let no_cred = token_form(
        &fake,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app-1"),
            scope,
        ],
    )
    .await;
    assert_eq!(
        (no_cred.status, no_cred.body["error_codes"].clone()),
        (401, json!([7000218]))
    );

    // Another tenant is unknown.
    let http = reqwest::Client::new();
    let other = http
        .post(format!("{}/common-tenant/oauth2/v2.0/token", fake.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "app-1"),
            ("client_secret", "s3cret-value~1"),
            scope,
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 400);
    let v: Value = other.json().await.unwrap();
    assert_eq!(v["error_codes"], json!([90002]));

    // v1 endpoint with `resource`.
    let v1 = http
        .post(format!("{}/{}/oauth2/token", fake.url(), fake.tenant_id()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "app-1"),
            ("client_secret", "s3cret-value~1"),
            ("resource", "https://management.core.windows.net/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), 200);
    let v: Value = v1.json().await.unwrap();
    assert_eq!(v["expires_in"], "3599");
    assert_eq!(v["resource"], "https://management.core.windows.net/");
    let v1_token = v["access_token"].as_str().unwrap().to_owned();
    let arm = send(
        &http,
        Method::GET,
        &format!("{}/subscriptions?api-version=2022-12-01", fake.url()),
        Some(&v1_token),
        None,
    )
    .await;
    assert_eq!(
        arm.status, 200,
        "a management.core.windows.net token is valid for ARM"
    );

    assert_eq!(fake.token_requests(), 9);
    let cfg = send(
        &http,
        Method::GET,
        &format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            fake.url(),
            fake.tenant_id()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(cfg.body["token_endpoint"], fake.token_url());
}

#[tokio::test]
async fn client_assertions_certificate_and_federated() {
    let fake = FakeAzure::builder()
        .client("app-cert", "unused")
        .federated_credential("https://oidc.example/issuer", "system:serviceaccount:ns:sa")
        .start()
        .await
        .unwrap();
    let typ = (
        "client_assertion_type",
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    );
    let scope = ("scope", "https://management.azure.com/.default");
    let grant = ("grant_type", "client_credentials");
    let cert = jwt(
        json!({"iss": "app-cert", "sub": "app-cert", "aud": fake.token_url(), "exp": now() + 600, "jti": "1"}),
    );
    let r = token_form(
        &fake,
        &[
            grant,
            ("client_id", "app-cert"),
            typ,
            ("client_assertion", &cert),
            scope,
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["access_token"].is_string());

    let fed = jwt(
        json!({"iss": "https://oidc.example/issuer", "sub": "system:serviceaccount:ns:sa", "aud": "api://AzureADTokenExchange", "exp": now() + 600}),
    );
    let r = token_form(
        &fake,
        &[
            grant,
            ("client_id", "app-cert"),
            typ,
            ("client_assertion", &fed),
            scope,
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let stranger = jwt(
        json!({"iss": "https://oidc.example/issuer", "sub": "system:serviceaccount:ns:other", "exp": now() + 600}),
    );
    let r = token_form(
        &fake,
        &[
            grant,
            ("client_id", "app-cert"),
            typ,
            ("client_assertion", &stranger),
            scope,
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.body["error_codes"].clone()),
        (400, json!([70021]))
    );

    let expired = jwt(json!({"iss": "app-cert", "sub": "app-cert", "exp": now() - 10}));
    let r = token_form(
        &fake,
        &[
            grant,
            ("client_id", "app-cert"),
            typ,
            ("client_assertion", &expired),
            scope,
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.body["error_codes"].clone()),
        (401, json!([700024]))
    );

    let r = token_form(
        &fake,
        &[
            grant,
            ("client_id", "app-cert"),
            typ,
            ("client_assertion", "only.two"),
            scope,
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.body["error_codes"].clone()),
        (400, json!([50027]))
    );

    let other = jwt(json!({"iss": "app-other", "sub": "app-other", "exp": now() + 600}));
    let r = token_form(
        &fake,
        &[
            grant,
            ("client_id", "app-cert"),
            typ,
            ("client_assertion", &other),
            scope,
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.body["error_codes"].clone()),
        (401, json!([700021])),
        "assertion for another app"
    );
    let r = token_form(
        &fake,
        &[
            grant,
            ("client_id", "app-other"),
            typ,
            ("client_assertion", &other),
            scope,
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let r = token_form(&fake, &[grant, typ, ("client_assertion", &cert), scope]).await;
    assert_eq!(
        r.status, 200,
        "client_id may be omitted with a certificate assertion"
    );
}

#[tokio::test]
async fn imds_managed_identity_tokens() {
    let fake = FakeAzure::builder()
        .managed_identity("mi-client-1")
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F",
        fake.url()
    );
    let no_header = http.get(&url).send().await.unwrap();
    assert_eq!(no_header.status(), 400);
    let v: Value = no_header.json().await.unwrap();
    assert_eq!(
        v["error_description"],
        "Required metadata header not specified"
    );

    let ok = http
        .get(&url)
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let v: Value = ok.json().await.unwrap();
    assert_eq!(v["client_id"], "mi-client-1");
    assert_eq!(v["resource"], "https://management.azure.com/");
    assert!(v["expires_in"].is_string() && v["expires_on"].is_string());
    let token = v["access_token"].as_str().unwrap();
    let arm = send(
        &http,
        Method::GET,
        &format!(
            "{}/subscriptions/{}?api-version=2022-12-01",
            fake.url(),
            fake.subscription_id()
        ),
        Some(token),
        None,
    )
    .await;
    assert_eq!(arm.status, 200);
    assert_eq!(arm.body["subscriptionId"], fake.subscription_id());

    let other = http
        .get(format!("{url}&client_id=someone-else"))
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 400);
    let no_resource = http
        .get(format!(
            "{}/metadata/identity/oauth2/token?api-version=2018-02-01",
            fake.url()
        ))
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(no_resource.status(), 400);
    assert_eq!(fake.token_requests(), 4);
}

#[tokio::test]
async fn arm_requires_a_valid_token_and_api_version() {
    let az = setup(FakeAzure::builder().token_ttl(Duration::from_secs(3600))).await;
    let url = az.url(&az.sub(), RESOURCES);
    let none = send(&az.http, Method::GET, &url, None, None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.code(), "AuthenticationFailed");
    let challenge = none.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer authorization_uri="),
        "{challenge}"
    );
    assert!(challenge.contains("error=\"invalid_token\""));

    let garbage = send(&az.http, Method::GET, &url, Some("abc.def.ghi"), None).await;
    assert_eq!(
        (garbage.status, garbage.code()),
        (401, "InvalidAuthenticationToken")
    );

    let ok = az.get(&az.sub(), RESOURCES).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["tenantId"], az.fake.tenant_id());

    let missing = send(
        &az.http,
        Method::GET,
        &format!("{}{}", az.fake.url(), az.sub()),
        Some(&az.token),
        None,
    )
    .await;
    assert_eq!(
        (missing.status, missing.code()),
        (400, "MissingApiVersionParameter")
    );
    let invalid = az.get(&az.sub(), "latest").await;
    assert_eq!(
        (invalid.status, invalid.code()),
        (400, "InvalidApiVersionParameter")
    );

    let other_sub = az
        .get(
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups",
            RESOURCES,
        )
        .await;
    assert_eq!(
        (other_sub.status, other_sub.code()),
        (404, "SubscriptionNotFound")
    );

    az.fake.revoke_tokens();
    let revoked = az.get(&az.sub(), RESOURCES).await;
    assert_eq!(
        (revoked.status, revoked.code()),
        (401, "ExpiredAuthenticationToken")
    );
    assert!(revoked.header("www-authenticate").is_some());
    let fresh = client_token(&az.http, &az.fake).await;
    let again = send(&az.http, Method::GET, &url, Some(&fresh), None).await;
    assert_eq!(again.status, 200);

    // A token for another audience is refused.
    let graph = az
        .http
        .post(az.fake.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", az.fake.client_id()),
            ("client_secret", az.fake.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let r = send(
        &az.http,
        Method::GET,
        &url,
        graph["access_token"].as_str(),
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (401, "InvalidAuthenticationTokenAudience")
    );

    // The fake's own origin is an audience, as `http` or (behind a TLS front) `https`;
    // another port is not.
    for (origin, status) in [
        (az.fake.url(), 200),
        (az.fake.url().replace("http://", "https://"), 200),
        (
            format!("https://127.0.0.1:{}", az.fake.addr().port() ^ 1),
            401,
        ),
    ] {
        let t = az
            .http
            .post(az.fake.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", az.fake.client_id()),
                ("client_secret", az.fake.client_secret()),
                ("scope", &format!("{origin}/.default")),
            ])
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let r = send(
            &az.http,
            Method::GET,
            &url,
            t["access_token"].as_str(),
            None,
        )
        .await;
        assert_eq!(r.status, status, "{origin}");
    }
}

#[tokio::test]
async fn tokens_expire_after_their_ttl() {
    let az = setup(FakeAzure::builder().token_ttl(Duration::from_millis(1200))).await;
    assert_eq!(az.get(&az.sub(), RESOURCES).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = az.get(&az.sub(), RESOURCES).await;
    assert_eq!((r.status, r.code()), (401, "ExpiredAuthenticationToken"));
    // The issued tokens are listed, for leak checks.
    let second = client_token(&az.http, &az.fake).await;
    let issued = az.fake.issued_tokens();
    assert_eq!(issued.len(), 2);
    assert!(issued.contains(&az.token) && issued.contains(&second));
}

#[tokio::test]
async fn response_headers_and_rate_limit_counters() {
    let az = setup(FakeAzure::builder()).await;
    let r = send(
        &az.http,
        Method::GET,
        &az.url(&az.sub(), RESOURCES),
        Some(&az.token),
        None,
    )
    .await;
    let first: u64 = r
        .header("x-ms-ratelimit-remaining-subscription-reads")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(first, 11_999);
    assert!(r.header("x-ms-request-id").is_some());
    assert!(r
        .header("x-ms-routing-request-id")
        .unwrap()
        .starts_with("WESTEUROPE:"));
    let second = az.get(&az.sub(), RESOURCES).await;
    let n: u64 = second
        .header("x-ms-ratelimit-remaining-subscription-reads")
        .unwrap()
        .parse()
        .unwrap();
    assert!(n < first, "the read counter decreases ({first} then {n})");
    assert_ne!(
        r.header("x-ms-request-id"),
        second.header("x-ms-request-id")
    );

    let corr = az
        .http
        .get(az.url(&az.sub(), RESOURCES))
        .bearer_auth(&az.token)
        .header("x-ms-correlation-request-id", "corr-123")
        .header("x-ms-client-request-id", "client-456")
        .send()
        .await
        .unwrap();
    assert_eq!(corr.headers()["x-ms-correlation-request-id"], "corr-123");
    assert_eq!(corr.headers()["x-ms-client-request-id"], "client-456");

    let w = az
        .put(
            &format!("{}/resourcegroups/hdr-rg", az.sub()),
            RESOURCES,
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(w.status, 201);
    assert_eq!(
        w.header("x-ms-ratelimit-remaining-subscription-writes"),
        Some("1199")
    );
    let d = az
        .delete(&format!("{}/resourcegroups/hdr-rg", az.sub()), RESOURCES)
        .await;
    assert_eq!(
        d.header("x-ms-ratelimit-remaining-subscription-deletes"),
        Some("1199")
    );
}

#[tokio::test]
async fn throttling_when_a_bucket_is_empty() {
    let limits = RateLimits {
        reads: RateLimit::new(3, 1.0),
        ..RateLimits::arm()
    };
    let az = setup(FakeAzure::builder().rate_limits(limits)).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = az.get(&az.sub(), RESOURCES).await;
        assert_eq!(r.status, 200);
        seen.push(
            r.header("x-ms-ratelimit-remaining-subscription-reads")
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(seen, ["2", "1", "0"]);
    let t = az.get(&az.sub(), RESOURCES).await;
    assert_eq!((t.status, t.code()), (429, "SubscriptionRequestsThrottled"));
    assert_eq!(t.header("retry-after"), Some("1"));
    // Writes have their own bucket.
    let w = az
        .put(
            &format!("{}/resourcegroups/t-rg", az.sub()),
            RESOURCES,
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(w.status, 201);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        az.get(&az.sub(), RESOURCES).await.status,
        200,
        "the bucket refills"
    );
    az.fake.set_remaining_reads(0);
    assert_eq!(az.get(&az.sub(), RESOURCES).await.status, 429);
}

#[tokio::test]
async fn paging_50k_vms_with_next_links() {
    let az = setup(FakeAzure::builder().servers(50_000)).await;
    assert_eq!(az.fake.vm_count(), 50_000);
    let mut url = az.url(&az.rg_path("Microsoft.Compute/virtualMachines"), COMPUTE);
    let mut names = BTreeSet::new();
    let mut pages = 0;
    loop {
        let r = az.get_abs(&url).await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        let value = r.body["value"].as_array().unwrap();
        for vm in value {
            assert_eq!(vm["type"], "Microsoft.Compute/virtualMachines");
            assert_eq!(vm["properties"]["provisioningState"], "Succeeded");
            names.insert(vm["name"].as_str().unwrap().to_owned());
        }
        match r.body["nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&az.fake.url()), "same origin: {next}");
                assert!(
                    next.contains("api-version=") && next.contains("skiptoken="),
                    "{next}"
                );
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 50);
    assert_eq!(names.len(), 50_000);
    assert!(names.contains("vm-00001") && names.contains("vm-50000"));
    let first = az
        .get(
            &az.rg_path("Microsoft.Compute/virtualMachines/vm-00001"),
            COMPUTE,
        )
        .await;
    let nic = first.body["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let nic = az
        .get_abs(&format!("{}{nic}?api-version={NETWORK}", az.fake.url()))
        .await;
    assert_eq!(nic.status, 200);
    assert_eq!(
        nic.body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
        "10.0.0.4"
    );
    // By subscription, with statusOnly, in pages too.
    let all = az
        .get(
            &format!(
                "{}/providers/Microsoft.Compute/virtualMachines?statusOnly=true",
                az.sub()
            ),
            COMPUTE,
        )
        .await;
    assert_eq!(all.body["value"].as_array().unwrap().len(), 1000);
    assert!(all.body["value"][0]["properties"]["instanceView"]["statuses"].is_array());
    let bad = az
        .get(
            &format!(
                "{}?$skiptoken=%%%",
                az.rg_path("Microsoft.Compute/virtualMachines")
            ),
            COMPUTE,
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, "InvalidSkipToken"));
}

#[tokio::test]
async fn small_pages_walk_every_item_once() {
    let az = setup(FakeAzure::builder().servers(7).page_size(3)).await;
    let mut url = az.url(&az.rg_path("Microsoft.Compute/virtualMachines"), COMPUTE);
    let mut got = Vec::new();
    loop {
        let r = az.get_abs(&url).await;
        got.extend(
            r.body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap().to_owned()),
        );
        match r.body["nextLink"].as_str() {
            Some(n) => url = n.to_owned(),
            None => break,
        }
    }
    let want: Vec<String> = (1..=7).map(|i| format!("vm-{i:05}")).collect();
    assert_eq!(got, want);
    // Disks (7 OS disks) and NICs page the same way.
    let disks = az.get(&az.rg_path("Microsoft.Compute/disks"), DISKS).await;
    assert_eq!(disks.body["value"].as_array().unwrap().len(), 3);
    assert!(disks.body["nextLink"].is_string());
}

#[tokio::test]
async fn scripted_faults() {
    let az = setup(FakeAzure::builder()).await;
    let path = format!("{}/resourcegroups", az.sub());
    az.fake.fail_next("GET", &path, 503, 2);
    for _ in 0..2 {
        let r = az.get(&path, RESOURCES).await;
        assert_eq!((r.status, r.code()), (503, "ServiceUnavailable"));
        assert!(r.header("x-ms-request-id").is_some());
    }
    assert_eq!(az.get(&path, RESOURCES).await.status, 200);

    az.fake.fail_next("*", &path.to_uppercase(), 429, 1);
    let r = az.get(&path, RESOURCES).await;
    assert_eq!(
        (r.status, r.code(), r.header("retry-after")),
        (429, "TooManyRequests", Some("0"))
    );

    az.fake
        .fail_next_with("GET", &path, 429, 1, RetryAfter::HttpDate(2));
    let r = az.get(&path, RESOURCES).await;
    assert!(r.header("retry-after").unwrap().ends_with(" GMT"));
    az.fake
        .fail_next_with("GET", &path, 503, 1, RetryAfter::Millis(150));
    let r = az.get(&path, RESOURCES).await;
    assert_eq!(
        (r.header("x-ms-retry-after-ms"), r.header("retry-after")),
        (Some("150"), None)
    );

    az.fake.fail_next("GET", &path, 401, 1);
    let r = az.get(&path, RESOURCES).await;
    assert_eq!((r.status, r.code()), (401, "InvalidAuthenticationToken"));
    assert!(r.header("www-authenticate").is_some());

    // Token endpoint faults answer in Entra's format.
    let tenant_path = format!("/{}/oauth2", az.fake.tenant_id());
    az.fake.fail_next("POST", &tenant_path, 503, 1);
    let t = az
        .http
        .post(az.fake.token_url())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), 503);
    let v: Value = t.json().await.unwrap();
    assert_eq!(v["error"], "temporarily_unavailable");

    az.fake.drop_next("GET", &path, 1);
    let dropped = az
        .http
        .get(az.url(&path, RESOURCES))
        .bearer_auth(&az.token)
        .send()
        .await;
    assert!(
        dropped.is_err(),
        "the connection is closed without an answer"
    );
    assert_eq!(az.get(&path, RESOURCES).await.status, 200);

    // Scripted bodies are sent as they are, without processing the request.
    az.fake
        .respond_next("GET", &path, 200, &br#"{"value": "not a list"#[..], 1);
    let r = az.get(&path, RESOURCES).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, r#"{"value": "not a list"#);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(r.header("x-ms-request-id").is_some());
    az.fake.respond_next("GET", &path, 202, Vec::new(), 1);
    let r = az.get(&path, RESOURCES).await;
    assert_eq!((r.status, r.text.as_str()), (202, ""));
    assert_eq!(az.get(&path, RESOURCES).await.status, 200);

    // A non-matching method is not faulted.
    az.fake.fail_next("DELETE", &path, 500, 1);
    assert_eq!(az.get(&path, RESOURCES).await.status, 200);
    az.fake.clear_faults();
    assert_eq!(
        az.delete(&format!("{path}/nothing-here"), RESOURCES)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn mangled_and_stalled_responses() {
    let az = setup(FakeAzure::builder().servers(20)).await;
    let path = az.rg_path("Microsoft.Compute/virtualMachines");
    let url = az.url(&path, COMPUTE);

    az.fake.mangle_next("GET", &path, Mangle::TruncateBody, 1);
    let r = az
        .http
        .get(&url)
        .bearer_auth(&az.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.bytes().await.is_err(),
        "the body ends before Content-Length"
    );

    az.fake.mangle_next("GET", &path, Mangle::MalformedJson, 1);
    let r = az
        .http
        .get(&url)
        .bearer_auth(&az.token)
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err() && text.starts_with("{\"value\""));

    az.fake
        .mangle_next("GET", &path, Mangle::Oversize(1 << 20), 1);
    let r = az
        .http
        .get(&url)
        .bearer_auth(&az.token)
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.len() > 1 << 20);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["value"]
            .as_array()
            .unwrap()
            .len(),
        20
    );

    az.fake
        .mangle_next("GET", &path, Mangle::StallBody(Duration::from_secs(5)), 1);
    let r = az
        .http
        .get(&url)
        .bearer_auth(&az.token)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    let failed = match r {
        Err(e) => e.is_timeout(),
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "a stalled body hits the client's deadline");

    az.fake.stall_next("GET", &path, Duration::from_secs(5), 1);
    let r = az
        .http
        .get(&url)
        .bearer_auth(&az.token)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    assert_eq!(az.get(&path, COMPUTE).await.status, 200);
}

#[tokio::test]
async fn counters_by_route_template() {
    let az = setup(FakeAzure::builder().servers(3)).await;
    assert_eq!(az.fake.token_requests(), 1);
    az.get(&az.rg_path("Microsoft.Compute/virtualMachines"), COMPUTE)
        .await;
    az.get(
        &format!(
            "{}/resourceGroups/{}/providers/microsoft.compute/VIRTUALMACHINES/vm-00001",
            az.sub(),
            az.fake.resource_group()
        ),
        COMPUTE,
    )
    .await;
    az.get(
        &az.rg_path("Microsoft.Compute/virtualMachines/vm-00002"),
        COMPUTE,
    )
    .await;
    assert_eq!(
        az.fake.route_count("get", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines"),
        1
    );
    assert_eq!(
        az.fake.route_count("GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{name}"),
        2
    );
    assert_eq!(
        az.fake.route_count("POST", "/{tenantId}/oauth2/v2.0/token"),
        1
    );
    assert_eq!(az.fake.request_count(), 4);
    assert_eq!(az.fake.route_counts().values().sum::<u64>(), 4);
    az.fake.reset_counters();
    assert_eq!((az.fake.request_count(), az.fake.token_requests()), (0, 0));
    assert!(az.fake.route_counts().is_empty());
}

#[tokio::test]
async fn latency_can_be_changed_at_run_time() {
    let az = setup(FakeAzure::builder()).await;
    az.fake.set_latency(Duration::from_secs(5));
    let slow = az
        .http
        .get(az.url(&az.sub(), RESOURCES))
        .bearer_auth(&az.token)
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(slow.unwrap_err().is_timeout());
    az.fake.set_latency(Duration::ZERO);
    assert_eq!(az.get(&az.sub(), RESOURCES).await.status, 200);
}

#[tokio::test]
async fn subscription_locations_and_providers() {
    let az = setup(
        FakeAzure::builder()
            .location("West Europe")
            .extra_location("North Europe"),
    )
    .await;
    assert_eq!(az.fake.location(), "westeurope");
    let subs = az.get("/subscriptions", RESOURCES).await;
    assert_eq!(
        subs.body["value"][0]["subscriptionId"],
        az.fake.subscription_id()
    );
    let locs = az
        .get(&format!("{}/locations", az.sub()), "2022-12-01")
        .await;
    let names: Vec<&str> = locs.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["westeurope", "northeurope"]);
    let p = az
        .get(
            &format!("{}/providers/Microsoft.Compute", az.sub()),
            RESOURCES,
        )
        .await;
    assert_eq!(p.body["registrationState"], "Registered");
    assert!(p.body["resourceTypes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["resourceType"] == "virtualMachines"));
    let unknown = az.get(&az.rg_path("Microsoft.Foo/bars/x"), RESOURCES).await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (409, "MissingSubscriptionRegistration")
    );
    let bad_type = az
        .get(&az.rg_path("Microsoft.Compute/fooBars/x"), COMPUTE)
        .await;
    assert_eq!(
        (bad_type.status, bad_type.code()),
        (404, "InvalidResourceType")
    );
    let no_route = az.get(&format!("{}/whatever", az.sub()), RESOURCES).await;
    assert_eq!(no_route.status, 404);
}

#[tokio::test]
async fn the_binary_serves_and_prints_its_settings() {
    use std::io::{BufRead, BufReader};
    /// Kills the child however the test ends.
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_fake-azure"))
            .args([
                "--servers",
                "5",
                "--page-size",
                "2",
                "--resource-group",
                "bin-rg",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn fake-azure"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut vars = std::collections::BTreeMap::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let (k, v) = line.split_once('=').unwrap();
        vars.insert(k.to_owned(), v.to_owned());
        if k == "AZURE_LOCATION" {
            break;
        }
    }
    let url = vars["FAKE_AZURE_URL"].clone();
    assert_eq!(vars["AZURE_AUTHORITY_HOST"], url);
    assert_eq!(vars["AZURE_RESOURCE_GROUP"], "bin-rg");
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!(
            "{url}/{}/oauth2/v2.0/token",
            vars["AZURE_TENANT_ID"]
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", vars["AZURE_CLIENT_ID"].as_str()),
            ("client_secret", vars["AZURE_CLIENT_SECRET"].as_str()),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = send(
        &http,
        Method::GET,
        &format!(
            "{url}/subscriptions/{}/resourceGroups/bin-rg/providers/Microsoft.Compute/virtualMachines?api-version={COMPUTE}",
            vars["AZURE_SUBSCRIPTION_ID"]
        ),
        token["access_token"].as_str(),
        None,
    )
    .await;
    drop(child);
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["value"].as_array().unwrap().len(), 2);
    assert!(list.body["nextLink"].as_str().unwrap().starts_with(&url));
}

/// `$expand=instanceView` on the VM listings (VirtualMachines_List and _ListAll) puts
/// each VM's instance view, with its power state, in the page, and the next link
/// keeps the expansion; without it the VMs come without instance views.
#[tokio::test]
async fn vm_listings_expand_instance_views_on_every_page() {
    let az = setup(FakeAzure::builder().servers(5).page_size(2)).await;
    let vm = az.vm_path("vm-00003");
    let dealloc = az.post(&format!("{vm}/deallocate"), COMPUTE).await;
    az.done(&dealloc).await;
    for list in [
        az.rg_path("Microsoft.Compute/virtualMachines"),
        format!("{}/providers/Microsoft.Compute/virtualMachines", az.sub()),
    ] {
        let mut url = az.url(&format!("{list}?$expand=instanceView"), COMPUTE);
        let mut powers = Vec::new();
        loop {
            let r = az.get_abs(&url).await;
            assert_eq!(r.status, 200, "{}", r.text);
            for v in r.body["value"].as_array().unwrap() {
                let code = v["properties"]["instanceView"]["statuses"]
                    .as_array()
                    .unwrap_or_else(|| panic!("an instance view in {v}"))
                    .iter()
                    .filter_map(|s| s["code"].as_str())
                    .find(|c| c.starts_with("PowerState/"))
                    .unwrap()
                    .to_owned();
                powers.push((v["name"].as_str().unwrap().to_owned(), code));
            }
            match r.body["nextLink"].as_str() {
                Some(n) => {
                    assert!(n.contains("instanceView"), "the expansion is kept: {n}");
                    url = n.to_owned();
                }
                None => break,
            }
        }
        let want: Vec<(String, String)> = (1..=5)
            .map(|i| {
                let state = if i == 3 { "deallocated" } else { "running" };
                (format!("vm-{i:05}"), format!("PowerState/{state}"))
            })
            .collect();
        assert_eq!(powers, want, "{list}");
        let plain = az.get(&list, COMPUTE).await;
        assert!(plain.body["value"][0]["properties"]
            .get("instanceView")
            .is_none());
    }
}
