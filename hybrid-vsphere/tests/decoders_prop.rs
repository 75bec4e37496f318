//! Property tests over every vSphere response decoder: the vim25 SOAP readers and the
//! vSphere Automation (vAPI) JSON readers, with their conversions into core values
//! (`hybrid_vsphere::decode`, the same functions live answers go through). Inputs are
//! real answers (`tests/fixtures`, `tests/fixtures/samples`: vcsim captures of a whole
//! VM lifecycle and of the REST API, and hand-written vAPI models) truncated, with
//! bytes replaced, with XML leaves, element names and elements swapped, dropped or
//! duplicated, with JSON leaves swapped, and arbitrary XML and JSON documents. Every
//! input goes to every decoder (SOAP, vAPI success, vAPI error body).
//!
//! A decoder must return a value or a typed error: a panic fails the test, and so does
//! an error of an unexpected kind (a reader of a well-formed answer fails with
//! `InvalidResponse`, the vCenter-only check with `Unsupported`, an OVF deployment with
//! `OperationFailed`; only the envelope reader, which maps SOAP faults, and a failed
//! task may carry the fault's own kind).
//!
//! CI runs a short run (256 cases per property, 6 properties). The long run sets
//! `HYBRID_PROPTEST_CASES`: `HYBRID_PROPTEST_CASES=100000 cargo test -p hybrid-vsphere
//! --test decoders_prop` decodes 600 000 generated inputs (about 7 minutes in a debug
//! build on a shared 2-core machine).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hybrid_core::ErrorKind;
use hybrid_vsphere::decode::{self, Decoded};
use proptest::prelude::*;
use serde_json::Value;

fn cases() -> u32 {
    std::env::var("HYBRID_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

struct Samples {
    xml: Vec<Vec<u8>>,
    json: Vec<Vec<u8>>,
    all: Vec<Vec<u8>>,
}

fn samples() -> &'static Samples {
    static SAMPLES: OnceLock<Samples> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut files: Vec<PathBuf> = Vec::new();
        collect(&root, &mut files);
        files.sort();
        let read = |ext: &[&str]| -> Vec<Vec<u8>> {
            files
                .iter()
                .filter(|f| f.extension().is_some_and(|e| ext.iter().any(|x| e == *x)))
                // The Swagger specs and Postman collections are documents about the
                // API, not answers of it.
                .filter(|f| !f.components().any(|c| c.as_os_str() == "vsphere-rest"))
                .map(|f| std::fs::read(f).unwrap())
                .collect()
        };
        let xml = read(&["xml"]);
        let json = read(&["json", "txt"]);
        assert!(
            xml.len() >= 70,
            "the SOAP samples are there ({})",
            xml.len()
        );
        assert!(
            json.len() >= 60,
            "the vAPI samples are there ({})",
            json.len()
        );
        let all = xml.iter().chain(&json).cloned().collect();
        Samples { xml, json, all }
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Checks that every failure is typed as its reader may fail; returns the successes.
fn check(out: &[Decoded], allowed: &[ErrorKind], any_kind: &[&str]) -> usize {
    let mut ok = 0;
    for d in out {
        match &d.outcome {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(
                    !e.message().is_empty(),
                    "{}: an error without a message",
                    d.reader
                );
                if !any_kind.contains(&d.reader) {
                    assert!(
                        allowed.contains(&e.kind()),
                        "{}: unexpected {:?}: {e}",
                        d.reader,
                        e.kind()
                    );
                }
            }
        }
    }
    ok
}

/// Runs every decoder on `bytes`: as a SOAP answer, as a vAPI success and as a vAPI
/// error body. Returns how many readers accepted it.
fn decode_all(bytes: &[u8]) -> usize {
    let soap = decode::soap(bytes);
    assert!(!soap.is_empty());
    assert_eq!(soap[0].reader, "SOAP envelope");
    let mut ok = check(
        &soap,
        &[ErrorKind::InvalidResponse, ErrorKind::Unsupported],
        &["SOAP envelope", "TaskInfo → failure"],
    );
    ok += check(
        &decode::vapi(200, bytes),
        &[ErrorKind::InvalidResponse, ErrorKind::OperationFailed],
        &[],
    );
    let status = 400 + (bytes.len() % 200) as u16;
    let err = decode::vapi(status, bytes);
    assert_eq!(err.len(), 1);
    let e = err[0]
        .outcome
        .as_ref()
        .expect_err("an error status is an error");
    assert_eq!(e.http_status(), Some(status));
    ok
}

// ---- XML mutations (on the text: the test must not lean on the parser it tests) ----

/// Byte ranges of the leaf texts (`>text<`, non-empty) of `xml`.
fn leaf_texts(xml: &str) -> Vec<(usize, usize)> {
    let b = xml.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'>' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j] != b'<' {
                j += 1;
            }
            if j < b.len() && j > start && !xml[start..j].trim().is_empty() {
                out.push((start, j));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The distinct element names of `xml`.
fn element_names(xml: &str) -> Vec<String> {
    let mut names: Vec<String> = xml
        .split('<')
        .skip(1)
        .filter_map(|t| {
            let t = t.strip_prefix('/').unwrap_or(t);
            let end = t.find([' ', '>', '/']).unwrap_or(t.len());
            let n = &t[..end];
            (!n.is_empty() && !n.starts_with(['?', '!'])).then(|| n.to_owned())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Renames every element `from` to `to` (both start and end tags).
fn rename(xml: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        out.push('<');
        let slash = rest.starts_with('/');
        if slash {
            out.push('/');
            rest = &rest[1..];
        }
        let end = rest.find([' ', '>', '/']).unwrap_or(rest.len());
        if &rest[..end] == from {
            out.push_str(to);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// The byte range of the `n`-th element with a leaf text, start tag to end tag, when
/// its end tag follows the text at once.
fn leaf_element(xml: &str, n: usize) -> Option<(usize, usize)> {
    let leaves = leaf_texts(xml);
    let (start, end) = *leaves.get(n % leaves.len().max(1))?;
    let open = xml[..start].rfind('<')?;
    if !xml[end..].starts_with("</") {
        return None;
    }
    let close = end + xml[end..].find('>')? + 1;
    Some((open, close))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[derive(Debug, Clone)]
enum XmlEdit {
    /// Replace the text of the n-th leaf.
    Leaf(usize, String),
    /// Rename the i-th element name to the j-th (of the document, or from the vocabulary).
    Rename(usize, usize),
    /// Remove the n-th leaf element.
    Drop(usize),
    /// Duplicate the n-th leaf element.
    Duplicate(usize),
}

const NAMES: &[&str] = &[
    "returnval",
    "objects",
    "obj",
    "propSet",
    "name",
    "val",
    "state",
    "error",
    "fault",
    "localizedMessage",
    "result",
    "key",
    "about",
    "apiType",
    "Fault",
    "detail",
    "Body",
    "token",
    "missingSet",
    "VirtualDevice",
    "backing",
    "fileName",
    "config",
    "id",
    "capacityInMB",
    "GuestNicInfo",
    "ipAddress",
    "progress",
    "vlan",
    "vlanId",
    "ManagedObjectReference",
    "snapshots",
];

const TEXTS: &[&str] = &[
    "",
    "error",
    "success",
    "running",
    "queued",
    "poweredOn",
    "hibernating",
    "true",
    "maybe",
    "-1",
    "4294967296",
    "99999999999999999999",
    "VirtualCenter",
    "HostAgent",
    "vm-1",
    "NaN",
    "1e9",
    "\u{fffd}",
    "  ",
    "&",
    "<x>",
];

fn apply_xml(xml: &str, edit: &XmlEdit) -> String {
    match edit {
        XmlEdit::Leaf(n, text) => {
            let leaves = leaf_texts(xml);
            if leaves.is_empty() {
                return xml.to_owned();
            }
            let (s, e) = leaves[n % leaves.len()];
            format!("{}{}{}", &xml[..s], escape(text), &xml[e..])
        }
        XmlEdit::Rename(i, j) => {
            let names = element_names(xml);
            if names.is_empty() {
                return xml.to_owned();
            }
            let from = &names[i % names.len()];
            let to = if j % 2 == 0 {
                names[j / 2 % names.len()].clone()
            } else {
                NAMES[j / 2 % NAMES.len()].to_owned()
            };
            rename(xml, from, &to)
        }
        XmlEdit::Drop(n) => match leaf_element(xml, *n) {
            Some((s, e)) => format!("{}{}", &xml[..s], &xml[e..]),
            None => xml.to_owned(),
        },
        XmlEdit::Duplicate(n) => match leaf_element(xml, *n) {
            Some((s, e)) => format!("{}{}", &xml[..e], &xml[s..]),
            None => xml.to_owned(),
        },
    }
}

fn xml_edit() -> impl Strategy<Value = XmlEdit> {
    prop_oneof![
        (
            any::<usize>(),
            prop_oneof![
                prop::sample::select(TEXTS).prop_map(str::to_owned),
                "[ -~]{0,16}",
            ]
        )
            .prop_map(|(n, t)| XmlEdit::Leaf(n, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| XmlEdit::Rename(i, j)),
        any::<usize>().prop_map(XmlEdit::Drop),
        any::<usize>().prop_map(XmlEdit::Duplicate),
    ]
}

/// An arbitrary element: a vocabulary name, maybe a `type`/`xsi:type`, text or children.
#[derive(Debug, Clone)]
struct El {
    name: &'static str,
    kind: Option<&'static str>,
    text: Option<String>,
    children: Vec<El>,
}

impl El {
    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(self.name);
        if let Some(k) = self.kind {
            out.push_str(&format!(r#" type="{k}" xsi:type="{k}""#));
        }
        out.push('>');
        if let Some(t) = &self.text {
            out.push_str(&escape(t));
        }
        for c in &self.children {
            c.write(out);
        }
        out.push_str("</");
        out.push_str(self.name);
        out.push('>');
    }
}

fn arb_el() -> impl Strategy<Value = El> {
    let kinds = prop::option::of(prop::sample::select(
        &[
            "VirtualMachine",
            "Task",
            "TaskInfo",
            "ManagedObjectReference",
            "VirtualDisk",
            "VirtualVmxnet3",
            "DistributedVirtualPortgroup",
            "OpaqueNetwork",
            "Network",
            "VmwareDistributedVirtualSwitchVlanIdSpec",
            "ArrayOfManagedObjectReference",
            "NotAuthenticated",
            "InvalidPowerState",
            "RequestCanceled",
        ][..],
    ));
    let leaf = (
        prop::sample::select(NAMES),
        kinds.clone(),
        prop_oneof![
            prop::sample::select(TEXTS).prop_map(str::to_owned),
            "[a-zA-Z0-9 .:-]{0,12}",
        ],
    )
        .prop_map(|(name, kind, text)| El {
            name,
            kind,
            text: Some(text),
            children: Vec::new(),
        });
    leaf.prop_recursive(5, 64, 6, move |inner| {
        (
            prop::sample::select(NAMES),
            kinds.clone(),
            prop::collection::vec(inner, 0..6),
        )
            .prop_map(|(name, kind, children)| El {
                name,
                kind,
                text: None,
                children,
            })
    })
}

/// Property paths hybrid reads, for arbitrary `RetrievePropertiesEx` answers.
const PATHS: &[&str] = &[
    "name",
    "config.template",
    "config.hardware.numCPU",
    "config.hardware.memoryMB",
    "config.guestId",
    "config.createDate",
    "runtime.powerState",
    "guest.net",
    "resourcePool",
    "datastore",
    "config.hardware.device",
    "info",
    "key",
    "config.defaultPortConfig",
    "config.logicalSwitchUuid",
    "config.backingType",
    "config.distributedVirtualSwitch",
    "config.uplink",
    "tag",
    "summary.opaqueNetworkType",
    "summary.opaqueNetworkId",
    "vmFolder",
    "config.uplinkPortgroup",
    "host",
    "configurationEx",
    "vm",
    "summary.accessible",
    "parent",
];

/// An arbitrary `RetrievePropertiesEx` answer: objects of a known type, each with
/// properties hybrid reads holding arbitrary values.
fn arb_retrieve_result() -> impl Strategy<Value = String> {
    let object = (
        prop::sample::select(
            &[
                "VirtualMachine",
                "Task",
                "Network",
                "DistributedVirtualPortgroup",
                "OpaqueNetwork",
                "Datacenter",
                "DistributedVirtualSwitch",
                "ClusterComputeResource",
                "Datastore",
                "ResourcePool",
            ][..],
        ),
        "[a-z]{0,3}-?[0-9]{0,3}",
        prop::collection::vec((prop::sample::select(PATHS), arb_el()), 0..8),
    )
        .prop_map(|(kind, id, props)| {
            let mut o = format!(r#"<objects><obj type="{kind}">{id}</obj>"#);
            for (path, val) in props {
                let mut v = String::new();
                El { name: "val", ..val }.write(&mut v);
                o.push_str(&format!("<propSet><name>{path}</name>{v}</propSet>"));
            }
            o.push_str("</objects>");
            o
        });
    prop::collection::vec(object, 0..5).prop_map(|objs| {
        format!(
            r#"<Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>{}</returnval></RetrievePropertiesExResponse></Body></Envelope>"#,
            objs.concat()
        )
    })
}

fn arb_soap() -> impl Strategy<Value = String> {
    let any_answer = (
        prop::sample::select(&[
            "RetrievePropertiesEx", "RetrieveServiceContent", "Login", "CreateVM_Task",
            "ListVStorageObject", "RetrieveVStorageObject", "RetrieveSnapshotInfo", "Nothing",
        ][..]),
        prop::collection::vec(arb_el(), 0..4),
        any::<bool>(),
    )
        .prop_map(|(method, els, fault)| {
            let mut inner = String::new();
            for e in &els {
                e.write(&mut inner);
            }
            let body = if fault {
                format!("<Fault><faultstring>f</faultstring><detail>{inner}</detail></Fault>")
            } else {
                format!(r#"<{method}Response xmlns="urn:vim25">{inner}</{method}Response>"#)
            };
            format!(
                r#"<Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Body>{body}</Body></Envelope>"#
            )
        });
    prop_oneof![any_answer, arb_retrieve_result()]
}

// ---- JSON ----

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9:._ -]{0,12}".prop_map(Value::from),
        prop::sample::select(
            &[
                "VirtualMachine",
                "urn:vmomi:InventoryServiceTag:1:GLOBAL",
                "ovf",
                "iso",
                "DONE",
                "ERROR",
                "PREPARED",
                "MULTIPLE",
                "not_found",
                "NOT_FOUND",
                "",
            ][..]
        )
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-z_]{1,10}",
                    prop::sample::select(
                        &[
                            "value",
                            "id",
                            "name",
                            "type",
                            "library_id",
                            "category_id",
                            "succeeded",
                            "resource_id",
                            "error",
                            "errors",
                            "messages",
                            "default_message",
                            "object_id",
                            "tag_ids",
                            "has_errors",
                            "state",
                            "networks",
                            "Networks",
                            "storage_backings",
                            "datastore_id",
                            "error_type",
                            "size",
                        ][..]
                    )
                    .prop_map(str::to_owned),
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the `n`-th leaf (in document order) of `v` with `with`.
fn replace_leaf(v: &mut Value, n: &mut usize, with: &Value) -> bool {
    match v {
        Value::Object(m) => m.values_mut().any(|c| replace_leaf(c, n, with)),
        Value::Array(a) => a.iter_mut().any(|c| replace_leaf(c, n, with)),
        leaf => {
            if *n == 0 {
                *leaf = with.clone();
                true
            } else {
                *n -= 1;
                false
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn truncated_samples_never_panic(i in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>()) {
        let s = i.get(&samples().all);
        let at = cut.index(s.len() + 1);
        decode_all(&s[..at]);
    }

    #[test]
    fn samples_with_replaced_bytes_never_panic(
        i in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut s = i.get(&samples().all).clone();
        for (at, b) in edits {
            let at = at.index(s.len());
            s[at] = b;
        }
        decode_all(&s);
    }

    #[test]
    fn soap_samples_with_swapped_dropped_or_repeated_elements_never_panic(
        i in any::<prop::sample::Index>(),
        edits in prop::collection::vec(xml_edit(), 1..5),
    ) {
        let sample: &Vec<u8> = i.get(&samples().xml);
        let mut xml = String::from_utf8_lossy(sample).into_owned();
        for e in &edits {
            xml = apply_xml(&xml, e);
        }
        decode_all(xml.as_bytes());
    }

    #[test]
    fn vapi_samples_with_swapped_leaves_never_panic(
        i in any::<prop::sample::Index>(),
        swaps in prop::collection::vec((0usize..64, arb_json()), 1..4),
    ) {
        let sample: &Vec<u8> = i.get(&samples().json);
        let Ok(mut v) = serde_json::from_slice::<Value>(sample) else {
            return Ok(());
        };
        for (n, with) in swaps {
            let mut n = n;
            replace_leaf(&mut v, &mut n, &with);
        }
        decode_all(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn arbitrary_soap_documents_never_panic(doc in arb_soap()) {
        decode_all(doc.as_bytes());
    }

    #[test]
    fn arbitrary_json_documents_never_panic(v in arb_json(), wrap in any::<bool>()) {
        let v = if wrap { serde_json::json!({ "value": v }) } else { v };
        decode_all(&serde_json::to_vec(&v).unwrap());
    }
}

#[test]
fn the_real_samples_are_accepted_by_some_decoder() {
    // Guards the property tests against decoding nothing at all.
    let s = samples();
    let soap_ok = s
        .xml
        .iter()
        .filter(|b| {
            let out = decode::soap(b);
            out[0].outcome.is_ok() && out.iter().filter(|d| d.outcome.is_ok()).count() > 1
        })
        .count();
    // Most SOAP samples are answers, a few are faults.
    assert!(
        soap_ok * 10 >= s.xml.len() * 8,
        "{soap_ok} of {} SOAP samples decode",
        s.xml.len()
    );
    let vapi_ok = s
        .json
        .iter()
        .filter(|b| decode::vapi(200, b).iter().any(|d| d.outcome.is_ok()))
        .count();
    assert!(
        vapi_ok * 10 >= s.json.len() * 8,
        "{vapi_ok} of {} vAPI samples decode",
        s.json.len()
    );
}
