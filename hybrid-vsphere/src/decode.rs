//! Decoding vCenter answers without a connection: every reader hybrid-vsphere applies
//! to what a vCenter sends, run on a document you hold — a captured answer to replay,
//! or a mutated one in a robustness test (`tests/decoders_prop.rs` feeds these
//! functions truncated, byte-edited and rearranged real answers and arbitrary
//! documents).
//!
//! These are the same functions the provider runs on live answers, not copies: the
//! SOAP envelope and fault reader, the typed views of vim25 data objects, the
//! conversions of inventory objects into core servers, images, networks and volumes,
//! the vAPI JSON readers of both API flavours (`/api` and `/rest`) and their
//! conversions, and the mapping of vAPI error bodies.
//!
//! Every reader either returns a value or a typed [`hybrid_core::Error`]; none panics,
//! whatever the input.
//!
//! ```
//! let answer = br#"<Envelope><Body><Fault><faultstring>gone</faultstring><detail>
//!   <ManagedObjectNotFoundFault type="ManagedObjectNotFound"><obj type="VirtualMachine">vm-9</obj>
//!   </ManagedObjectNotFoundFault></detail></Fault></Body></Envelope>"#;
//! let out = hybrid_vsphere::decode::soap(answer);
//! let err = out[0].outcome.as_ref().unwrap_err();
//! assert_eq!(err.kind(), hybrid_core::ErrorKind::NotFound);
//! ```

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use hybrid_core::Result;

use crate::api::property::read_result;
use crate::api::returned_mor;
use crate::api::vslm::{read_disk_ids, read_snapshots, read_vstorage_object};
use crate::config::default_flavors;
use crate::devices::{disk, is_nic, nic, read_devices};
use crate::error::{shape_error, soap_error};
use crate::inventory::{image, is_template, net_info, network, server};
use crate::library::{content_library, deployed_vm, library_image};
use crate::protocol::soap::parse_response;
use crate::protocol::types::{ServiceContent, TaskInfo, TaskState, UserSession, VStorageObject};
use crate::protocol::vapi::{
    CategoryModel, DeploymentResult, DownloadFileInfo, DynamicId, Flavour, ItemFile, ItemModel,
    LibraryModel, ObjectToTags, OvfSummary, TagModel, UpdateFileInfo, UpdateSessionModel,
    ValidationResult,
};
use crate::protocol::xml::{self, Node};
use crate::session::require_vcenter;
use crate::storage::{disk_uses_in, snapshot, volume_of};
use crate::tags::{TagCategory, VsphereTag};
use crate::task::task_failure;
use crate::vapi::{decode, session_token, vapi_error};

/// At most this many objects of a `RetrieveResult` go through the per-object readers
/// (a page of a real inventory is read the same way, object by object).
const MAX_OBJECTS: usize = 64;

/// What one reader made of a document.
#[derive(Debug)]
pub struct Decoded {
    /// The reader, for example `"RetrievePropertiesEx → server"`.
    pub reader: &'static str,
    /// A one-line summary of what it read, or its typed error.
    pub outcome: Result<String>,
}

#[derive(Default)]
struct Out(Vec<Decoded>);

impl Out {
    fn push<T>(&mut self, reader: &'static str, r: Result<T>, summary: impl FnOnce(&T) -> String) {
        let outcome = r.map(|v| summary(&v));
        self.0.push(Decoded { reader, outcome });
    }
}

/// The method a SOAP answer names (`<XResponse>` → `X`), when it names one.
fn named_method(body: &str) -> Option<String> {
    let root = xml::parse(body).ok()?;
    let soap_body = root.child("Body")?;
    soap_body
        .children
        .iter()
        .find_map(|(k, _)| k.strip_suffix("Response").map(str::to_owned))
}

/// Runs every vim25 SOAP reader on `body`, an answer to a SOAP call (any method).
///
/// The first entry is always the envelope reader, for the method the answer names
/// (or `RetrievePropertiesEx`): a SOAP fault comes back as its typed error (see
/// [`crate::error`]), an answer that is not a SOAP envelope as `InvalidResponse`. On
/// an answer, every reader of what vim25 methods return follows: a returned
/// managed-object reference (a `…_Task` method's task), `ServiceContent` (and the
/// vCenter-only check), `UserSession`, `RetrieveResult` and, for each of its objects
/// (at most 64), the readers of VMs (template or not, server, image, devices: disks and
/// NICs), networks, tasks (`TaskInfo` and the error of a failed task) and the
/// properties discovery reads; the first-class disk readers (`ListVStorageObject`,
/// `RetrieveVStorageObject` → volume, `RetrieveSnapshotInfo` → snapshots) and where the
/// disks are attached among the objects' VMs.
pub fn soap(body: &[u8]) -> Vec<Decoded> {
    let text = String::from_utf8_lossy(body);
    let method = named_method(&text).unwrap_or_else(|| "RetrievePropertiesEx".to_owned());
    let mut out = Out::default();
    let resp = parse_response(&method, &text).map_err(|e| soap_error(&method, e));
    let Ok(resp) = resp else {
        out.push("SOAP envelope", resp, |_| String::new());
        return out.0;
    };
    out.push("SOAP envelope", Ok(()), |_| format!("{method}Response"));
    answer_readers(&mut out, &method, &resp);
    out.0
}

fn answer_readers(out: &mut Out, method: &str, resp: &Node) {
    out.push("returned reference", returned_mor(method, resp), |m| {
        m.to_string()
    });
    let rv = resp
        .req("returnval")
        .map_err(|e| shape_error(method, e))
        .cloned();
    out.push(
        "ServiceContent",
        rv.as_ref()
            .map_err(clone_err)
            .and_then(|n| ServiceContent::from_node(n).map_err(|e| shape_error(method, e)))
            .and_then(|c| require_vcenter(&c).map(|()| c)),
        |c| c.about.full_name.clone(),
    );
    out.push(
        "UserSession",
        rv.as_ref()
            .map_err(clone_err)
            .and_then(|n| UserSession::from_node(n).map_err(|e| shape_error(method, e))),
        |s| s.user_name.clone(),
    );

    let result = read_result(method, resp.clone());
    out.push("RetrieveResult", result.as_ref().map_err(clone_err), |r| {
        format!("{} objects", r.objects.len())
    });
    let objects = result.map(|r| r.objects).unwrap_or_default();
    let objects = &objects[..objects.len().min(MAX_OBJECTS)];
    let flavors = default_flavors();
    let mut datastores = BTreeMap::new();
    datastores.insert("datastore-1".to_owned(), "LocalDS_0".to_owned());
    for o in objects {
        out.push("VirtualMachine → is template", is_template(o), |t| {
            t.to_string()
        });
        out.push("VirtualMachine → server", server(o, &flavors), |s| {
            format!("{} {:?}", s.id, s.status)
        });
        out.push(
            "VirtualMachine → image",
            image(o, "vcenter", &datastores),
            |i| i.id.to_string(),
        );
        let devices = read_devices(o.get("config.hardware.device"));
        if let Ok(devs) = &devices {
            for d in devs.iter().take(16) {
                if d.kind == "VirtualDisk" {
                    out.push("device → disk", disk(d), |x| x.label.clone());
                } else if is_nic(&d.kind) {
                    out.push("device → NIC", Ok(nic(d)), |x| x.adapter.clone());
                }
            }
        }
        out.push("VirtualMachine → devices", devices, |d| {
            format!("{} devices", d.len())
        });
        let net = net_info(o);
        out.push("network object", net.as_ref().map_err(clone_err), |n| {
            n.name.clone()
        });
        if let Ok(n) = net {
            out.push("network → core network", Ok(network(&n)), |x| {
                x.id.to_string()
            });
        }
        if let Some(info) = o.get("info") {
            let t = TaskInfo::from_node(info).map_err(|e| shape_error(method, e));
            if let Ok(TaskInfo {
                state: TaskState::Error,
                error,
                ..
            }) = &t
            {
                let e = task_failure("task", error.as_ref());
                out.push("TaskInfo → failure", Err::<(), _>(e), |_| String::new());
            }
            out.push("TaskInfo", t, |t| format!("{:?}", t.state));
        }
        discovery_properties(out, o);
    }

    out.push("ListVStorageObject", read_disk_ids(resp), |ids| {
        format!("{} disks", ids.len())
    });
    let disk_obj = read_vstorage_object(resp);
    let disks: Vec<VStorageObject> = disk_obj.as_ref().ok().cloned().into_iter().collect();
    out.push(
        "RetrieveVStorageObject → volume",
        disk_obj.map(|d| {
            let uses = disk_uses_in(objects, std::slice::from_ref(&d));
            (d, uses)
        }),
        |(d, uses)| match uses {
            Ok(u) => volume_of(d, u.get(&d.id).map_or(&[][..], Vec::as_slice), &datastores)
                .id
                .to_string(),
            Err(e) => e.to_string(),
        },
    );
    let snaps = read_snapshots(resp);
    if let (Ok(s), Some(d)) = (&snaps, disks.first()) {
        for one in s.iter().take(8) {
            out.push("snapshot → core snapshot", Ok(snapshot(d, one)), |x| {
                x.id.to_string()
            });
        }
    }
    out.push("RetrieveSnapshotInfo", snaps, |s| {
        format!("{} snapshots", s.len())
    });
    out.push("disk attachments", disk_uses_in(objects, &disks), |u| {
        format!("{} attached", u.len())
    });
}

/// The properties `discover` reads of datacenters, pools, datastores, folders, switches
/// and clusters, read the way it reads them.
fn discovery_properties(out: &mut Out, o: &crate::protocol::types::ObjectContent) {
    out.push("Datacenter.vmFolder", shaped(o.mor("vmFolder")), |m| {
        format!("{m:?}")
    });
    out.push(
        "DistributedVirtualSwitch.config.uplinkPortgroup",
        shaped(o.mors("config.uplinkPortgroup")),
        |m| format!("{} uplinks", m.len()),
    );
    out.push("ClusterComputeResource.host", shaped(o.mors("host")), |m| {
        format!("{} hosts", m.len())
    });
    out.push(
        "ClusterComputeResource.resourcePool",
        shaped(o.mor("resourcePool")),
        |m| format!("{m:?}"),
    );
    let cfgx = o.get("configurationEx");
    for (reader, key) in [
        ("ClusterComputeResource.dasConfig", "dasConfig"),
        ("ClusterComputeResource.drsConfig", "drsConfig"),
    ] {
        if let Some(c) = cfgx.and_then(|x| x.child(key)) {
            out.push(
                reader,
                c.child_bool("enabled")
                    .map_err(|e| shape_error("RetrievePropertiesEx", e)),
                |b| format!("{b:?}"),
            );
        }
    }
    out.push("Datastore.vm", shaped(o.mors("vm")), |m| {
        format!("{} VMs", m.len())
    });
}

fn shaped<T>(r: std::result::Result<T, xml::ShapeError>) -> Result<T> {
    r.map_err(|e| shape_error("RetrievePropertiesEx", e))
}

fn clone_err(e: &hybrid_core::Error) -> hybrid_core::Error {
    hybrid_core::Error::new(e.kind(), e.message().to_owned())
}

/// Runs every vSphere Automation (vAPI REST) reader on `body`, an answer with HTTP
/// `status`.
///
/// An error status (400 or more) goes through the error-body mapping only (the kind
/// from the vAPI error type, else from the status). A success goes through every
/// reader, in both flavours (`/api`: the value itself; `/rest`: wrapped in
/// `{"value": …}`): id lists, the login's session id, tag categories and tags (and
/// their public forms), libraries, library items and their files (and the image an item
/// becomes), update and download sessions and their files, validation results, OVF
/// summaries, deployment results (and the VM a deployment made, or why it failed), tag
/// associations and tagged objects.
pub fn vapi(status: u16, body: &[u8]) -> Vec<Decoded> {
    let mut out = Out::default();
    if status >= 400 {
        let e = vapi_error("decode", status, body);
        out.push("vAPI error body", Err::<(), _>(e), |_| String::new());
        return out.0;
    }
    for flavour in [Flavour::Api, Flavour::Rest] {
        vapi_readers(&mut out, status, flavour, body);
    }
    out.0
}

fn read<T: DeserializeOwned>(status: u16, flavour: Flavour, body: &[u8]) -> Result<Option<T>> {
    decode::<T>("decode", status, flavour, body)
}

fn vapi_readers(out: &mut Out, status: u16, flavour: Flavour, body: &[u8]) {
    let datastores = BTreeMap::new();
    out.push("ids", read::<Vec<String>>(status, flavour, body), |v| {
        format!("{:?} ids", v.as_ref().map(Vec::len))
    });
    out.push(
        "session id",
        read::<String>(status, flavour, body).and_then(|id| session_token(id.unwrap_or_default())),
        |_| "a session".to_owned(),
    );
    out.push(
        "tag category",
        read::<CategoryModel>(status, flavour, body).map(|c| c.map(TagCategory::from)),
        |c| format!("{:?}", c.as_ref().map(|c| &c.id)),
    );
    out.push(
        "tag",
        read::<TagModel>(status, flavour, body).map(|t| t.map(VsphereTag::from)),
        |t| format!("{:?}", t.as_ref().map(|t| &t.id)),
    );
    let library = read::<LibraryModel>(status, flavour, body);
    out.push(
        "library",
        library
            .as_ref()
            .map(|l| l.as_ref().map(|l| content_library(l, &datastores)))
            .map_err(clone_err),
        |l| format!("{:?}", l.as_ref().map(|l| &l.id)),
    );
    let files = read::<Vec<ItemFile>>(status, flavour, body);
    out.push("item files", files.as_ref().map_err(clone_err), |f| {
        format!("{:?} files", f.as_ref().map(Vec::len))
    });
    let files = files.ok().flatten().unwrap_or_default();
    let library = library.ok().flatten();
    out.push(
        "library item → image",
        read::<ItemModel>(status, flavour, body).map(|i| {
            i.map(|i| library_image(&i, &files, library.as_ref(), "vcenter", &datastores))
        }),
        |i| format!("{:?}", i.as_ref().map(|i| &i.id)),
    );
    out.push(
        "update session",
        read::<UpdateSessionModel>(status, flavour, body),
        |s| format!("{:?}", s.as_ref().map(|s| &s.state)),
    );
    out.push(
        "update session files",
        read::<Vec<UpdateFileInfo>>(status, flavour, body),
        |f| format!("{:?} files", f.as_ref().map(Vec::len)),
    );
    out.push(
        "validation result",
        read::<ValidationResult>(status, flavour, body),
        |v| format!("{:?}", v.as_ref().map(|v| v.has_errors)),
    );
    out.push(
        "download file",
        read::<DownloadFileInfo>(status, flavour, body),
        |f| format!("{:?}", f.as_ref().map(|f| &f.status)),
    );
    out.push(
        "OVF summary",
        read::<OvfSummary>(status, flavour, body),
        |s| format!("{:?} networks", s.as_ref().map(|s| s.networks.len())),
    );
    out.push(
        "OVF deployment → VM",
        read::<DeploymentResult>(status, flavour, body)
            .and_then(|r| r.map(|r| deployed_vm("item", r)).transpose()),
        |vm| format!("{vm:?}"),
    );
    out.push(
        "tag associations",
        read::<Vec<ObjectToTags>>(status, flavour, body),
        |a| format!("{:?} objects", a.as_ref().map(Vec::len)),
    );
    out.push(
        "tagged objects",
        read::<Vec<DynamicId>>(status, flavour, body),
        |a| format!("{:?} objects", a.as_ref().map(Vec::len)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid_core::ErrorKind;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn ok(out: &[Decoded], reader: &str) -> String {
        out.iter()
            .find(|d| d.reader == reader)
            .unwrap_or_else(|| panic!("no reader {reader}"))
            .outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("{reader}: {e}"))
            .clone()
    }

    #[test]
    fn real_answers_are_read_by_their_readers() {
        let sc = soap(&fixture("vcsim-RetrieveServiceContent.resp.xml"));
        assert_eq!(ok(&sc, "SOAP envelope"), "RetrieveServiceContentResponse");
        assert!(ok(&sc, "ServiceContent").contains("VMware"));
        let login = soap(&fixture("vcsim-Login.resp.xml"));
        assert_eq!(ok(&login, "UserSession"), "user");
        let task = soap(
            br#"<Envelope><Body><RetrievePropertiesExResponse><returnval><objects><obj type="Task">task-1</obj><propSet><name>info</name><val><key>task-1</key><state>error</state><error><fault type="SystemError"/><localizedMessage>no space</localizedMessage></error></val></propSet></objects></returnval></RetrievePropertiesExResponse></Body></Envelope>"#,
        );
        let failure = task
            .iter()
            .find(|d| d.reader == "TaskInfo → failure")
            .unwrap();
        let e = failure.outcome.as_ref().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::OperationFailed);
        assert_eq!(e.message(), "task: SystemError: no space");
        let hw = soap(&fixture("vcsim-vm-hardware.resp.xml"));
        assert!(ok(&hw, "VirtualMachine → devices").ends_with("devices"));
        assert!(hw
            .iter()
            .any(|d| d.reader == "device → disk" && d.outcome.is_ok()));
        let disk = soap(&fixture("vcsim-RetrieveVStorageObject.resp.xml"));
        assert!(!ok(&disk, "RetrieveVStorageObject → volume").is_empty());
        let fault = soap(&fixture("vcsim-fault-NotAuthenticated.resp.xml"));
        assert_eq!(fault.len(), 1);
        assert_eq!(
            fault[0].outcome.as_ref().unwrap_err().kind(),
            ErrorKind::Unauthenticated
        );
    }

    #[test]
    fn vapi_answers_and_errors() {
        let out = vapi(200, br#"{"value":["a","b"]}"#);
        assert!(out
            .iter()
            .any(|d| d.reader == "ids" && d.outcome.as_deref().ok() == Some("Some(2) ids")));
        let out = vapi(
            201,
            br#"{"id":"c1","name":"hybrid","cardinality":"MULTIPLE","associable_types":[]}"#,
        );
        assert!(out.iter().any(
            |d| d.reader == "tag category" && d.outcome.as_deref().ok() == Some("Some(\"c1\")")
        ));
        let out = vapi(404, br#"{"error_type":"NOT_FOUND","messages":[]}"#);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].outcome.as_ref().unwrap_err().kind(),
            ErrorKind::NotFound
        );
        for d in vapi(200, b"{\"value\": [") {
            assert_eq!(
                d.outcome.unwrap_err().kind(),
                ErrorKind::InvalidResponse,
                "{}",
                d.reader
            );
        }
    }
}
