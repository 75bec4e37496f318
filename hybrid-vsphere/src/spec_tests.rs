//! Conformance with VMware's own (MIT-licensed) vSphere Automation REST documents, in
//! `tests/fixtures/vsphere-rest/` (see `ATTRIBUTION.md`):
//!
//! - the legacy `/rest` Swagger specs (`cis`, `content`, `vcenter`): every `/rest`
//!   request hybrid-vsphere sends is answered by a server that knows only those specs —
//!   it must match a documented path, method and `~action`, carry only documented query
//!   parameters, and a body that fits the operation's body schema — and every answer
//!   is a sample generated from the operation's response schema, which must decode;
//! - the Postman collection for the content library: hybrid's requests for the same
//!   operations have the same method, path and query, and its request bodies decode
//!   into hybrid's request types.

use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::api::{library, tagging};
use crate::protocol::vapi::{
    CategoryCreateSpec, DeployRequest, DeploymentSpec, DeploymentTarget, DynamicId, FileAddSpec,
    FilterRequest, ItemCreateSpec, LocalLibraryCreateSpec, PublishInfo, StorageBacking,
    TagCreateSpec, TransferEndpoint,
};
use crate::vapi::Vapi;

fn spec(name: &str) -> Value {
    let p = format!(
        "{}/tests/fixtures/vsphere-rest/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .unwrap()
}

struct Specs(Vec<Value>);

impl Specs {
    fn load() -> Specs {
        Specs(vec![
            spec("legacy-rest-6.7-cis.json"),
            spec("legacy-rest-6.7-content.json"),
            spec("legacy-rest-6.7-vcenter.json"),
        ])
    }

    /// The spec and operation documenting `method path?query` under `/rest`.
    fn find(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Option<(&Value, &Value, String)> {
        let rel = path.strip_prefix("/rest")?;
        let action = query.and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("~action="))
                .map(str::to_owned)
        });
        for s in &self.0 {
            let Some(paths) = s["paths"].as_object() else {
                continue;
            };
            for (key, ops) in paths {
                let (tpl, act) = match key.split_once('?') {
                    Some((t, a)) => (t, a.strip_prefix("~action=").map(str::to_owned)),
                    None => (key.as_str(), None),
                };
                if act != action || !path_matches(tpl, rel) {
                    continue;
                }
                if let Some(op) = ops.get(method.to_ascii_lowercase()) {
                    return Some((s, op, key.clone()));
                }
            }
        }
        None
    }
}

fn path_matches(tpl: &str, path: &str) -> bool {
    let t: Vec<&str> = tpl.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            if let Some(prefix) = t
                .strip_suffix('}')
                .and_then(|t| t.split_once('{'))
                .map(|(pre, _)| pre)
            {
                p.starts_with(prefix) && p.len() > prefix.len()
            } else {
                t == p
            }
        })
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/definitions/");
            resolve(spec, &spec["definitions"][name])
        }
        None => schema,
    }
}

/// A value of `schema` with every property filled: strings are their property's name
/// (or the first enum value), numbers 7, booleans true, lists one element.
fn sample(spec: &Value, schema: &Value, name: &str, depth: usize) -> Value {
    let s = resolve(spec, schema);
    if depth > 8 {
        return Value::Null;
    }
    if let Some(e) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return e.clone();
    }
    match s.get("type").and_then(Value::as_str) {
        Some("string") => match s.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2021-02-03T04:05:06.789Z"),
            _ => json!(name),
        },
        Some("integer") => json!(7),
        Some("number") => json!(7.5),
        Some("boolean") => json!(true),
        Some("array") => json!([sample(spec, &s["items"], name, depth + 1)]),
        _ => {
            let mut m = Map::new();
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, v) in props {
                    m.insert(k.clone(), sample(spec, v, k, depth + 1));
                }
            }
            if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
                m.insert("key".into(), sample(spec, ap, "value", depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// Where `v` does not fit `schema`.
fn check(spec: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let s = resolve(spec, schema);
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errs.push(format!("{at}: {v} is not one of {e:?}"));
        }
        return;
    }
    match s.get("type").and_then(Value::as_str) {
        Some("string") if !v.is_string() => errs.push(format!("{at}: {v} is not a string")),
        Some("integer") if !v.is_i64() && !v.is_u64() => {
            errs.push(format!("{at}: {v} is not an integer"))
        }
        Some("boolean") if !v.is_boolean() => errs.push(format!("{at}: {v} is not a boolean")),
        Some("array") => match v.as_array() {
            Some(items) => {
                for (i, it) in items.iter().enumerate() {
                    check(spec, &s["items"], it, &format!("{at}[{i}]"), errs);
                }
            }
            None => errs.push(format!("{at}: {v} is not an array")),
        },
        Some("string" | "integer" | "boolean" | "number") => {}
        _ => {
            let Some(obj) = v.as_object() else {
                errs.push(format!("{at}: {v} is not an object"));
                return;
            };
            let props = s.get("properties").and_then(Value::as_object);
            for (k, val) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => check(spec, ps, val, &format!("{at}.{k}"), errs),
                    None => match s.get("additionalProperties").filter(|a| a.is_object()) {
                        Some(ap) => check(spec, ap, val, &format!("{at}.{k}"), errs),
                        None => errs.push(format!("{at}: field {k} is not in the spec")),
                    },
                }
            }
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(r) = r.as_str() {
                    if !obj.contains_key(r) {
                        errs.push(format!("{at}: required field {r} is missing"));
                    }
                }
            }
        }
    }
}

/// Answers every request the specs document with a sample of its 200 answer; records
/// what does not fit them.
struct SpecServer {
    specs: Specs,
    seen: Arc<Mutex<Vec<String>>>,
    problems: Arc<Mutex<Vec<String>>>,
}

impl Respond for SpecServer {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let method = r.method.as_str().to_owned();
        let path = r.url.path().to_owned();
        let query = r.url.query().map(str::to_owned);
        // The /api flavour does not exist on a 6.7 vCenter.
        if !path.starts_with("/rest/") {
            return ResponseTemplate::new(404);
        }
        let Some((spec, op, key)) = self.specs.find(&method, &path, query.as_deref()) else {
            self.problems.lock().unwrap().push(format!(
                "{method} {path}?{} is not documented",
                query.unwrap_or_default()
            ));
            return ResponseTemplate::new(404);
        };
        self.seen.lock().unwrap().push(format!("{method} {key}"));
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let mut problems = Vec::new();
        for (k, _) in r.url.query_pairs() {
            if k == "~action" {
                continue;
            }
            if !params.iter().any(|p| p["in"] == "query" && p["name"] == *k) {
                problems.push(format!(
                    "{method} {key}: query parameter {k} is not documented"
                ));
            }
        }
        let body = params.iter().find(|p| p["in"] == "body");
        match (body, r.body.is_empty()) {
            (Some(b), false) => match serde_json::from_slice::<Value>(&r.body) {
                Ok(v) => {
                    let mut errs = Vec::new();
                    check(spec, &b["schema"], &v, "body", &mut errs);
                    problems.extend(errs.into_iter().map(|e| format!("{method} {key}: {e}")));
                }
                Err(e) => problems.push(format!("{method} {key}: the body is not JSON: {e}")),
            },
            (Some(b), true) if b["required"] == true => {
                problems.push(format!("{method} {key}: the required body is missing"))
            }
            (None, false) if r.body.as_slice() != b"{}" => problems.push(format!(
                "{method} {key}: a body was sent to an operation without one"
            )),
            _ => {}
        }
        self.problems.lock().unwrap().extend(problems);
        match op["responses"]["200"].get("schema") {
            Some(schema) => {
                ResponseTemplate::new(200).set_body_json(sample(spec, schema, "value", 0))
            }
            None => ResponseTemplate::new(200),
        }
    }
}

#[tokio::test]
async fn every_rest_call_matches_the_legacy_specs_and_decodes_their_samples() {
    let server = MockServer::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let problems = Arc::new(Mutex::new(Vec::new()));
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(SpecServer {
            specs: Specs::load(),
            seen: seen.clone(),
            problems: problems.clone(),
        })
        .mount(&server)
        .await;
    let v = Vapi::new(&crate::vapi_wire_tests::config(&server)).unwrap();
    let vm = DynamicId {
        kind: "VirtualMachine".into(),
        id: "vm-1".into(),
    };

    // Tagging: the samples' strings are their field names.
    assert_eq!(tagging::list_categories(&v).await.unwrap(), vec!["value"]);
    let c = tagging::get_category(&v, "cat-1").await.unwrap();
    assert_eq!(
        (c.id.as_str(), c.name.as_str(), c.cardinality.as_str()),
        ("id", "name", "SINGLE")
    );
    assert_eq!(c.associable_types, vec!["associable_types"]);
    let spec_c = CategoryCreateSpec {
        name: "hybrid".into(),
        description: "d".into(),
        cardinality: "MULTIPLE".into(),
        associable_types: vec!["VirtualMachine".into()],
    };
    assert_eq!(
        tagging::create_category(&v, &spec_c).await.unwrap(),
        "value"
    );
    tagging::delete_category(&v, "cat-1").await.unwrap();
    assert_eq!(tagging::list_tags(&v).await.unwrap(), vec!["value"]);
    assert_eq!(
        tagging::list_tags_for_category(&v, "cat-1").await.unwrap(),
        vec!["value"]
    );
    let t = tagging::get_tag(&v, "tag-1").await.unwrap();
    assert_eq!(
        (t.category_id.as_str(), t.name.as_str()),
        ("category_id", "name")
    );
    let spec_t = TagCreateSpec {
        name: "web".into(),
        description: String::new(),
        category_id: "cat-1".into(),
    };
    assert_eq!(tagging::create_tag(&v, &spec_t).await.unwrap(), "value");
    tagging::delete_tag(&v, "tag-1").await.unwrap();
    tagging::attach(&v, "tag-1", &vm).await.unwrap();
    tagging::detach(&v, "tag-1", &vm).await.unwrap();
    assert_eq!(
        tagging::list_attached_tags(&v, &vm).await.unwrap(),
        vec!["value"]
    );
    let on = tagging::list_attached_tags_on_objects(&v, std::slice::from_ref(&vm))
        .await
        .unwrap();
    assert_eq!(
        (on[0].object_id.id.as_str(), on[0].tag_ids.as_slice()),
        ("id", &["tag_ids".to_owned()][..])
    );
    let objs = tagging::list_attached_objects(&v, "tag-1").await.unwrap();
    assert_eq!((objs[0].kind.as_str(), objs[0].id.as_str()), ("type", "id"));

    // Content library.
    assert_eq!(library::list_libraries(&v).await.unwrap(), vec!["value"]);
    let l = library::get_library(&v, "lib-1").await.unwrap();
    assert_eq!((l.id.as_str(), l.name.as_str()), ("id", "name"));
    assert_eq!(
        l.storage_backings[0].datastore_id.as_deref(),
        Some("datastore_id")
    );
    let spec_l = LocalLibraryCreateSpec {
        name: "hybrid".into(),
        description: "d".into(),
        kind: "LOCAL".into(),
        storage_backings: vec![StorageBacking {
            kind: "DATASTORE".into(),
            datastore_id: Some("datastore-12".into()),
            storage_uri: None,
        }],
        publish_info: Some(PublishInfo {
            authentication_method: "NONE".into(),
            published: false,
        }),
    };
    assert_eq!(
        library::create_local_library(&v, &spec_l).await.unwrap(),
        "value"
    );
    library::delete_local_library(&v, "lib-1").await.unwrap();
    assert_eq!(
        library::list_items(&v, "lib-1").await.unwrap(),
        vec!["value"]
    );
    let it = library::get_item(&v, "item-1").await.unwrap();
    assert_eq!(
        (it.library_id.as_str(), it.kind.as_str(), it.size),
        ("library_id", "type", Some(7))
    );
    let spec_i = ItemCreateSpec {
        library_id: "lib-1".into(),
        name: "web".into(),
        description: String::new(),
        kind: Some("ovf".into()),
    };
    assert_eq!(library::create_item(&v, &spec_i).await.unwrap(), "value");
    library::delete_item(&v, "item-1").await.unwrap();
    let files = library::list_item_files(&v, "item-1").await.unwrap();
    assert_eq!((files[0].name.as_str(), files[0].size), ("name", Some(7)));
    assert_eq!(
        library::create_update_session(&v, "item-1").await.unwrap(),
        "value"
    );
    let us = library::get_update_session(&v, "us-1").await.unwrap();
    assert_eq!(
        (us.library_item_id.as_str(), us.state.as_str()),
        ("library_item_id", "ACTIVE")
    );
    let add = FileAddSpec {
        name: "web.ovf".into(),
        source_type: "PULL".into(),
        size: Some(10),
        source_endpoint: Some(TransferEndpoint {
            uri: "https://images.example/web.ovf".into(),
        }),
    };
    let info = library::add_file(&v, "us-1", &add).await.unwrap();
    assert_eq!(info.upload_endpoint.map(|e| e.uri).as_deref(), Some("uri"));
    let sf = library::list_session_files(&v, "us-1").await.unwrap();
    assert_eq!(sf[0].status, "WAITING_FOR_TRANSFER");
    let val = library::validate(&v, "us-1").await.unwrap().unwrap();
    assert_eq!(val.missing_files, vec!["missing_files"]);
    library::complete(&v, "us-1").await.unwrap();
    library::fail(&v, "us-1", "why").await.unwrap();
    library::delete_update_session(&v, "us-1").await.unwrap();
    assert_eq!(
        library::create_download_session(&v, "item-1")
            .await
            .unwrap(),
        "value"
    );
    let pf = library::prepare_file(&v, "ds-1", "web.ovf").await.unwrap();
    assert_eq!(pf.download_endpoint.map(|e| e.uri).as_deref(), Some("uri"));
    assert_eq!(
        library::get_download_file(&v, "ds-1", "web.ovf")
            .await
            .unwrap()
            .name,
        "name"
    );
    library::delete_download_session(&v, "ds-1").await.unwrap();

    // OVF.
    let target = DeploymentTarget {
        resource_pool_id: "resgroup-9".into(),
        folder_id: Some("group-v7".into()),
        host_id: None,
    };
    let summary = library::ovf_filter(
        &v,
        "item-1",
        &FilterRequest {
            target: target.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(summary.networks, vec!["networks"]);
    let r = library::ovf_deploy(
        &v,
        "item-1",
        &DeployRequest {
            target,
            deployment_spec: DeploymentSpec {
                name: Some("web-1".into()),
                annotation: Some("by hybrid".into()),
                accept_all_eula: true,
                network_mappings: Some(json!([{"key": "frontend", "value": "network-7"}])),
                storage_provisioning: Some("thin".into()),
                default_datastore_id: Some("datastore-12".into()),
            },
        },
    )
    .await
    .unwrap();
    assert!(r.succeeded);
    assert_eq!(r.resource_id.map(|i| i.id).as_deref(), Some("id"));
    assert_eq!(r.error.unwrap().errors.len(), 1);

    v.logout().await.unwrap();

    let problems = problems.lock().unwrap().clone();
    assert!(
        problems.is_empty(),
        "requests that do not fit the specs:\n{}",
        problems.join("\n")
    );
    let seen = seen.lock().unwrap().clone();
    for must in [
        "POST /com/vmware/cis/session",
        "DELETE /com/vmware/cis/session",
        "POST /com/vmware/cis/tagging/tag-association?~action=list-attached-tags-on-objects",
        "POST /com/vmware/content/library/item/updatesession/file/id:{update_session_id}?~action=add",
        "POST /com/vmware/vcenter/ovf/library-item/id:{ovf_library_item_id}?~action=deploy",
    ] {
        assert!(seen.iter().any(|s| s == must), "{must} was not exercised: {seen:#?}");
    }
    // Every vAPI operation hybrid-vsphere uses (37), login and logout, once each.
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((seen.len(), distinct.len()), (39, 39), "{seen:#?}");
}

fn postman() -> Vec<(String, String, String, Option<Value>)> {
    let d = spec("vsphere-rest-content-library.postman_collection.json");
    let mut out = Vec::new();
    fn walk(items: &Value, out: &mut Vec<(String, String, String, Option<Value>)>) {
        for it in items.as_array().into_iter().flatten() {
            if it.get("item").is_some() {
                walk(&it["item"], out);
                continue;
            }
            let r = &it["request"];
            let url = r["url"]
                .as_str()
                .or_else(|| r["url"]["raw"].as_str())
                .unwrap_or("")
                .replace("https://{{vc}}", "");
            let body = r["body"]["raw"]
                .as_str()
                .filter(|b| !b.trim().is_empty())
                .map(|b| serde_json::from_str(b).unwrap());
            out.push((
                it["name"].as_str().unwrap_or("").to_owned(),
                r["method"].as_str().unwrap_or("").to_owned(),
                url,
                body,
            ));
        }
    }
    walk(&d["item"], &mut out);
    out
}

/// Records requests, answering `{"value": …}` samples enough to decode.
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Respond for Recorder {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let path = r.url.path();
        if path == "/api/session" {
            return ResponseTemplate::new(404);
        }
        let line = match r.url.query() {
            Some(q) => format!("{} {path}?{q}", r.method),
            None => format!("{} {path}", r.method),
        };
        self.0.lock().unwrap().push(line);
        let value = if path.ends_with("/cis/session") {
            json!("s-1")
        } else if r.method.as_str() == "POST" && path.ends_with("/local-library") {
            json!("l")
        } else if path.ends_with("/library") || path.ends_with("/library/item") {
            json!([])
        } else if path.ends_with("/library/item/file") {
            json!([{"name": "a.ovf"}])
        } else if path.contains("/library/item/id:") {
            json!({"id": "i", "library_id": "l", "name": "n"})
        } else if path.contains("/library/id:") {
            json!({"id": "l", "name": "n"})
        } else if r.url.query() == Some("~action=deploy") {
            json!({"succeeded": true})
        } else {
            json!({})
        };
        ResponseTemplate::new(200).set_body_json(json!({ "value": value }))
    }
}

#[tokio::test]
async fn requests_equal_vmwares_postman_collection() {
    let calls = postman();
    let find = |name: &str| {
        calls
            .iter()
            .find(|c| c.0.trim() == name)
            .unwrap_or_else(|| panic!("{name} is not in the collection"))
            .clone()
    };
    let server = MockServer::start().await;
    let got = Arc::new(Mutex::new(Vec::new()));
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(Recorder(got.clone()))
        .mount(&server)
        .await;
    let v = Vapi::new(&crate::vapi_wire_tests::config(&server)).unwrap();
    let id_of = |url: &str| {
        url.rsplit_once("id:")
            .map(|(_, id)| id.split('?').next().unwrap_or("").to_owned())
    };

    let mut expected = Vec::new();
    let login = find("Login to vCenter");
    v.flavour().await.unwrap();
    expected.push(format!("{} {}", login.1, login.2));

    let c = find("Content Library: List");
    library::list_libraries(&v).await.unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    let c = find("Content Library: Get details of single library");
    library::get_library(&v, &id_of(&c.2).unwrap())
        .await
        .unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    let c = find("List all items in a specific library");
    library::list_items(&v, c.2.rsplit_once("library_id=").unwrap().1)
        .await
        .unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    let c = find("List details of a library item");
    library::get_item(&v, &id_of(&c.2).unwrap()).await.unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    let c = find("List files in a specific library item");
    library::list_item_files(&v, c.2.rsplit_once("library_item_id=").unwrap().1)
        .await
        .unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    let c = find("Query an OVF package for deployment details");
    let filter: FilterRequest = serde_json::from_value(c.3.clone().unwrap()).unwrap();
    assert_eq!(filter.target.host_id.as_deref(), Some("host-10"));
    library::ovf_filter(&v, &id_of(&c.2).unwrap(), &filter)
        .await
        .unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    let c = find("Deploy a library item");
    let deploy: DeployRequest = serde_json::from_value(c.3.clone().unwrap()).unwrap();
    assert!(deploy.deployment_spec.accept_all_eula);
    assert_eq!(
        deploy.deployment_spec.default_datastore_id.as_deref(),
        Some("datastore-14")
    );
    library::ovf_deploy(&v, &id_of(&c.2).unwrap(), &deploy)
        .await
        .unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    let c = find("Content Library: Create");
    let create: LocalLibraryCreateSpec =
        serde_json::from_value(c.3.clone().unwrap()["create_spec"].clone()).unwrap();
    assert_eq!(
        (
            create.kind.as_str(),
            create.storage_backings[0].kind.as_str()
        ),
        ("LOCAL", "DATASTORE")
    );
    library::create_local_library(&v, &create).await.unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    let c = find("Delete a local library");
    library::delete_local_library(&v, &id_of(&c.2).unwrap())
        .await
        .unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    let c = find("Logout of vCenter");
    v.logout().await.unwrap();
    expected.push(format!("{} {}", c.1, c.2));

    assert_eq!(*got.lock().unwrap(), expected);
}
