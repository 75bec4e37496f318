//! Drives the fake over HTTP with reqwest, service by service.

use std::time::Duration;

use futures::StreamExt;
use hybrid_fake_openstack::{FakeOpenStack, FakeOpenStackBuilder, Lifecycle};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

struct Os {
    fake: FakeOpenStack,
    http: reqwest::Client,
    token: String,
    project: String,
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn password_auth(user: &str, password: &str, project: &str) -> Value {
    json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}
    }})
}

async fn send(
    http: &reqwest::Client,
    method: Method,
    url: impl Into<String>,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let url: String = url.into();
    let mut r = http.request(method, url);
    if let Some(t) = token {
        r = r.header("X-Auth-Token", t);
    }
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    let resp = r.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

impl Os {
    async fn start(b: FakeOpenStackBuilder) -> Os {
        let fake = b.start().await.expect("start");
        let http = reqwest::Client::new();
        let r = send(
            &http,
            Method::POST,
            &format!("{}/auth/tokens", fake.auth_url()),
            None,
            Some(&password_auth("admin", "secret", "admin")),
            &[],
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let token = r.header("x-subject-token").expect("token").to_owned();
        let project = r.body["token"]["project"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        Os {
            fake,
            http,
            token,
            project,
        }
    }

    async fn call(
        &self,
        m: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = format!("{}{path}", self.fake.url());
        send(
            &self.http,
            m,
            &url,
            Some(&self.token),
            body.as_ref(),
            headers,
        )
        .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body), &[]).await
    }

    async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body), &[]).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None, &[]).await
    }

    async fn nova(
        &self,
        m: Method,
        path: impl Into<String>,
        body: Option<Value>,
        mv: &str,
    ) -> Reply {
        let path: String = path.into();
        let h = format!("compute {mv}");
        self.call(
            m,
            &format!("/compute/v2.1{path}"),
            body,
            &[("OpenStack-API-Version", &h)],
        )
        .await
    }

    fn vol(&self, path: &str) -> String {
        format!("/volume/v3/{}{path}", self.project)
    }

    /// Polls a resource until `field` equals `want` (bounded).
    async fn wait_for(&self, path: &str, key: &str, field: &str, want: &str) -> Value {
        for _ in 0..50 {
            let r = self.get(path).await;
            if r.body[key][field] == want {
                return r.body[key].clone();
            }
        }
        panic!("{path} never reached {field}={want}");
    }

    async fn create_server(&self, name: &str, mv: &str, extra: Value) -> String {
        let mut s = json!({"name": name, "flavorRef": "1", "imageRef": self.image_id().await, "networks": "none"});
        if let Some(o) = extra.as_object() {
            for (k, v) in o {
                s[k] = v.clone();
            }
        }
        let r = self
            .nova(Method::POST, "/servers", Some(json!({"server": s})), mv)
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        r.body["server"]["id"].as_str().unwrap().to_owned()
    }

    async fn image_id(&self) -> String {
        let r = self
            .get("/image/v2/images?name=cirros-0.6.2-x86_64-disk")
            .await;
        r.body["images"][0]["id"].as_str().unwrap().to_owned()
    }
}

// ---- Keystone ------------------------------------------------------------------

#[tokio::test]
async fn keystone_password_token_and_catalog() {
    let fake = FakeOpenStack::builder()
        .region("RegionTwo")
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/auth/tokens", fake.auth_url());
    let r = send(
        &http,
        Method::POST,
        &url,
        None,
        Some(&password_auth("admin", "secret", "admin")),
        &[],
    )
    .await;
    assert_eq!(r.status, 201);
    assert!(r.header("x-subject-token").is_some());
    assert!(r
        .header("x-openstack-request-id")
        .unwrap()
        .starts_with("req-"));
    let t = &r.body["token"];
    for k in [
        "expires_at",
        "issued_at",
        "methods",
        "user",
        "project",
        "catalog",
        "roles",
    ] {
        assert!(t.get(k).is_some(), "token lacks {k}");
    }
    assert_eq!(t["methods"], json!(["password"]));
    assert_eq!(t["user"]["name"], "admin");
    assert_eq!(t["user"]["domain"]["id"], "default");
    assert!(t["expires_at"].as_str().unwrap().ends_with(".000000Z"));
    let project = t["project"]["id"].as_str().unwrap();
    assert_eq!(project, fake.project_id());
    let catalog = t["catalog"].as_array().unwrap();
    let find = |ty: &str| {
        catalog
            .iter()
            .find(|s| s["type"] == ty)
            .unwrap_or_else(|| panic!("no {ty}"))
    };
    let base = fake.url();
    for (ty, url) in [
        ("compute", format!("{base}/compute/v2.1")),
        ("network", format!("{base}/network")),
        ("volumev3", format!("{base}/volume/v3/{project}")),
        ("block-storage", format!("{base}/volume/v3/{project}")),
        ("image", format!("{base}/image")),
        ("identity", format!("{base}/identity")),
    ] {
        let eps = find(ty)["endpoints"].as_array().unwrap();
        assert_eq!(eps.len(), 3);
        let mut ifaces: Vec<&str> = eps
            .iter()
            .map(|e| e["interface"].as_str().unwrap())
            .collect();
        ifaces.sort();
        assert_eq!(ifaces, ["admin", "internal", "public"]);
        for e in eps {
            assert_eq!(e["url"], url.as_str());
            assert_eq!(e["region"], "RegionTwo");
            assert_eq!(e["region_id"], "RegionTwo");
        }
    }

    // Wrong password: Keystone's 401 body.
    let bad = send(
        &http,
        Method::POST,
        &url,
        None,
        Some(&password_auth("admin", "nope", "admin")),
        &[],
    )
    .await;
    assert_eq!(bad.status, 401);
    assert_eq!(
        bad.body,
        json!({"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}})
    );
    // Unknown project.
    let bad = send(
        &http,
        Method::POST,
        &url,
        None,
        Some(&password_auth("admin", "secret", "other")),
        &[],
    )
    .await;
    assert_eq!(bad.status, 401);
    // Malformed JSON.
    let raw = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let v: Value = raw.json().await.unwrap();
    assert_eq!(v["error"]["code"], 400);

    // Project by id, user by id.
    let user_id = t["user"]["id"].as_str().unwrap();
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": user_id, "password": "secret"}}},
        "scope": {"project": {"id": project}}}});
    let r2 = send(&http, Method::POST, &url, None, Some(&body), &[]).await;
    assert_eq!(r2.status, 201);
    assert_eq!(r2.body["token"]["project"]["name"], "admin");

    // Token method rescoping keeps the expiry; validation via GET.
    let tok = r.header("x-subject-token").unwrap().to_owned();
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": tok}}, "scope": {"project": {"id": project}}}});
    let r3 = send(&http, Method::POST, &url, None, Some(&body), &[]).await;
    assert_eq!(r3.status, 201);
    assert_eq!(r3.body["token"]["methods"], json!(["token"]));
    assert_eq!(r3.body["token"]["expires_at"], t["expires_at"]);
    let v = send(
        &http,
        Method::GET,
        &url,
        Some(&tok),
        None,
        &[("X-Subject-Token", r3.header("x-subject-token").unwrap())],
    )
    .await;
    assert_eq!(v.status, 200);
    assert_eq!(v.body["token"]["project"]["id"], project);
    let missing = send(
        &http,
        Method::GET,
        &url,
        Some(&tok),
        None,
        &[("X-Subject-Token", "nope")],
    )
    .await;
    assert_eq!(missing.status, 404);

    // Unscoped: no catalog.
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "secret"}}}}});
    let r4 = send(&http, Method::POST, &url, None, Some(&body), &[]).await;
    assert_eq!(r4.status, 201);
    assert!(r4.body["token"].get("catalog").is_none());
    assert!(r4.body["token"].get("project").is_none());
    assert_eq!(fake.token_requests(), 7);
}

#[tokio::test]
async fn keystone_application_credentials() {
    let fake = FakeOpenStack::builder()
        .user("alice", "wonderland")
        .project("demo")
        .application_credential("ac-1", "monitoring", "s3cret", "alice")
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/auth/tokens", fake.auth_url());
    let by_id = json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "ac-1", "secret": "s3cret"}}}});
    let r = send(&http, Method::POST, &url, None, Some(&by_id), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["token"]["application_credential"]["id"], "ac-1");
    assert_eq!(r.body["token"]["project"]["name"], "demo");
    assert_eq!(r.body["token"]["user"]["name"], "alice");
    let by_name = json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "name": "monitoring", "secret": "s3cret", "user": {"name": "alice", "domain": {"name": "Default"}}}}}});
    assert_eq!(
        send(&http, Method::POST, &url, None, Some(&by_name), &[])
            .await
            .status,
        201
    );
    let wrong = json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "ac-1", "secret": "x"}}}});
    assert_eq!(
        send(&http, Method::POST, &url, None, Some(&wrong), &[])
            .await
            .status,
        401
    );
    // The default user is gone once users are configured.
    assert_eq!(
        send(
            &http,
            Method::POST,
            &url,
            None,
            Some(&password_auth("admin", "secret", "demo")),
            &[]
        )
        .await
        .status,
        401
    );
    assert_eq!(
        send(
            &http,
            Method::POST,
            &url,
            None,
            Some(&password_auth("alice", "wonderland", "demo")),
            &[]
        )
        .await
        .status,
        201
    );
    assert!(fake.clouds_yaml("x").contains("username: alice"));
}

#[tokio::test]
async fn tokens_required_revoked_and_expiring() {
    let os = Os::start(FakeOpenStack::builder().token_ttl(Duration::from_millis(400))).await;
    let unauth = send(
        &os.http,
        Method::GET,
        &format!("{}/compute/v2.1/servers", os.fake.url()),
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(unauth.status, 401);
    assert_eq!(unauth.body["error"]["title"], "Unauthorized");
    assert!(unauth
        .header("www-authenticate")
        .unwrap()
        .starts_with("Keystone uri="));
    assert_eq!(os.get("/compute/v2.1/servers").await.status, 200);
    // Version documents need no token.
    assert_eq!(
        send(
            &os.http,
            Method::GET,
            &format!("{}/compute/v2.1/", os.fake.url()),
            None,
            None,
            &[]
        )
        .await
        .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(os.get("/network/v2.0/networks").await.status, 401);

    let os = Os::start(FakeOpenStack::builder()).await;
    assert_eq!(os.get("/image/v2/images").await.status, 200);
    os.fake.revoke_tokens();
    let r = os.get("/image/v2/images").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], 401);
}

#[tokio::test]
async fn version_documents() {
    let fake = FakeOpenStack::builder()
        .nova_max_microversion(2, 90)
        .cinder_max_microversion(3, 66)
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let get = |p: &str| {
        send(
            &http,
            Method::GET,
            format!("{}{p}", fake.url()),
            None,
            None,
            &[],
        )
    };
    let r = get("/identity").await;
    assert_eq!(r.status, 300);
    assert_eq!(r.body["versions"]["values"][0]["id"], "v3.14");
    let r = get("/identity/v3").await;
    assert_eq!(r.body["version"]["status"], "stable");
    let r = get("/compute/").await;
    assert_eq!(r.body["versions"][1]["version"], "2.90");
    let r = get("/compute/v2.1/").await;
    assert_eq!(r.body["version"]["min_version"], "2.1");
    assert_eq!(r.body["version"]["version"], "2.90");
    let r = get("/network/").await;
    assert_eq!(r.body["versions"][0]["id"], "v2.0");
    let r = get("/volume/").await;
    assert_eq!(r.status, 300);
    assert_eq!(r.body["versions"][0]["version"], "3.66");
    let r = get("/image/versions").await;
    assert_eq!(r.body["versions"][0]["id"], "v2.16");
    assert_eq!(r.body["versions"][0]["status"], "CURRENT");
}

// ---- Nova ----------------------------------------------------------------------

#[tokio::test]
async fn nova_microversion_negotiation() {
    let os = Os::start(FakeOpenStack::builder()).await;
    let r = os.get("/compute/v2.1/servers").await;
    assert_eq!(r.header("openstack-api-version"), Some("compute 2.1"));
    assert_eq!(r.header("x-openstack-nova-api-version"), Some("2.1"));
    assert!(r
        .header("x-compute-request-id")
        .unwrap()
        .starts_with("req-"));
    let r = os.nova(Method::GET, "/servers", None, "2.94").await;
    assert_eq!(r.status, 406);
    assert!(r.body["computeFault"]["message"]
        .as_str()
        .unwrap()
        .contains("maximum is 2.93"));
    let r = os.nova(Method::GET, "/servers", None, "latest").await;
    assert_eq!(r.header("openstack-api-version"), Some("compute 2.93"));
    let r = os.nova(Method::GET, "/servers", None, "two").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["badRequest"]["code"], 400);
    let r = os
        .call(
            Method::GET,
            "/compute/v2.1/servers",
            None,
            &[("X-OpenStack-Nova-API-Version", "2.47")],
        )
        .await;
    assert_eq!(r.header("openstack-api-version"), Some("compute 2.47"));
}

#[tokio::test]
async fn nova_server_lifecycle_and_shapes() {
    let os = Os::start(FakeOpenStack::builder()).await;
    // Validation.
    let r = os.nova(Method::POST, "/servers", Some(json!({"server": {"name": "x", "flavorRef": "nope", "imageRef": os.image_id().await, "networks": "none"}})), "2.60").await;
    assert_eq!(r.status, 400);
    assert!(r.body["badRequest"]["message"]
        .as_str()
        .unwrap()
        .contains("Flavor nope"));
    let r = os.nova(Method::POST, "/servers", Some(json!({"server": {"flavorRef": "1", "imageRef": os.image_id().await, "networks": "none"}})), "2.60").await;
    assert_eq!(r.status, 400);
    let r = os
        .nova(
            Method::POST,
            "/servers",
            Some(
                json!({"server": {"name": "x", "flavorRef": "1", "imageRef": os.image_id().await}}),
            ),
            "2.60",
        )
        .await;
    assert_eq!(r.status, 400, "networks is required from 2.37");
    let r = os.nova(Method::POST, "/servers", Some(json!({"server": {"name": "x", "flavorRef": "1", "imageRef": os.image_id().await, "networks": "none", "tags": ["a"]}})), "2.51").await;
    assert_eq!(r.status, 400, "tags need 2.52");
    let raw = os
        .http
        .post(format!("{}/compute/v2.1/servers", os.fake.url()))
        .header("X-Auth-Token", &os.token)
        .body("{bad json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let v: Value = raw.json().await.unwrap();
    assert_eq!(v["badRequest"]["message"], "Malformed request body");

    // Create: 202 and the short body.
    let r = os.nova(Method::POST, "/servers", Some(json!({"server": {"name": "web-1", "flavorRef": "2", "imageRef": os.image_id().await, "networks": "none", "tags": ["a", "b"]}})), "2.52").await;
    assert_eq!(r.status, 202);
    let s = &r.body["server"];
    for k in [
        "id",
        "links",
        "adminPass",
        "OS-DCF:diskConfig",
        "security_groups",
    ] {
        assert!(s.get(k).is_some(), "create body lacks {k}");
    }
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s["links"][0]["href"],
        format!("{}/compute/v2.1/servers/{id}", os.fake.url())
    );

    // BUILD once, then ACTIVE.
    let r = os
        .nova(Method::GET, &format!("/servers/{id}"), None, "2.1")
        .await;
    assert_eq!(r.body["server"]["status"], "BUILD");
    let r = os
        .nova(Method::GET, &format!("/servers/{id}"), None, "2.1")
        .await;
    let srv = &r.body["server"];
    assert_eq!(srv["status"], "ACTIVE");
    assert_eq!(srv["flavor"]["id"], "2");
    assert!(srv["flavor"].get("vcpus").is_none());
    assert!(srv.get("tags").is_none());
    assert!(srv.get("locked").is_none());
    assert_eq!(srv["OS-EXT-STS:vm_state"], "active");
    assert_eq!(srv["OS-EXT-STS:power_state"], 1);
    let r = os
        .nova(Method::GET, &format!("/servers/{id}"), None, "2.93")
        .await;
    let srv = &r.body["server"];
    assert_eq!(
        srv["flavor"],
        json!({"original_name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20, "ephemeral": 0, "swap": 0, "extra_specs": {}})
    );
    assert_eq!(srv["tags"], json!(["a", "b"]));
    assert_eq!(srv["locked"], false);
    assert_eq!(srv["host_status"], "UP");

    // Actions.
    let act = |body: Value| {
        os.nova(
            Method::POST,
            format!("/servers/{id}/action"),
            Some(body),
            "2.93",
        )
    };
    let r = act(json!({"os-start": null})).await;
    assert_eq!(r.status, 409);
    assert!(r.body["conflictingRequest"]["message"]
        .as_str()
        .unwrap()
        .contains("vm_state active"));
    assert_eq!(act(json!({"os-stop": null})).await.status, 202);
    assert_eq!(
        act(json!({"os-stop": null})).await.status,
        409,
        "task in progress"
    );
    os.wait_for(
        &format!("/compute/v2.1/servers/{id}"),
        "server",
        "status",
        "SHUTOFF",
    )
    .await;
    assert_eq!(act(json!({"os-stop": null})).await.status, 409);
    assert_eq!(act(json!({"reboot": {"type": "SOFT"}})).await.status, 409);
    assert_eq!(act(json!({"os-start": null})).await.status, 202);
    os.wait_for(
        &format!("/compute/v2.1/servers/{id}"),
        "server",
        "status",
        "ACTIVE",
    )
    .await;
    assert_eq!(act(json!({"reboot": {"type": "SOFT"}})).await.status, 202);
    let r = os.get(&format!("/compute/v2.1/servers/{id}")).await;
    assert_eq!(r.body["server"]["status"], "REBOOT");
    os.wait_for(
        &format!("/compute/v2.1/servers/{id}"),
        "server",
        "status",
        "ACTIVE",
    )
    .await;
    assert_eq!(act(json!({"reboot": {"type": "HARD"}})).await.status, 202);
    assert_eq!(
        os.get(&format!("/compute/v2.1/servers/{id}")).await.body["server"]["status"],
        "HARD_REBOOT"
    );
    os.wait_for(
        &format!("/compute/v2.1/servers/{id}"),
        "server",
        "status",
        "ACTIVE",
    )
    .await;
    assert_eq!(act(json!({"reboot": {"type": "WARM"}})).await.status, 400);
    assert_eq!(
        act(json!({"resize": {"flavorRef": "2"}})).await.status,
        400,
        "same flavor"
    );
    assert_eq!(act(json!({"resize": {"flavorRef": "3"}})).await.status, 202);
    assert_eq!(
        os.get(&format!("/compute/v2.1/servers/{id}")).await.body["server"]["status"],
        "RESIZE"
    );
    os.wait_for(
        &format!("/compute/v2.1/servers/{id}"),
        "server",
        "status",
        "VERIFY_RESIZE",
    )
    .await;
    assert_eq!(act(json!({"confirmResize": null})).await.status, 204);
    let r = os
        .nova(Method::GET, &format!("/servers/{id}"), None, "2.47")
        .await;
    assert_eq!(r.body["server"]["status"], "ACTIVE");
    assert_eq!(r.body["server"]["flavor"]["original_name"], "m1.medium");
    assert_eq!(act(json!({"resize": {"flavorRef": "4"}})).await.status, 202);
    os.wait_for(
        &format!("/compute/v2.1/servers/{id}"),
        "server",
        "status",
        "VERIFY_RESIZE",
    )
    .await;
    assert_eq!(act(json!({"revertResize": null})).await.status, 202);
    os.wait_for(
        &format!("/compute/v2.1/servers/{id}"),
        "server",
        "status",
        "ACTIVE",
    )
    .await;
    let r = os
        .nova(Method::GET, &format!("/servers/{id}"), None, "2.47")
        .await;
    assert_eq!(r.body["server"]["flavor"]["original_name"], "m1.medium");
    assert_eq!(act(json!({"confirmResize": null})).await.status, 409);
    assert_eq!(act(json!({"frobnicate": null})).await.status, 400);

    // Update.
    let r = os
        .nova(
            Method::PUT,
            &format!("/servers/{id}"),
            Some(json!({"server": {"name": "web-renamed"}})),
            "2.93",
        )
        .await;
    assert_eq!(r.body["server"]["name"], "web-renamed");

    // Delete: 204, listed as deleting once, then 404.
    assert_eq!(
        os.delete(&format!("/compute/v2.1/servers/{id}"))
            .await
            .status,
        204
    );
    let r = os.get(&format!("/compute/v2.1/servers/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["server"]["OS-EXT-STS:task_state"], "deleting");
    let r = os.get(&format!("/compute/v2.1/servers/{id}")).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"itemNotFound": {"code": 404, "message": format!("Instance {id} could not be found.")}})
    );
    assert!(os.fake.route_count("GET", "/compute/v2.1/servers/{id}") >= 10);
    // A deleted server still works as a marker, as in Nova.
    let r = os.get(&format!("/compute/v2.1/servers?marker={id}")).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn nova_paging_filters_and_links() {
    let os = Os::start(
        FakeOpenStack::builder()
            .servers(2500)
            .lifecycle(Lifecycle::immediate()),
    )
    .await;
    // 2.5 pages of 1000 (the cap), following the next links.
    let mut url = format!("{}/compute/v2.1/servers/detail?limit=1000", os.fake.url());
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let r = send(&os.http, Method::GET, &url, Some(&os.token), None, &[]).await;
        assert_eq!(r.status, 200);
        pages += 1;
        for s in r.body["servers"].as_array().unwrap() {
            assert_eq!(s["status"], "ACTIVE");
            assert!(seen.insert(s["id"].as_str().unwrap().to_owned()));
        }
        match r.body["servers_links"].as_array() {
            Some(l) => {
                assert_eq!(l[0]["rel"], "next");
                url = l[0]["href"].as_str().unwrap().to_owned();
                assert!(url.contains("/compute/v2.1/servers/detail?limit=1000&marker="));
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 2500);
    // Newest first.
    let r = os.get("/compute/v2.1/servers?limit=2").await;
    assert_eq!(r.body["servers"][0]["name"], "server-02500");
    assert_eq!(r.body["servers"][1]["name"], "server-02499");
    assert_eq!(
        r.body["servers"][0].as_object().unwrap().len(),
        3,
        "summary has id, name, links"
    );
    // No limit: capped at max_limit, with a next link.
    let r = os.get("/compute/v2.1/servers").await;
    assert_eq!(r.body["servers"].as_array().unwrap().len(), 1000);
    assert!(r.body["servers_links"].is_array());
    // Unknown marker.
    let r = os.get("/compute/v2.1/servers?marker=nope").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["badRequest"]["message"], "marker [nope] not found");
    let r = os.get("/compute/v2.1/servers?limit=abc").await;
    assert_eq!(r.status, 400);
    // Name regex, status, tags.
    let r = os
        .get("/compute/v2.1/servers?name=server-0001%5B0-2%5D")
        .await;
    assert_eq!(r.body["servers"].as_array().unwrap().len(), 3);
    let r = os.get("/compute/v2.1/servers/detail?status=SHUTOFF").await;
    assert_eq!(r.body["servers"].as_array().unwrap().len(), 0);
    let r = os
        .nova(Method::GET, "/servers?status=BOGUS", None, "2.38")
        .await;
    assert_eq!(r.status, 400);
    let id = os
        .create_server("tagged", "2.52", json!({"tags": ["red", "blue"]}))
        .await;
    let r = os.get("/compute/v2.1/servers?tags=red,blue").await;
    assert_eq!(r.body["servers"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["servers"][0]["id"], id.as_str());
    let r = os.get("/compute/v2.1/os-hypervisors/detail").await;
    assert_eq!(r.body["hypervisors"][0]["running_vms"], 2501);
    assert_eq!(r.body["hypervisors"][0]["vcpus_used"], 2501);
    assert_eq!(r.body["hypervisors"][0]["hypervisor_type"], "QEMU");
    let r = os.get("/compute/v2.1/servers?tags-any=green,blue").await;
    assert_eq!(r.body["servers"].as_array().unwrap().len(), 1);
    let r = os.get("/compute/v2.1/servers?tags=red,green").await;
    assert_eq!(r.body["servers"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn nova_large_seed_marker_paging() {
    let os = Os::start(FakeOpenStack::builder().servers(50_000)).await;
    assert_eq!(os.fake.server_count(), 50_000);
    let r = os.get("/compute/v2.1/servers?limit=1000").await;
    let marker = r.body["servers"][999]["id"].as_str().unwrap().to_owned();
    let r = os
        .get(&format!(
            "/compute/v2.1/servers/detail?limit=3&marker={marker}"
        ))
        .await;
    let names: Vec<&str> = r.body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["server-49000", "server-48999", "server-48998"]);
}

#[tokio::test]
async fn nova_tags_and_metadata() {
    let os = Os::start(FakeOpenStack::builder().lifecycle(Lifecycle::immediate())).await;
    let id = os
        .create_server("meta", "2.93", json!({"metadata": {"a": "1"}}))
        .await;
    let t = |m: Method, p: &str, b: Option<Value>, mv: &'static str| {
        let path = format!("/servers/{id}{p}");
        let os = &os;
        async move { os.nova(m, &path, b, mv).await }
    };
    assert_eq!(
        t(Method::GET, "/tags", None, "2.25").await.status,
        404,
        "tags need 2.26"
    );
    assert_eq!(t(Method::PUT, "/tags/x", None, "2.26").await.status, 201);
    assert_eq!(t(Method::PUT, "/tags/x", None, "2.26").await.status, 204);
    assert_eq!(t(Method::GET, "/tags/x", None, "2.26").await.status, 204);
    assert_eq!(t(Method::GET, "/tags/y", None, "2.26").await.status, 404);
    let r = t(
        Method::PUT,
        "/tags",
        Some(json!({"tags": ["p", "q"]})),
        "2.26",
    )
    .await;
    assert_eq!(r.body, json!({"tags": ["p", "q"]}));
    assert_eq!(t(Method::DELETE, "/tags/p", None, "2.26").await.status, 204);
    assert_eq!(
        t(Method::GET, "/tags", None, "2.26").await.body,
        json!({"tags": ["q"]})
    );
    assert_eq!(
        t(Method::PUT, "/tags", Some(json!({"tags": ["a/b"]})), "2.26")
            .await
            .status,
        400
    );

    assert_eq!(
        t(Method::GET, "/metadata", None, "2.1").await.body,
        json!({"metadata": {"a": "1"}})
    );
    let r = t(
        Method::POST,
        "/metadata",
        Some(json!({"metadata": {"b": "2"}})),
        "2.1",
    )
    .await;
    assert_eq!(r.body, json!({"metadata": {"a": "1", "b": "2"}}));
    let r = t(
        Method::PUT,
        "/metadata",
        Some(json!({"metadata": {"c": "3"}})),
        "2.1",
    )
    .await;
    assert_eq!(r.body, json!({"metadata": {"c": "3"}}));
    let r = t(
        Method::PUT,
        "/metadata/d",
        Some(json!({"meta": {"d": "4"}})),
        "2.1",
    )
    .await;
    assert_eq!(r.body, json!({"meta": {"d": "4"}}));
    assert_eq!(
        t(
            Method::PUT,
            "/metadata/e",
            Some(json!({"meta": {"d": "4"}})),
            "2.1"
        )
        .await
        .status,
        400
    );
    assert_eq!(
        t(Method::GET, "/metadata/d", None, "2.1").await.body,
        json!({"meta": {"d": "4"}})
    );
    assert_eq!(
        t(Method::DELETE, "/metadata/d", None, "2.1").await.status,
        204
    );
    assert_eq!(t(Method::GET, "/metadata/d", None, "2.1").await.status, 404);
}

#[tokio::test]
async fn nova_flavors_keypairs_hypervisors() {
    let os = Os::start(FakeOpenStack::builder().hypervisor_type("VMware vCenter Server")).await;
    let r = os.get("/compute/v2.1/flavors").await;
    assert_eq!(r.body["flavors"].as_array().unwrap().len(), 7);
    let r = os.get("/compute/v2.1/flavors/detail?limit=3").await;
    assert_eq!(r.body["flavors"].as_array().unwrap().len(), 3);
    assert_eq!(r.body["flavors"][0]["swap"], "", "swap is '' below 2.75");
    let next = r.body["flavors_links"][0]["href"].as_str().unwrap();
    let r2 = send(&os.http, Method::GET, next, Some(&os.token), None, &[]).await;
    assert_eq!(r2.body["flavors"].as_array().unwrap().len(), 3);
    let r = os.nova(Method::GET, "/flavors/2", None, "2.75").await;
    assert_eq!(r.body["flavor"]["name"], "m1.small");
    assert_eq!(r.body["flavor"]["swap"], 0);
    assert_eq!(r.body["flavor"]["extra_specs"], json!({}));
    assert_eq!(os.get("/compute/v2.1/flavors/999").await.status, 404);

    // Key pairs: generated, imported, duplicates, 2.92 rules.
    let r = os
        .nova(
            Method::POST,
            "/os-keypairs",
            Some(json!({"keypair": {"name": "gen"}})),
            "2.1",
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["keypair"]["private_key"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN"));
    assert_eq!(
        r.body["keypair"]["fingerprint"]
            .as_str()
            .unwrap()
            .split(':')
            .count(),
        16
    );
    let pk = r.body["keypair"]["public_key"].as_str().unwrap().to_owned();
    let r = os
        .nova(
            Method::POST,
            "/os-keypairs",
            Some(json!({"keypair": {"name": "gen"}})),
            "2.1",
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["conflictingRequest"]["code"], 409);
    let r = os
        .nova(
            Method::POST,
            "/os-keypairs",
            Some(json!({"keypair": {"name": "gen2"}})),
            "2.92",
        )
        .await;
    assert_eq!(r.status, 400, "public_key is required from 2.92");
    let r = os
        .nova(
            Method::POST,
            "/os-keypairs",
            Some(json!({"keypair": {"name": "imp", "public_key": pk}})),
            "2.92",
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body["keypair"].get("private_key").is_none());
    assert_eq!(r.body["keypair"]["type"], "ssh");
    let r = os
        .nova(
            Method::POST,
            "/os-keypairs",
            Some(json!({"keypair": {"name": "bad", "public_key": "ssh-rsa !!!"}})),
            "2.92",
        )
        .await;
    assert_eq!(r.status, 400);
    let r = os.nova(Method::GET, "/os-keypairs", None, "2.35").await;
    assert_eq!(r.body["keypairs"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["keypairs"][0]["keypair"]["name"], "gen");
    let r = os.nova(Method::GET, "/os-keypairs/imp", None, "2.2").await;
    assert_eq!(r.body["keypair"]["deleted"], false);
    assert_eq!(
        os.nova(Method::DELETE, "/os-keypairs/imp", None, "2.2")
            .await
            .status,
        204
    );
    assert_eq!(
        os.nova(Method::GET, "/os-keypairs/imp", None, "2.2")
            .await
            .status,
        404
    );
    // A server with an unknown key.
    let r = os.nova(Method::POST, "/servers", Some(json!({"server": {"name": "k", "flavorRef": "1", "imageRef": os.image_id().await, "key_name": "nope"}})), "2.1").await;
    assert_eq!(r.status, 400);

    let r = os.get("/compute/v2.1/os-hypervisors/detail").await;
    assert_eq!(
        r.body["hypervisors"][0]["hypervisor_type"],
        "VMware vCenter Server"
    );
    assert_eq!(r.body["hypervisors"][0]["id"], 1);
    let r = os
        .nova(Method::GET, "/os-hypervisors/detail", None, "2.88")
        .await;
    assert!(r.body["hypervisors"][0]["id"].is_string());
    assert!(r.body["hypervisors"][0].get("vcpus").is_none());
}

#[tokio::test]
async fn server_on_network_gets_port_and_address() {
    let os = Os::start(FakeOpenStack::builder().lifecycle(Lifecycle::immediate())).await;
    let net = os
        .post(
            "/network/v2.0/networks",
            json!({"network": {"name": "app"}}),
        )
        .await;
    let net_id = net.body["network"]["id"].as_str().unwrap().to_owned();
    let r = os.nova(Method::POST, "/servers", Some(json!({"server": {"name": "n", "flavorRef": "1", "imageRef": os.image_id().await, "networks": [{"uuid": net_id}]}})), "2.93").await;
    assert_eq!(r.status, 400, "network without subnet");
    os.post(
        "/network/v2.0/subnets",
        json!({"subnet": {"network_id": net_id, "cidr": "10.1.0.0/24", "ip_version": 4}}),
    )
    .await;
    let id = os
        .create_server("n", "2.93", json!({"networks": [{"uuid": net_id}]}))
        .await;
    let r = os.get(&format!("/compute/v2.1/servers/{id}")).await;
    let addrs = &r.body["server"]["addresses"]["app"];
    assert_eq!(addrs[0]["addr"], "10.1.0.2");
    assert_eq!(addrs[0]["OS-EXT-IPS:type"], "fixed");
    let ports = os.get(&format!("/network/v2.0/ports?device_id={id}")).await;
    assert_eq!(ports.body["ports"][0]["device_owner"], "compute:nova");
    // The network is in use.
    let r = os.delete(&format!("/network/v2.0/networks/{net_id}")).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["NeutronError"]["type"], "NetworkInUse");
    assert_eq!(
        os.delete(&format!("/compute/v2.1/servers/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(
        os.get(&format!("/network/v2.0/ports?device_id={id}"))
            .await
            .body["ports"],
        json!([])
    );
    assert_eq!(
        os.delete(&format!("/network/v2.0/networks/{net_id}"))
            .await
            .status,
        204
    );
}

// ---- Cinder + Nova attachments ---------------------------------------------------

#[tokio::test]
async fn volume_lifecycle_and_attach_coordination() {
    let os = Os::start(FakeOpenStack::builder()).await;
    let server = os.create_server("vm", "2.93", json!({})).await;
    os.wait_for(
        &format!("/compute/v2.1/servers/{server}"),
        "server",
        "status",
        "ACTIVE",
    )
    .await;

    let r = os
        .post(&os.vol("/volumes"), json!({"volume": {"size": 0}}))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["badRequest"]["message"].as_str().is_some());
    let r = os
        .post(
            &os.vol("/volumes"),
            json!({"volume": {"size": 1, "name": "data", "metadata": {}}}),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body["volume"]["status"], "creating");
    let vid = r.body["volume"]["id"].as_str().unwrap().to_owned();
    let vpath = os.vol(&format!("/volumes/{vid}"));

    // Attaching a volume that is still creating fails.
    let attach = json!({"volumeAttachment": {"volumeId": vid}});
    let r = os
        .nova(
            Method::POST,
            &format!("/servers/{server}/os-volume_attachments"),
            Some(attach.clone()),
            "2.93",
        )
        .await;
    assert_eq!(r.status, 400);
    os.wait_for(&vpath, "volume", "status", "available").await;
    let r = os
        .nova(
            Method::POST,
            &format!("/servers/{server}/os-volume_attachments"),
            Some(attach.clone()),
            "2.93",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["volumeAttachment"]["device"], "/dev/vdb");
    assert_eq!(r.body["volumeAttachment"]["serverId"], server.as_str());
    let v = os.get(&vpath).await;
    assert_eq!(v.body["volume"]["status"], "attaching");
    let v = os.wait_for(&vpath, "volume", "status", "in-use").await;
    assert_eq!(v["attachments"][0]["server_id"], server.as_str());
    let r = os.get(&format!("/compute/v2.1/servers/{server}")).await;
    assert_eq!(
        r.body["server"]["os-extended-volumes:volumes_attached"][0]["id"],
        vid.as_str()
    );
    let r = os
        .nova(
            Method::GET,
            &format!("/servers/{server}/os-volume_attachments"),
            None,
            "2.93",
        )
        .await;
    assert!(r.body["volumeAttachments"][0]
        .get("attachment_id")
        .is_some());
    assert!(r.body["volumeAttachments"][0].get("id").is_none());

    // In use: cannot delete.
    let r = os.delete(&vpath).await;
    assert_eq!(r.status, 400);
    assert!(r.body["badRequest"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid volume"));

    // Detach.
    let r = os
        .delete(&format!(
            "/compute/v2.1/servers/{server}/os-volume_attachments/{vid}"
        ))
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(os.get(&vpath).await.body["volume"]["status"], "detaching");
    let v = os.wait_for(&vpath, "volume", "status", "available").await;
    assert_eq!(v["attachments"], json!([]));

    // Extend, snapshots.
    let act = os.vol(&format!("/volumes/{vid}/action"));
    assert_eq!(
        os.post(&act, json!({"os-extend": {"new_size": 1}}))
            .await
            .status,
        400
    );
    assert_eq!(
        os.post(&act, json!({"os-extend": {"new_size": 3}}))
            .await
            .status,
        202
    );
    let v = os.wait_for(&vpath, "volume", "status", "available").await;
    assert_eq!(v["size"], 3);
    let r = os
        .post(
            &os.vol("/snapshots"),
            json!({"snapshot": {"volume_id": vid, "name": "s1"}}),
        )
        .await;
    assert_eq!(r.status, 202);
    let sid = r.body["snapshot"]["id"].as_str().unwrap().to_owned();
    os.wait_for(
        &os.vol(&format!("/snapshots/{sid}")),
        "snapshot",
        "status",
        "available",
    )
    .await;
    let r = os.get(&os.vol("/snapshots/detail")).await;
    assert_eq!(
        r.body["snapshots"][0]["os-extended-snapshot-attributes:progress"],
        "100%"
    );
    assert_eq!(os.delete(&vpath).await.status, 400, "has snapshots");
    assert_eq!(
        os.delete(&os.vol(&format!("/snapshots/{sid}")))
            .await
            .status,
        202
    );
    for _ in 0..3 {
        os.get(&os.vol(&format!("/snapshots/{sid}"))).await;
    }
    assert_eq!(
        os.get(&os.vol(&format!("/snapshots/{sid}"))).await.status,
        404
    );
    assert_eq!(os.delete(&vpath).await.status, 202);
    assert_eq!(os.get(&vpath).await.body["volume"]["status"], "deleting");
    let r = os.get(&vpath).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["itemNotFound"]["message"],
        format!("Volume {vid} could not be found.")
    );
}

#[tokio::test]
async fn cinder_paging_microversions_types() {
    let os = Os::start(
        FakeOpenStack::builder()
            .volume_lifecycle(Lifecycle::immediate())
            .max_limit(2),
    )
    .await;
    for i in 0..5 {
        let r = os
            .post(
                &os.vol("/volumes"),
                json!({"volume": {"size": 1, "name": format!("v{i}")}}),
            )
            .await;
        assert_eq!(r.body["volume"]["status"], "available");
    }
    let mut url = format!("{}{}", os.fake.url(), os.vol("/volumes/detail"));
    let mut names = Vec::new();
    loop {
        let r = send(&os.http, Method::GET, &url, Some(&os.token), None, &[]).await;
        for v in r.body["volumes"].as_array().unwrap() {
            names.push(v["name"].as_str().unwrap().to_owned());
        }
        match r.body["volumes_links"][0]["href"].as_str() {
            Some(h) => url = h.to_owned(),
            None => break,
        }
    }
    assert_eq!(names, ["v4", "v3", "v2", "v1", "v0"]);
    let r = os
        .call(
            Method::GET,
            &os.vol("/volumes/detail?limit=1"),
            None,
            &[("OpenStack-API-Version", "volume 3.65")],
        )
        .await;
    assert_eq!(r.header("openstack-api-version"), Some("volume 3.65"));
    assert_eq!(r.body["volumes"][0]["consumes_quota"], true);
    assert!(r.body["volumes"][0]["volume_type_id"].is_string());
    let r = os.get(&os.vol("/volumes/detail?limit=1")).await;
    assert!(r.body["volumes"][0].get("consumes_quota").is_none());
    let r = os
        .call(
            Method::GET,
            &os.vol("/volumes"),
            None,
            &[("OpenStack-API-Version", "volume 3.99")],
        )
        .await;
    assert_eq!(r.status, 406);
    let r = os.get(&os.vol("/types")).await;
    assert_eq!(r.body["volume_types"][0]["name"], "__DEFAULT__");
    let r = os.get("/volume/v3/someoneelse/volumes").await;
    assert_eq!(r.status, 400);
    let r = os
        .post(
            &os.vol("/volumes"),
            json!({"volume": {"size": 1, "volume_type": "gold"}}),
        )
        .await;
    assert_eq!(r.status, 404);
}

// ---- Neutron ---------------------------------------------------------------------

#[tokio::test]
async fn neutron_resources() {
    let os = Os::start(FakeOpenStack::builder()).await;
    let r = os.get("/network/v2.0/extensions").await;
    let aliases: Vec<&str> = r.body["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["alias"].as_str().unwrap())
        .collect();
    assert!(aliases.contains(&"router") && aliases.contains(&"standard-attr-tag"));

    let r = os.post("/network/v2.0/networks", json!({"network": {"name": "vlan100", "provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 100, "tags": ["x"]}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let n = &r.body["network"];
    assert_eq!(n["provider:segmentation_id"], 100);
    assert_eq!(n["router:external"], false);
    assert_eq!(n["shared"], false);
    assert_eq!(n["status"], "ACTIVE");
    let net = n["id"].as_str().unwrap().to_owned();
    let r = os.post("/network/v2.0/networks", json!({"network": {"name": "dup", "provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 100}})).await;
    assert_eq!(r.status, 409);
    let r = os
        .post(
            "/network/v2.0/networks",
            json!({"network": {"provider:network_type": "flat"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["NeutronError"]["type"], "InvalidInput");
    assert_eq!(r.body["NeutronError"]["detail"], "");

    let r = os.get("/network/v2.0/networks/nope").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"NeutronError": {"type": "NetworkNotFound", "message": "Network nope could not be found.", "detail": ""}})
    );
    let r = os.get("/network/v2.0/networks?tags=x").await;
    assert_eq!(r.body["networks"].as_array().unwrap().len(), 1);
    let r = os
        .get("/network/v2.0/networks?name=vlan100&fields=id&fields=name")
        .await;
    assert_eq!(r.body["networks"][0].as_object().unwrap().len(), 2);
    let r = os.get("/network/v2.0/networks?bogus=1").await;
    assert_eq!(r.status, 400);

    let r = os.post("/network/v2.0/subnets", json!({"subnet": {"network_id": net, "cidr": "10.0.0.0/24", "ip_version": 4, "name": "sn"}})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["subnet"]["gateway_ip"], "10.0.0.1");
    assert_eq!(
        r.body["subnet"]["allocation_pools"],
        json!([{"start": "10.0.0.2", "end": "10.0.0.254"}])
    );
    let subnet = r.body["subnet"]["id"].as_str().unwrap().to_owned();
    let r = os
        .post(
            "/network/v2.0/subnets",
            json!({"subnet": {"network_id": net, "cidr": "10.0.0.128/25", "ip_version": 4}}),
        )
        .await;
    assert_eq!(r.status, 400, "overlap");
    assert_eq!(
        os.get(&format!("/network/v2.0/networks/{net}")).await.body["network"]["subnets"],
        json!([subnet])
    );

    // Security groups: two egress rules; rules; duplicates.
    let r = os
        .post(
            "/network/v2.0/security-groups",
            json!({"security_group": {"name": "web", "description": "d"}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let rules = r.body["security_group"]["security_group_rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), 2);
    assert!(rules.iter().all(|x| x["direction"] == "egress"));
    let sg = r.body["security_group"]["id"].as_str().unwrap().to_owned();
    let rule = json!({"security_group_rule": {"security_group_id": sg, "direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"}});
    let r = os
        .post("/network/v2.0/security-group-rules", rule.clone())
        .await;
    assert_eq!(r.status, 201);
    let r = os.post("/network/v2.0/security-group-rules", rule).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["NeutronError"]["type"], "SecurityGroupRuleExists");
    let r = os
        .post(
            "/network/v2.0/security-group-rules",
            json!({"security_group_rule": {"security_group_id": sg, "direction": "sideways"}}),
        )
        .await;
    assert_eq!(r.status, 400);

    // Ports.
    let r = os
        .post(
            "/network/v2.0/ports",
            json!({"port": {"network_id": net, "name": "p1", "security_groups": [sg]}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let port = r.body["port"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["port"]["fixed_ips"][0]["ip_address"], "10.0.0.2");
    assert!(r.body["port"]["mac_address"]
        .as_str()
        .unwrap()
        .starts_with("fa:16:3e:"));
    let r = os
        .post(
            "/network/v2.0/ports",
            json!({"port": {"network_id": net, "fixed_ips": [{"ip_address": "10.0.0.2"}]}}),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = os
        .delete(&format!("/network/v2.0/security-groups/{sg}"))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["NeutronError"]["type"], "SecurityGroupInUse");
    let r = os.delete(&format!("/network/v2.0/subnets/{subnet}")).await;
    assert_eq!(r.status, 409);
    let r = os
        .put(
            &format!("/network/v2.0/ports/{port}"),
            json!({"port": {"name": "renamed"}}),
        )
        .await;
    assert_eq!(r.body["port"]["name"], "renamed");
    assert_eq!(r.body["port"]["revision_number"], 1);
    let r = os
        .put(
            &format!("/network/v2.0/ports/{port}"),
            json!({"port": {"network_id": "x"}}),
        )
        .await;
    assert_eq!(r.status, 400);

    // Router, interface, floating IP.
    let public = os
        .get("/network/v2.0/networks?router:external=true")
        .await
        .body["networks"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = os
        .post(
            "/network/v2.0/routers",
            json!({"router": {"name": "r1", "external_gateway_info": {"network_id": net}}}),
        )
        .await;
    assert_eq!(r.status, 400, "not external");
    let r = os
        .post(
            "/network/v2.0/routers",
            json!({"router": {"name": "r1", "external_gateway_info": {"network_id": public}}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let router = r.body["router"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body["router"]["external_gateway_info"]["network_id"],
        public.as_str()
    );
    let r = os
        .post(
            "/network/v2.0/floatingips",
            json!({"floatingip": {"floating_network_id": public}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let fip = r.body["floatingip"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["floatingip"]["status"], "DOWN");
    let r = os
        .put(
            &format!("/network/v2.0/floatingips/{fip}"),
            json!({"floatingip": {"port_id": port}}),
        )
        .await;
    assert_eq!(r.status, 404, "subnet not reachable yet");
    assert_eq!(
        r.body["NeutronError"]["type"],
        "ExternalGatewayForFloatingIPNotFound"
    );
    let r = os
        .put(
            &format!("/network/v2.0/routers/{router}/add_router_interface"),
            json!({"subnet_id": subnet}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["subnet_id"], subnet.as_str());
    let r = os
        .put(
            &format!("/network/v2.0/floatingips/{fip}"),
            json!({"floatingip": {"port_id": port}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["floatingip"]["fixed_ip_address"], "10.0.0.2");
    assert_eq!(r.body["floatingip"]["router_id"], router.as_str());
    assert_eq!(
        os.delete(&format!("/network/v2.0/routers/{router}"))
            .await
            .status,
        409
    );
    let r = os
        .put(
            &format!("/network/v2.0/routers/{router}/remove_router_interface"),
            json!({"subnet_id": subnet}),
        )
        .await;
    assert_eq!(r.status, 409, "used by the floating IP");
    let r = os
        .put(
            &format!("/network/v2.0/floatingips/{fip}"),
            json!({"floatingip": {"port_id": null}}),
        )
        .await;
    assert_eq!(r.body["floatingip"]["port_id"], Value::Null);
    assert_eq!(
        os.put(
            &format!("/network/v2.0/routers/{router}/remove_router_interface"),
            json!({"subnet_id": subnet})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        os.delete(&format!("/network/v2.0/floatingips/{fip}"))
            .await
            .status,
        204
    );
    assert_eq!(
        os.delete(&format!("/network/v2.0/routers/{router}"))
            .await
            .status,
        204
    );
    assert_eq!(
        os.delete(&format!("/network/v2.0/ports/{port}"))
            .await
            .status,
        204
    );
    assert_eq!(
        os.delete(&format!("/network/v2.0/security-groups/{sg}"))
            .await
            .status,
        204
    );
    assert_eq!(
        os.delete(&format!("/network/v2.0/networks/{net}"))
            .await
            .status,
        204
    );

    // Tags API.
    let r = os
        .put(
            &format!("/network/v2.0/networks/{public}/tags"),
            json!({"tags": ["a", "b"]}),
        )
        .await;
    assert_eq!(r.body, json!({"tags": ["a", "b"]}));
    assert_eq!(
        os.call(
            Method::PUT,
            &format!("/network/v2.0/networks/{public}/tags/c"),
            None,
            &[]
        )
        .await
        .status,
        201
    );
    assert_eq!(
        os.get(&format!("/network/v2.0/networks/{public}/tags/c"))
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn neutron_paging_links() {
    let os = Os::start(FakeOpenStack::builder()).await;
    for i in 0..5 {
        os.post(
            "/network/v2.0/networks",
            json!({"network": {"name": format!("n{i}")}}),
        )
        .await;
    }
    let mut url = format!("{}/network/v2.0/networks?limit=2", os.fake.url());
    let mut ids = Vec::new();
    loop {
        let r = send(&os.http, Method::GET, &url, Some(&os.token), None, &[]).await;
        for n in r.body["networks"].as_array().unwrap() {
            ids.push(n["id"].as_str().unwrap().to_owned());
        }
        let next = r.body["networks_links"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["rel"] == "next"))
            .and_then(|x| x["href"].as_str());
        match next {
            Some(h) => url = h.to_owned(),
            None => break,
        }
    }
    assert_eq!(ids.len(), 6, "five plus the seeded public network");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "id order");
}

#[tokio::test]
async fn neutron_extension_profile_without_router() {
    let os = Os::start(
        FakeOpenStack::builder()
            .neutron_extensions(
                hybrid_fake_openstack::VSPHERE_DVS_EXTENSIONS
                    .iter()
                    .copied(),
            )
            .hypervisor_type("VMware vCenter Server"),
    )
    .await;
    assert_eq!(os.get("/network/v2.0/routers").await.status, 404);
    assert_eq!(os.get("/network/v2.0/security-groups").await.status, 404);
    assert_eq!(os.get("/network/v2.0/networks").await.status, 200);
    let r = os.get("/network/v2.0/extensions").await;
    assert!(!r.body["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["alias"] == "router"));
    let id = os.create_server("no-sg", "2.93", json!({})).await;
    assert_eq!(
        os.get(&format!("/compute/v2.1/servers/{id}")).await.status,
        200
    );
}

// ---- Glance ----------------------------------------------------------------------

fn chunked(data: Vec<u8>, chunk: usize) -> reqwest::Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        data.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
    reqwest::Body::wrap_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn glance_upload_download_round_trip() {
    let os = Os::start(FakeOpenStack::builder()).await;
    let r = os.post("/image/v2/images", json!({"name": "big", "disk_format": "raw", "container_format": "bare", "os_distro": "debian"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "queued");
    assert_eq!(r.body["os_distro"], "debian");
    assert_eq!(r.body["size"], Value::Null);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["file"], format!("/v2/images/{id}/file"));

    // No data yet: 204.
    assert_eq!(
        os.get(&format!("/image/v2/images/{id}/file")).await.status,
        204
    );

    // 5 MiB in 64 KiB chunks.
    let data: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let url = format!("{}/image/v2/images/{id}/file", os.fake.url());
    let r = os
        .http
        .put(&url)
        .header("X-Auth-Token", &os.token)
        .header("Content-Type", "application/octet-stream")
        .body(chunked(data.clone(), 65_536))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let img = os.get(&format!("/image/v2/images/{id}")).await.body;
    assert_eq!(img["status"], "active");
    assert_eq!(img["size"], data.len());
    assert_eq!(img["virtual_size"], data.len());
    assert_eq!(img["os_hash_algo"], "sha512");
    assert_eq!(img["checksum"].as_str().unwrap().len(), 32);
    assert_eq!(img["os_hash_value"].as_str().unwrap().len(), 128);

    // A second upload is refused.
    let r = os
        .http
        .put(&url)
        .header("X-Auth-Token", &os.token)
        .header("Content-Type", "application/octet-stream")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);

    // Download in several frames.
    let resp = os
        .http
        .get(&url)
        .header("X-Auth-Token", &os.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-md5"],
        img["checksum"].as_str().unwrap()
    );
    assert_eq!(resp.content_length(), Some(data.len() as u64));
    let mut stream = resp.bytes_stream();
    let mut got = Vec::new();
    let mut frames = 0;
    while let Some(c) = stream.next().await {
        got.extend_from_slice(&c.unwrap());
        frames += 1;
    }
    assert!(frames > 1);
    assert!(got == data, "round trip");

    // Known digests.
    let r = os
        .post(
            "/image/v2/images",
            json!({"name": "abc", "disk_format": "qcow2", "container_format": "bare"}),
        )
        .await;
    let small = r.body["id"].as_str().unwrap().to_owned();
    let r = os
        .http
        .put(format!("{}/image/v2/images/{small}/file", os.fake.url()))
        .header("X-Auth-Token", &os.token)
        .header("Content-Type", "application/octet-stream")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let img = os.get(&format!("/image/v2/images/{small}")).await.body;
    assert_eq!(img["checksum"], "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(img["os_hash_value"], "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    assert_eq!(img["virtual_size"], Value::Null);
}

#[tokio::test]
async fn glance_patch_list_errors() {
    let os = Os::start(FakeOpenStack::builder()).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let r = os
            .post(
                "/image/v2/images",
                json!({"name": format!("img{i}"), "tags": ["t"]}),
            )
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let r = os
        .post(
            "/image/v2/images",
            json!({"name": "x", "disk_format": "floppy"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.starts_with("400 Bad Request"));
    let r = os
        .post("/image/v2/images", json!({"name": "x", "status": "active"}))
        .await;
    assert_eq!(r.status, 403);
    let r = os
        .get("/image/v2/images/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(r.status, 404);
    assert!(r.text.starts_with(
        "404 Not Found\n\nNo image found with ID 00000000-0000-0000-0000-000000000000"
    ));

    // Paging with relative next links.
    let r = os.get("/image/v2/images?limit=2").await;
    assert_eq!(r.body["images"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["images"][0]["name"], "img3");
    let next = r.body["next"].as_str().unwrap().to_owned();
    assert!(next.starts_with("/v2/images?limit=2&marker="));
    let r = os.get(&format!("/image{next}")).await;
    assert_eq!(r.body["images"][0]["name"], "img1");
    let r = os.get("/image/v2/images?sort=name:asc&limit=1").await;
    assert_eq!(r.body["images"][0]["name"], "cirros-0.6.2-x86_64-disk");
    let r = os.get("/image/v2/images?tag=t&status=queued").await;
    assert_eq!(r.body["images"].as_array().unwrap().len(), 4);

    // JSON patch.
    let patch = json!([{"op": "replace", "path": "/name", "value": "renamed"}, {"op": "add", "path": "/hw_disk_bus", "value": "scsi"}, {"op": "replace", "path": "/tags", "value": ["a"]}]);
    let url = format!("{}/image/v2/images/{}", os.fake.url(), ids[0]);
    let r = os
        .http
        .patch(&url)
        .header("X-Auth-Token", &os.token)
        .header(
            "Content-Type",
            "application/openstack-images-v2.1-json-patch",
        )
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["name"], "renamed");
    assert_eq!(v["hw_disk_bus"], "scsi");
    assert_eq!(v["tags"], json!(["a"]));
    let r = os
        .http
        .patch(&url)
        .header("X-Auth-Token", &os.token)
        .header("Content-Type", "application/json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let bad = json!([{"op": "remove", "path": "/nope"}]);
    let r = os
        .http
        .patch(&url)
        .header("X-Auth-Token", &os.token)
        .header(
            "Content-Type",
            "application/openstack-images-v2.1-json-patch",
        )
        .body(bad.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let prot = json!([{"op": "replace", "path": "/protected", "value": true}]);
    os.http
        .patch(&url)
        .header("X-Auth-Token", &os.token)
        .header(
            "Content-Type",
            "application/openstack-images-v2.1-json-patch",
        )
        .body(prot.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        os.delete(&format!("/image/v2/images/{}", ids[0]))
            .await
            .status,
        403
    );
    assert_eq!(
        os.delete(&format!("/image/v2/images/{}", ids[1]))
            .await
            .status,
        204
    );
    assert_eq!(
        os.get(&format!("/image/v2/images/{}", ids[1])).await.status,
        404
    );

    let r = os.get("/image/v2/info/import").await;
    assert_eq!(
        r.body["import-methods"]["value"],
        json!(["glance-direct", "web-download"])
    );
    let r = os.get("/image/v2/info/stores").await;
    assert_eq!(r.body["stores"][0]["default"], true);
}

#[tokio::test]
async fn glance_import_methods() {
    let os = Os::start(FakeOpenStack::builder()).await;
    // A tiny loopback HTTP server with the image bytes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let payload = vec![7u8; 300_000];
    let served = payload.clone();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                served.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(&served).await;
        }
    });
    let r = os
        .post(
            "/image/v2/images",
            json!({"name": "web", "disk_format": "raw", "container_format": "bare"}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = os
        .post(
            &format!("/image/v2/images/{id}/import"),
            json!({"method": {"name": "web-download", "uri": "https://example.com/x.img"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("does not pass filtering"));
    let r = os.post(&format!("/image/v2/images/{id}/import"), json!({"method": {"name": "web-download", "uri": format!("http://127.0.0.1:{port}/x.img")}})).await;
    assert_eq!(r.status, 202);
    let mut img = Value::Null;
    for _ in 0..200 {
        img = os.get(&format!("/image/v2/images/{id}")).await.body;
        if img["status"] == "active" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(img["status"], "active");
    assert_eq!(img["size"], payload.len());
    server.await.unwrap();

    // glance-direct: stage, then import.
    let r = os
        .post(
            "/image/v2/images",
            json!({"name": "direct", "disk_format": "raw", "container_format": "bare"}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = os
        .post(
            &format!("/image/v2/images/{id}/import"),
            json!({"method": {"name": "glance-direct"}}),
        )
        .await;
    assert_eq!(r.status, 409, "not staged");
    let r = os
        .http
        .put(format!("{}/image/v2/images/{id}/stage", os.fake.url()))
        .header("X-Auth-Token", &os.token)
        .header("Content-Type", "application/octet-stream")
        .body(vec![1u8; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        os.get(&format!("/image/v2/images/{id}")).await.body["status"],
        "uploading"
    );
    assert_eq!(
        os.post(
            &format!("/image/v2/images/{id}/import"),
            json!({"method": {"name": "glance-direct"}})
        )
        .await
        .status,
        202
    );
    assert_eq!(
        os.get(&format!("/image/v2/images/{id}")).await.body["status"],
        "importing"
    );
    let img = os.get(&format!("/image/v2/images/{id}")).await.body;
    assert_eq!(img["status"], "active");
    assert_eq!(img["size"], 1000);
}

// ---- Faults, counters, latency ---------------------------------------------------

#[tokio::test]
async fn faults_counters_and_latency() {
    let os = Os::start(FakeOpenStack::builder().fail_next(
        "GET",
        "/network/v2.0/networks",
        500,
        1,
        None,
    ))
    .await;
    let r = os.get("/network/v2.0/networks").await;
    assert_eq!(r.status, 500);
    assert_eq!(r.body["NeutronError"]["type"], "HTTPInternalServerError");
    assert_eq!(os.get("/network/v2.0/networks").await.status, 200);

    os.fake.fail_next(
        "*",
        "/compute/v2.1/servers",
        503,
        2,
        Some(Duration::from_secs(3)),
    );
    let r = os.get("/compute/v2.1/servers/detail").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("3"));
    assert_eq!(r.body["serviceUnavailable"]["code"], 503);
    assert_eq!(
        os.post("/compute/v2.1/servers", json!({})).await.status,
        503
    );
    assert_eq!(os.get("/compute/v2.1/servers/detail").await.status, 200);

    os.fake.fail_next(
        "POST",
        "/identity/v3/auth/tokens",
        429,
        1,
        Some(Duration::from_secs(1)),
    );
    let r = send(
        &os.http,
        Method::POST,
        &format!("{}/auth/tokens", os.fake.auth_url()),
        None,
        Some(&password_auth("admin", "secret", "admin")),
        &[],
    )
    .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["error"]["code"], 429);

    os.fake.fail_next("GET", "/image/v2/images", 502, 1, None);
    let r = os.get("/image/v2/images").await;
    assert_eq!(r.status, 502);
    assert!(r.text.starts_with("502 Bad Gateway"));

    os.fake.drop_next("GET", "/volume", 1);
    let err = os
        .http
        .get(format!("{}{}", os.fake.url(), os.vol("/volumes")))
        .header("X-Auth-Token", &os.token)
        .send()
        .await;
    assert!(err.is_err(), "connection dropped");
    assert_eq!(os.get(&os.vol("/volumes")).await.status, 200);

    os.fake.fail_next_builds(1);
    let id = os.create_server("doomed", "2.93", json!({})).await;
    let s = os
        .wait_for(
            &format!("/compute/v2.1/servers/{id}"),
            "server",
            "status",
            "ERROR",
        )
        .await;
    assert!(s["fault"]["message"]
        .as_str()
        .unwrap()
        .contains("No valid host"));

    let counts = os.fake.route_counts();
    assert!(counts["GET /compute/v2.1/servers/detail"] >= 2);
    assert!(os.fake.route_count("POST", "/identity/v3/auth/tokens") >= 2);
    assert!(os.fake.request_count() > 10);
    os.fake.reset_counters();
    assert_eq!(os.fake.request_count(), 0);

    os.fake.set_latency(Duration::from_millis(50));
    let t = std::time::Instant::now();
    os.get("/network/v2.0/networks").await;
    assert!(t.elapsed() >= Duration::from_millis(50));
}

#[tokio::test]
async fn malformed_bodies_are_400_everywhere() {
    let os = Os::start(FakeOpenStack::builder()).await;
    let raw = |path: String| {
        let req = os
            .http
            .post(format!("{}{path}", os.fake.url()))
            .header("X-Auth-Token", &os.token)
            .header("Content-Type", "application/json")
            .body("{{{");
        async move {
            let r = req.send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.text().await.unwrap())
        }
    };
    let (s, t) = raw("/network/v2.0/ports".into()).await;
    assert_eq!(s, 400);
    assert!(t.contains("NeutronError"));
    let (s, t) = raw(os.vol("/volumes")).await;
    assert_eq!(s, 400);
    assert!(t.contains("badRequest"));
    let (s, t) = raw("/image/v2/images".into()).await;
    assert_eq!(s, 400);
    assert!(t.starts_with("400 Bad Request"));
    let (s, _) = raw("/compute/v2.1/os-keypairs".into()).await;
    assert_eq!(s, 400);
    let r = os.get("/nowhere").await;
    assert_eq!(r.status, 404);
    let r = os.post("/compute/v2.1/servers", json!([1, 2])).await;
    assert_eq!(r.status, 400);
    let r = os
        .post("/network/v2.0/networks", json!({"network": "x"}))
        .await;
    assert_eq!(r.status, 400);
}

/// Kills the child process when dropped (also when a test assertion fails).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_serves_until_killed() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fake-openstack"))
        .args([
            "--servers",
            "5",
            "--hypervisor-type",
            "VMware vCenter Server",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = KillOnDrop(child);
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    });
    let first = tokio::time::timeout(Duration::from_secs(30), first)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let auth_url = first
        .trim()
        .strip_prefix("OS_AUTH_URL=")
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let r = send(
        &http,
        Method::POST,
        format!("{auth_url}/auth/tokens"),
        None,
        Some(&password_auth("admin", "secret", "admin")),
        &[],
    )
    .await;
    assert_eq!(r.status, 201);
    let token = r.header("x-subject-token").unwrap().to_owned();
    let compute = r.body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "compute")
        .unwrap()["endpoints"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = send(
        &http,
        Method::GET,
        format!("{compute}/servers"),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.body["servers"].as_array().unwrap().len(), 5);
    let r = send(
        &http,
        Method::GET,
        format!("{compute}/os-hypervisors/detail"),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(
        r.body["hypervisors"][0]["hypervisor_type"],
        "VMware vCenter Server"
    );
}

#[tokio::test]
async fn regions_share_keystone_but_not_resources() {
    use hybrid_fake_openstack::{RegionSpec, VSPHERE_DVS_EXTENSIONS};
    let os = Os::start(
        FakeOpenStack::builder()
            .region("kvm")
            .servers(3)
            .add_region(
                RegionSpec::new("vmw")
                    .hypervisor_type("VMware vCenter Server")
                    .neutron_extensions(VSPHERE_DVS_EXTENSIONS.iter().copied())
                    .servers(2),
            ),
    )
    .await;
    assert_eq!(os.fake.regions(), ["kvm", "vmw"]);

    // The catalog lists every service in both regions; identity is shared.
    let r = os.get("/identity/v3/auth/catalog").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let catalog = r.body["catalog"].as_array().unwrap();
    let url_of = |ty: &str, region: &str| -> String {
        let svc = catalog.iter().find(|s| s["type"] == ty).unwrap();
        svc["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["region_id"] == region && e["interface"] == "public")
            .map(|e| e["url"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let base = os.fake.url();
    assert_eq!(url_of("compute", "kvm"), format!("{base}/compute/v2.1"));
    assert_eq!(
        url_of("compute", "vmw"),
        format!("{base}/r/vmw/compute/v2.1")
    );
    assert_eq!(url_of("network", "vmw"), format!("{base}/r/vmw/network"));
    assert_eq!(url_of("identity", "vmw"), format!("{base}/identity"));

    // The same token works in both regions, each with its own state.
    let kvm = os.get("/compute/v2.1/servers").await;
    let vmw = os.get("/r/vmw/compute/v2.1/servers").await;
    assert_eq!(kvm.body["servers"].as_array().unwrap().len(), 3);
    assert_eq!(vmw.body["servers"].as_array().unwrap().len(), 2);
    assert_eq!(os.fake.server_count_in("vmw"), Some(2));
    assert_eq!(os.fake.server_count_in("nowhere"), None);
    let hv = os.get("/r/vmw/compute/v2.1/os-hypervisors/detail").await;
    assert_eq!(
        hv.body["hypervisors"][0]["hypervisor_type"], "VMware vCenter Server",
        "{}",
        hv.text
    );
    let hv = os.get("/compute/v2.1/os-hypervisors/detail").await;
    assert_eq!(hv.body["hypervisors"][0]["hypervisor_type"], "QEMU");
    let ext = os.get("/r/vmw/network/v2.0/extensions").await;
    assert!(!ext.text.contains("\"security-group\""), "{}", ext.text);
    // Links point back into the region.
    let s = os.get("/r/vmw/compute/v2.1/servers/detail?limit=1").await;
    let next = s.body["servers_links"][0]["href"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{base}/r/vmw/compute/v2.1/")),
        "{next}"
    );

    // Faults match the full path, so one region can be targeted.
    os.fake.fail_next("GET", "/r/vmw/compute", 503, 1, None);
    assert_eq!(os.get("/compute/v2.1/servers").await.status, 200);
    assert_eq!(os.get("/r/vmw/compute/v2.1/servers").await.status, 503);
    assert_eq!(os.get("/r/vmw/compute/v2.1/servers").await.status, 200);
    // An unknown region prefix is not found.
    assert_eq!(os.get("/r/nowhere/compute/v2.1/servers").await.status, 404);
}

#[tokio::test]
async fn mid_body_faults_break_the_real_answer() {
    let os = Os::start(FakeOpenStack::builder().servers(20)).await;
    os.fake
        .reset_mid_body_next("GET", "/compute/v2.1/servers/detail", 1);
    let url = format!("{}/compute/v2.1/servers/detail", os.fake.url());
    let resp = os
        .http
        .get(&url)
        .header("X-Auth-Token", &os.token)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status(), 200);
    let declared = resp.content_length().expect("a declared length");
    let err = resp.bytes().await.expect_err("the body is cut");
    assert!(err.is_body() || err.is_decode(), "{err:?}");
    assert!(declared > 1000);
    // Then the real answer again.
    assert_eq!(os.get("/compute/v2.1/servers/detail").await.status, 200);

    os.fake.stall_mid_body_next(
        "GET",
        "/compute/v2.1/servers/detail",
        Duration::from_millis(300),
        1,
    );
    let started = std::time::Instant::now();
    let r = os.get("/compute/v2.1/servers/detail").await;
    assert_eq!(r.body["servers"].as_array().unwrap().len(), 20);
    assert!(started.elapsed() >= Duration::from_millis(280));

    os.fake.respond_next(
        "GET",
        "/compute/v2.1/servers",
        200,
        &b"{\"servers\": ["[..],
        1,
    );
    let r = os.get("/compute/v2.1/servers").await;
    assert_eq!((r.status, r.text.as_str()), (200, "{\"servers\": ["));
}
