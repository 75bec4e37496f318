//! Content libraries (vAPI REST): library items as core images, uploads through update
//! sessions, URL imports (`PULL`), downloads through download sessions, and OVF
//! deployment.
//!
//! - **Images.** A library item is an image whose id is the item's UUID (VM templates
//!   keep their `vm-N` ids). It is bound to its library, the library's datastore and
//!   this vCenter, and never shareable with another environment.
//! - **Uploads** (`create_image` with bytes): an item is created in the library named
//!   by [`VsphereConfig::content_library`](crate::VsphereConfig::content_library)
//!   (a local library created on demand on the default datastore), then an update
//!   session: add the file (`PUSH`), `PUT` the bytes (streamed) to the upload endpoint,
//!   validate, complete; the operation ends when the session is `DONE`. OVA, OVF and
//!   ISO files make `ovf` and `iso` items; other formats are stored as plain library
//!   files (a generic item). A failed upload fails the session and deletes the item.
//! - **Imports** (`create_image` from a URL): the same with a `PULL` file: the vCenter
//!   fetches the URL itself; the operation waits for the file, then validates and
//!   completes.
//! - **Downloads**: a download session, `prepare` the item's file, wait until it is
//!   `PREPARED`, stream its download endpoint, delete the session. Items of several
//!   files (an OVF with its disks) cannot be one byte stream.
//! - **Deployment**: `create_server` with an `ovf` item as the image deploys it
//!   (`ovf/library-item?action=deploy` into the zone's pool, the VM folder and the
//!   default datastore, every OVF network mapped to the server's network), then sizes
//!   it to the flavor, tags it and powers it on.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use hybrid_core::model::*;
use hybrid_core::operation::{Backoff, WaitOptions};
use hybrid_core::{
    ByteStream, Error, ErrorKind, Feature, ImageData, Operation, PollResult, Poller, Progress,
    Result,
};

use crate::api::library as api;
use crate::protocol::vapi::{
    DeployRequest, DeploymentResult, DeploymentSpec, DeploymentTarget, FileAddSpec, FilterRequest,
    Flavour, ItemCreateSpec, ItemFile, ItemModel, LibraryModel, LocalLibraryCreateSpec, MapEntry,
    PublishInfo, StorageBacking, TransferEndpoint,
};
use crate::provider::{Inner, VsphereProvider};

/// Whether `id` is a content-library item id (a UUID) rather than a VM's `vm-N`.
pub(crate) fn is_item_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8usize, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A file name safe for a library item: `[A-Za-z0-9._-]`, others become `_`.
fn file_name(name: &str, ext: &str) -> String {
    let base: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = if base.is_empty() {
        "image".to_owned()
    } else {
        base
    };
    format!("{base}.{ext}")
}

/// The item type and file name for a new image of `spec`.
fn item_kind(spec: &CreateImage) -> Result<(Option<&'static str>, String)> {
    let disk = spec
        .disk_format
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    let container = spec
        .container_format
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    if container == "ova" || disk == "ova" {
        return Ok((Some("ovf"), file_name(&spec.name, "ova")));
    }
    if container == "ovf" {
        return Ok((Some("ovf"), file_name(&spec.name, "ovf")));
    }
    if disk == "iso" {
        return Ok((Some("iso"), file_name(&spec.name, "iso")));
    }
    if !disk.is_empty() && disk.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok((None, file_name(&spec.name, &disk)));
    }
    if disk.is_empty() {
        return Ok((None, file_name(&spec.name, "img")));
    }
    Err(Error::invalid_input(format!(
        "disk_format {disk:?} is not a file extension (letters and digits)"
    )))
}

/// Formats of an item from its type and files: `(disk_format, container_format)`.
fn formats(item: &ItemModel, files: &[ItemFile]) -> (Option<String>, Option<String>) {
    let has = |ext: &str| {
        files
            .iter()
            .any(|f| f.name.to_ascii_lowercase().ends_with(ext))
    };
    let s = |v: &str| Some(v.to_owned());
    if has(".ova") {
        (s("vmdk"), s("ova"))
    } else if item.kind == "ovf" || has(".ovf") {
        (s("vmdk"), s("ovf"))
    } else if item.kind == "iso" || has(".iso") {
        (s("iso"), s("bare"))
    } else if item.kind == "vm-template" {
        (s("vmdk"), s("vm-template"))
    } else {
        let ext = files
            .first()
            .and_then(|f| f.name.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase());
        (ext, s("bare"))
    }
}

/// A library item as a core [`Image`].
pub(crate) fn library_image(
    item: &ItemModel,
    files: &[ItemFile],
    library: Option<&LibraryModel>,
    vcenter: &str,
    datastores: &BTreeMap<String, String>,
) -> Image {
    let (disk_format, container_format) = formats(item, files);
    let size = match item.size {
        Some(s) if s > 0 => Some(s),
        // vcsim never fills an item's size: the sum of its files' is the same number.
        _ if !files.is_empty() => Some(files.iter().filter_map(|f| f.size).sum()),
        _ => None,
    };
    let lib_name = library.map_or(item.library_id.as_str(), |l| l.name.as_str());
    let ds: Vec<String> = library
        .map(|l| {
            l.storage_backings
                .iter()
                .filter_map(|b| b.datastore_id.as_ref())
                .map(|d| datastores.get(d).cloned().unwrap_or_else(|| d.clone()))
                .collect()
        })
        .unwrap_or_default();
    let bound_to = if ds.is_empty() {
        format!("content library {lib_name} of vCenter {vcenter}")
    } else {
        format!(
            "content library {lib_name} on datastore {} of vCenter {vcenter}",
            ds.join(", ")
        )
    };
    let mut properties = Metadata::new();
    properties.insert("vsphere.kind".into(), "library-item".into());
    properties.insert("vsphere.library_id".into(), item.library_id.clone());
    properties.insert("vsphere.library".into(), lib_name.to_owned());
    if !item.kind.is_empty() {
        properties.insert("vsphere.library_item_type".into(), item.kind.clone());
    }
    if !files.is_empty() {
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        properties.insert("vsphere.files".into(), names.join(","));
    }
    Image {
        id: ImageId::new(&item.id),
        name: item.name.clone(),
        status: if files.is_empty() {
            ImageStatus::Queued
        } else {
            ImageStatus::Active
        },
        disk_format,
        container_format,
        size_bytes: size,
        checksum: None,
        visibility: Visibility::Private,
        min_disk_gib: 0,
        min_ram_mib: 0,
        os_family: None,
        locality: ImageLocality {
            bound_to: Some(bound_to),
            shareable: false,
        },
        tags: Vec::new(),
        properties,
        raw: None,
    }
}

/// A file to upload into a library item with
/// [`VsphereProvider::upload_library_item`].
pub struct LibraryFile {
    /// The file name in the item, for example `web.ovf` or `web-disk1.vmdk`.
    pub name: String,
    /// The bytes.
    pub data: ByteStream,
    /// The length, when known (sent as the file's size and `Content-Length`).
    pub size: Option<u64>,
}

impl std::fmt::Debug for LibraryFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibraryFile")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A content library.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContentLibrary {
    /// The library id (a UUID).
    pub id: String,
    /// The name.
    pub name: String,
    /// `LOCAL` or `SUBSCRIBED`.
    pub kind: String,
    /// The datastores it stores items on (names where known, else ids).
    pub datastores: Vec<String>,
}

impl Inner {
    pub(crate) fn vcenter_name(&self) -> String {
        let about = &self.session.content.about;
        let host = url::Url::parse(&self.config.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        match &about.instance_uuid {
            Some(u) if !u.is_empty() => format!("{host} ({u})"),
            _ => host,
        }
    }

    /// A library's details, cached.
    pub(crate) async fn library(&self, id: &str) -> Result<LibraryModel> {
        if let Some(l) = self.libraries.lock().ok().and_then(|m| m.get(id).cloned()) {
            return Ok(l);
        }
        let l = api::get_library(&self.vapi, id).await?;
        if let Ok(mut m) = self.libraries.lock() {
            m.insert(id.to_owned(), l.clone());
        }
        Ok(l)
    }

    /// Item `id` as an image (its library and files read too).
    pub(crate) async fn library_item_image(&self, id: &str) -> Result<Image> {
        let item = api::get_item(&self.vapi, id).await.map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                Error::not_found(format!("image {id}")).with_source(e)
            } else {
                e
            }
        })?;
        self.item_to_image(&item).await
    }

    async fn item_to_image(&self, item: &ItemModel) -> Result<Image> {
        let files = api::list_item_files(&self.vapi, &item.id).await?;
        let lib = match self.library(&item.library_id).await {
            Ok(l) => Some(l),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(library_image(
            item,
            &files,
            lib.as_ref(),
            &self.vcenter_name(),
            &self.facts().datastores,
        ))
    }

    /// Every `(library, item)` id pair, in a stable order.
    async fn all_item_ids(&self) -> Result<Vec<String>> {
        let mut libs = api::list_libraries(&self.vapi).await?;
        libs.sort();
        let mut out = Vec::new();
        for l in libs {
            let mut items = match api::list_items(&self.vapi, &l).await {
                Ok(i) => i,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            items.sort();
            out.extend(items);
        }
        Ok(out)
    }

    /// Library items `offset..offset+size` as images, and the next offset.
    pub(crate) async fn library_images(
        &self,
        offset: usize,
        size: usize,
    ) -> Result<(Vec<Image>, Option<usize>)> {
        let ids = self.all_item_ids().await?;
        let end = (offset + size.max(1)).min(ids.len());
        let mut out = Vec::new();
        for id in ids.get(offset..end).unwrap_or_default() {
            match self.library_item_image(id).await {
                Ok(i) => out.push(i),
                // Deleted between the list and the get.
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok((out, (end < ids.len()).then_some(end)))
    }

    /// The id of the library named `name`, when it exists.
    async fn find_library(&self, name: &str) -> Result<Option<String>> {
        for id in api::list_libraries(&self.vapi).await? {
            match self.library(&id).await {
                Ok(l) if l.name == name => return Ok(Some(l.id)),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// The library uploads go to: the configured one, created on demand as a local
    /// library on the default datastore.
    async fn target_library(&self, name: Option<&str>) -> Result<String> {
        let want = name.unwrap_or(&self.config.content_library).to_owned();
        let _one_at_a_time = self.library_lock.lock().await;
        if let Some(id) = self.find_library(&want).await? {
            return Ok(id);
        }
        if name.is_some() && name != Some(self.config.content_library.as_str()) {
            return Err(Error::not_found(format!("content library {want}")));
        }
        let ds = self.facts().datastore.clone().ok_or_else(|| {
            Error::config("no datastore for the content library: set GOVC_DATASTORE")
        })?;
        let spec = LocalLibraryCreateSpec {
            name: want.clone(),
            description: "images uploaded by hybrid".to_owned(),
            kind: "LOCAL".to_owned(),
            storage_backings: vec![StorageBacking {
                kind: "DATASTORE".to_owned(),
                datastore_id: Some(ds.0.value.clone()),
                storage_uri: None,
            }],
            publish_info: Some(PublishInfo {
                authentication_method: "NONE".to_owned(),
                published: false,
            }),
        };
        match api::create_local_library(&self.vapi, &spec).await {
            Ok(id) => Ok(id),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                self.find_library(&want).await?.ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Drops a failed upload: fails the session and deletes the new item (best effort;
    /// the original error is what the caller sees).
    async fn abandon(&self, item: &str, session: Option<&str>, why: &str) {
        if let Some(s) = session {
            if let Err(e) = api::fail(&self.vapi, s, why).await {
                tracing::warn!(target: "hybrid_vsphere", error = %e, "could not fail the update session");
            }
            if let Err(e) = api::delete_update_session(&self.vapi, s).await {
                tracing::warn!(target: "hybrid_vsphere", error = %e, "could not delete the update session");
            }
        }
        if let Err(e) = api::delete_item(&self.vapi, item).await {
            tracing::warn!(target: "hybrid_vsphere", error = %e, item, "could not delete the library item of a failed upload");
        }
    }

    /// Creates item `name` in `library` and starts an update session with `files`
    /// (pushed) or `url` (pulled); the operation ends with the image.
    pub(crate) async fn start_upload(
        self: &Arc<Inner>,
        library: Option<&str>,
        name: &str,
        kind: Option<&str>,
        content: Content,
    ) -> Result<Operation<Image>> {
        if name.trim().is_empty() {
            return Err(Error::invalid_input("an image needs a name"));
        }
        let library = self.target_library(library).await?;
        let item = api::create_item(
            &self.vapi,
            &ItemCreateSpec {
                library_id: library,
                name: name.to_owned(),
                description: "uploaded by hybrid".to_owned(),
                kind: kind.map(str::to_owned),
            },
        )
        .await?;
        let session = match api::create_update_session(&self.vapi, &item).await {
            Ok(s) => s,
            Err(e) => {
                self.abandon(&item, None, "could not create an update session")
                    .await;
                return Err(e);
            }
        };
        let pushed = matches!(content, Content::Push(_));
        if let Err(e) = self.transfer(&session, content).await {
            self.abandon(&item, Some(&session), &e.to_string()).await;
            return Err(e);
        }
        let mut poller = UploadPoller {
            inner: self.clone(),
            item: item.clone(),
            session: session.clone(),
            phase: if pushed { Phase::Validate } else { Phase::Pull },
        };
        if pushed {
            // The bytes are in: validate and complete now, so that nothing is left
            // half-done when the caller never awaits the operation.
            if let Err(e) = poller.poll().await {
                if poller.phase != Phase::Ended {
                    self.abandon(&item, Some(&session), &e.to_string()).await;
                }
                return Err(e);
            }
        }
        Ok(Operation::from_poller(format!("upload image {name}"), poller).with_resource(item))
    }

    async fn transfer(&self, session: &str, content: Content) -> Result<()> {
        match content {
            Content::Push(files) => {
                for f in files {
                    let info = api::add_file(
                        &self.vapi,
                        session,
                        &FileAddSpec {
                            name: f.name.clone(),
                            source_type: "PUSH".to_owned(),
                            size: f.size,
                            source_endpoint: None,
                        },
                    )
                    .await?;
                    let endpoint = info.upload_endpoint.ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidResponse,
                            format!("the vCenter named no upload endpoint for {}", f.name),
                        )
                    })?;
                    self.vapi.upload(&endpoint.uri, f.data, f.size).await?;
                }
                Ok(())
            }
            Content::Pull { name, url } => {
                api::add_file(
                    &self.vapi,
                    session,
                    &FileAddSpec {
                        name,
                        source_type: "PULL".to_owned(),
                        size: None,
                        source_endpoint: Some(TransferEndpoint { uri: url }),
                    },
                )
                .await?;
                Ok(())
            }
        }
    }

    /// Streams the only file of item `id`.
    pub(crate) async fn download_item(self: &Arc<Inner>, id: &str) -> Result<ByteStream> {
        let item = api::get_item(&self.vapi, id).await.map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                Error::not_found(format!("image {id}")).with_source(e)
            } else {
                e
            }
        })?;
        let files = api::list_item_files(&self.vapi, &item.id).await?;
        let file = match files.as_slice() {
            [] => {
                return Err(
                    Error::new(ErrorKind::Conflict, format!("image {id} has no data yet"))
                        .with_resource(id),
                )
            }
            [one] => one.name.clone(),
            many => {
                return Err(Error::invalid_input(format!(
                    "image {id} is {} files ({}), which cannot be one byte stream",
                    many.len(),
                    many.iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let session = api::create_download_session(&self.vapi, &item.id).await?;
        let uri = match self.prepared(&session, &file).await {
            Ok(u) => u,
            Err(e) => {
                let _ = api::delete_download_session(&self.vapi, &session).await;
                return Err(e);
            }
        };
        let data = match self.vapi.download(&uri).await {
            Ok(d) => d,
            Err(e) => {
                let _ = api::delete_download_session(&self.vapi, &session).await;
                return Err(e);
            }
        };
        // Once the stream ends, the session is deleted; a stream dropped early leaves
        // it to expire on the vCenter.
        let inner = self.clone();
        let cleanup = futures::stream::once(async move {
            if let Err(e) = api::delete_download_session(&inner.vapi, &session).await {
                tracing::warn!(target: "hybrid_vsphere", error = %e, "could not delete the download session");
            }
        })
        .filter_map(|()| async { None });
        Ok(data.chain(cleanup).boxed())
    }

    /// Prepares `file` of download session `session` and waits until it is ready.
    async fn prepared(&self, session: &str, file: &str) -> Result<String> {
        let mut info = api::prepare_file(&self.vapi, session, file).await?;
        let mut backoff = Backoff::new(WaitOptions {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            ..WaitOptions::default()
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            match info.status.as_str() {
                "PREPARED" => {
                    return info.download_endpoint.map(|e| e.uri).ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidResponse,
                            format!("file {file} is prepared but has no download endpoint"),
                        )
                    })
                }
                "ERROR" => {
                    return Err(Error::new(
                        ErrorKind::OperationFailed,
                        format!(
                            "the vCenter could not prepare {file} for download: {}",
                            info.error_message
                                .map(|m| m.default_message)
                                .unwrap_or_default()
                        ),
                    ))
                }
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("file {file} was not prepared for download within 600 s"),
                ));
            }
            tokio::time::sleep(backoff.next_delay(None)).await;
            info = api::get_download_file(&self.vapi, session, file).await?;
        }
    }

    /// Deploys OVF item `item` as VM `name` into `pool`/`folder`/`datastore`, mapping
    /// every OVF network to `network`; the new VM's id.
    pub(crate) async fn deploy_ovf(
        &self,
        item: &str,
        name: &str,
        pool: &str,
        folder: &str,
        datastore: &str,
        network: Option<&str>,
    ) -> Result<String> {
        let info = api::get_item(&self.vapi, item).await.map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                Error::not_found(format!("image {item}")).with_source(e)
            } else {
                e
            }
        })?;
        if info.kind != "ovf" {
            return Err(Error::invalid_input(format!(
                "image {item} is a content-library item of type {:?}; only OVF items can be deployed as servers",
                info.kind
            )));
        }
        let target = DeploymentTarget {
            resource_pool_id: pool.to_owned(),
            folder_id: Some(folder.to_owned()),
            host_id: None,
        };
        let summary = api::ovf_filter(
            &self.vapi,
            item,
            &FilterRequest {
                target: target.clone(),
            },
        )
        .await?;
        let mappings = match network {
            Some(net) if !summary.networks.is_empty() => {
                let pairs: Vec<(String, String)> = summary
                    .networks
                    .iter()
                    .map(|n| (n.clone(), net.to_owned()))
                    .collect();
                Some(match self.vapi.flavour().await? {
                    Flavour::Api => serde_json::Value::Object(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k, serde_json::Value::String(v)))
                            .collect(),
                    ),
                    Flavour::Rest => serde_json::to_value(
                        pairs
                            .into_iter()
                            .map(|(key, value)| MapEntry { key, value })
                            .collect::<Vec<_>>(),
                    )
                    .map_err(|e| {
                        Error::invalid_input("the network mappings cannot be serialized")
                            .with_source(e)
                    })?,
                })
            }
            _ => None,
        };
        let req = DeployRequest {
            target,
            deployment_spec: DeploymentSpec {
                name: Some(name.to_owned()),
                annotation: None,
                accept_all_eula: true,
                network_mappings: mappings,
                storage_provisioning: Some("thin".to_owned()),
                default_datastore_id: Some(datastore.to_owned()),
            },
        };
        let r = api::ovf_deploy(&self.vapi, item, &req).await?;
        deployed_vm(item, r)
    }
}

/// The VM an OVF deployment of `item` made, or why it failed (`OperationFailed` with
/// the vCenter's reasons; `InvalidResponse` when it made something else or named
/// nothing).
pub(crate) fn deployed_vm(item: &str, r: DeploymentResult) -> Result<String> {
    if !r.succeeded {
        let why: Vec<String> = r
            .error
            .map(|e| e.errors.iter().map(|m| m.text()).collect())
            .unwrap_or_default();
        return Err(Error::new(
            ErrorKind::OperationFailed,
            format!(
                "deploying OVF item {item} failed: {}",
                if why.is_empty() {
                    "the vCenter gave no reason".to_owned()
                } else {
                    why.join("; ")
                }
            ),
        )
        .with_resource(item));
    }
    match r.resource_id {
        Some(rid) if rid.kind == "VirtualMachine" => Ok(rid.id),
        Some(rid) => Err(Error::new(
            ErrorKind::InvalidResponse,
            format!(
                "deploying OVF item {item} made a {} ({}), not a VM",
                rid.kind, rid.id
            ),
        )),
        None => Err(Error::new(
            ErrorKind::InvalidResponse,
            format!("deploying OVF item {item} succeeded but named no VM"),
        )),
    }
}

/// A library as a [`ContentLibrary`], its datastores named from `datastores` (id →
/// name).
pub(crate) fn content_library(
    l: &LibraryModel,
    datastores: &BTreeMap<String, String>,
) -> ContentLibrary {
    ContentLibrary {
        id: l.id.clone(),
        name: l.name.clone(),
        kind: l.kind.clone(),
        datastores: l
            .storage_backings
            .iter()
            .filter_map(|b| b.datastore_id.as_ref())
            .map(|d| datastores.get(d).cloned().unwrap_or_else(|| d.clone()))
            .collect(),
    }
}

/// What an update session receives.
pub(crate) enum Content {
    /// Files the client uploads.
    Push(Vec<LibraryFile>),
    /// A file the vCenter fetches from `url`.
    Pull { name: String, url: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a pulled file to arrive.
    Pull,
    /// Files are in: validate and complete.
    Validate,
    /// Completed: waiting for the session to be `DONE`.
    Finish,
    Ended,
}

/// Drives an update session to its end.
struct UploadPoller {
    inner: Arc<Inner>,
    item: String,
    session: String,
    phase: Phase,
}

impl UploadPoller {
    async fn failed(&mut self, why: String) -> Error {
        self.phase = Phase::Ended;
        self.inner
            .abandon(&self.item, Some(&self.session), &why)
            .await;
        Error::new(ErrorKind::OperationFailed, why).with_resource(self.item.clone())
    }
}

#[hybrid_core::async_trait]
impl Poller<Image> for UploadPoller {
    async fn poll(&mut self) -> Result<PollResult<Image>> {
        let v = &self.inner.vapi;
        match self.phase {
            Phase::Pull => {
                let files = api::list_session_files(v, &self.session).await?;
                if let Some(f) = files.iter().find(|f| f.status == "ERROR") {
                    let why = format!(
                        "the vCenter could not fetch {}: {}",
                        f.name,
                        f.error_message
                            .as_ref()
                            .map(|m| m.default_message.as_str())
                            .unwrap_or("no reason given")
                    );
                    return Err(self.failed(why).await);
                }
                if !files.is_empty() && files.iter().all(|f| f.status == "READY") {
                    self.phase = Phase::Validate;
                    return Ok(PollResult::Pending(Progress::status("files fetched")));
                }
                let done: u64 = files.iter().filter_map(|f| f.bytes_transferred).sum();
                let total: u64 = files.iter().filter_map(|f| f.size).sum();
                let mut p = Progress::status(format!("vCenter fetching: {done} bytes"));
                if let Some(pct) = (done.min(total) * 100).checked_div(total) {
                    p = p.with_percent(pct as u8);
                }
                Ok(PollResult::Pending(p))
            }
            Phase::Validate => {
                if let Some(r) = api::validate(v, &self.session).await? {
                    if r.has_errors {
                        let mut why = Vec::new();
                        if !r.missing_files.is_empty() {
                            why.push(format!("missing files: {}", r.missing_files.join(", ")));
                        }
                        for f in &r.invalid_files {
                            why.push(format!(
                                "{} is invalid: {}",
                                f.name,
                                f.error_message
                                    .as_ref()
                                    .map(|m| m.default_message.as_str())
                                    .unwrap_or("no reason given")
                            ));
                        }
                        if why.is_empty() {
                            why.push("validation failed without details".to_owned());
                        }
                        let why = format!("the uploaded files are not valid: {}", why.join("; "));
                        return Err(self.failed(why).await);
                    }
                }
                api::complete(v, &self.session).await?;
                self.phase = Phase::Finish;
                Ok(PollResult::Pending(Progress::status("upload completed")))
            }
            Phase::Finish => {
                let s = api::get_update_session(v, &self.session).await?;
                match s.state.as_str() {
                    "DONE" => {
                        self.phase = Phase::Ended;
                        Ok(PollResult::Ready(
                            self.inner.library_item_image(&self.item).await?,
                        ))
                    }
                    "ERROR" | "CANCELED" => {
                        let why = format!(
                            "the update session ended in {}: {}",
                            s.state,
                            s.error_message
                                .map(|m| m.default_message)
                                .unwrap_or_default()
                        );
                        Err(self.failed(why).await)
                    }
                    other => Ok(PollResult::Pending(Progress::status(format!(
                        "update session {other}"
                    )))),
                }
            }
            Phase::Ended => Err(Error::new(
                ErrorKind::Other,
                "the operation was polled again after it ended",
            )),
        }
    }
}

impl VsphereProvider {
    pub(crate) async fn core_create_image(
        &self,
        spec: &CreateImage,
        data: ImageData,
    ) -> Result<Operation<Image>> {
        let (kind, file) = item_kind(spec)?;
        let content = match data {
            ImageData::Upload { stream, size } => {
                self.inner.caps().require(Feature::ImageUpload)?;
                Content::Push(vec![LibraryFile {
                    name: file,
                    data: stream,
                    size,
                }])
            }
            ImageData::Url(url) => {
                self.inner.caps().require(Feature::ImageImportUrl)?;
                let u = url::Url::parse(&url).map_err(|e| {
                    Error::invalid_input("the image URL is not a valid URL").with_source(e)
                })?;
                if !matches!(u.scheme(), "http" | "https") {
                    return Err(Error::invalid_input(format!(
                        "the vCenter can only import from http or https URLs, not {}",
                        u.scheme()
                    )));
                }
                Content::Pull { name: file, url }
            }
        };
        self.inner
            .start_upload(None, &spec.name, kind, content)
            .await
    }

    /// The content libraries of this vCenter.
    ///
    /// Requires [`Feature::ImageUpload`] (the vSphere Automation API).
    ///
    /// # Errors
    /// Transport and service errors.
    pub async fn list_libraries(&self) -> Result<Vec<ContentLibrary>> {
        self.inner.caps().require(Feature::ImageUpload)?;
        let mut out = Vec::new();
        for id in api::list_libraries(&self.inner.vapi).await? {
            let l = match self.inner.library(&id).await {
                Ok(l) => l,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            out.push(content_library(&l, &self.inner.facts().datastores));
        }
        Ok(out)
    }

    /// The items of library `library_id` as images.
    ///
    /// Requires [`Feature::ImageUpload`].
    ///
    /// # Errors
    /// `NotFound` (library), transport and service errors.
    pub async fn list_library_items(&self, library_id: &str) -> Result<Vec<Image>> {
        self.inner.caps().require(Feature::ImageUpload)?;
        let mut out = Vec::new();
        for id in api::list_items(&self.inner.vapi, library_id).await? {
            match self.inner.library_item_image(&id).await {
                Ok(i) => out.push(i),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Deletes content library `library_id` (a local library) with its items.
    ///
    /// Requires [`Feature::ImageUpload`].
    ///
    /// # Errors
    /// `NotFound`, transport and service errors.
    pub async fn delete_library(&self, library_id: &str) -> Result<()> {
        self.inner.caps().require(Feature::ImageUpload)?;
        api::delete_local_library(&self.inner.vapi, library_id).await?;
        if let Ok(mut m) = self.inner.libraries.lock() {
            m.remove(library_id);
        }
        Ok(())
    }

    /// Creates item `name` of `item_type` (`ovf`, `iso`, or `None` for plain files) in
    /// `library` (by name; the configured library when `None`) and uploads `files`
    /// into it through one update session: for an OVF package, the `.ovf` descriptor
    /// and the disks it names. The operation ends when the vCenter has accepted the
    /// files.
    ///
    /// Requires [`Feature::ImageUpload`].
    ///
    /// # Errors
    /// `InvalidInput` (no name or no files), `NotFound` (library), `AlreadyExists`
    /// (an item of that name), the upload's errors; the operation fails with
    /// `OperationFailed` when the vCenter rejects the files (the item is deleted).
    pub async fn upload_library_item(
        &self,
        library: Option<&str>,
        name: &str,
        item_type: Option<&str>,
        files: Vec<LibraryFile>,
    ) -> Result<Operation<Image>> {
        self.inner.caps().require(Feature::ImageUpload)?;
        if files.is_empty() {
            return Err(Error::invalid_input("an upload needs at least one file"));
        }
        self.inner
            .start_upload(library, name, item_type, Content::Push(files))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids_are_uuids() {
        assert!(is_item_id("6cbbef21-a5a3-4929-aecf-619da80881df"));
        assert!(!is_item_id("vm-42"));
        assert!(!is_item_id("6cbbef21-a5a3-4929-aecf-619da80881dz"));
        assert!(!is_item_id("6cbbef21a5a34929aecf619da80881df"));
    }

    #[test]
    fn formats_and_file_names() {
        let spec = CreateImage::new("web 1/x", "raw", "bare");
        assert_eq!(item_kind(&spec).unwrap(), (None, "web_1_x.raw".to_owned()));
        let spec = CreateImage::new("w", "vmdk", "ova");
        assert_eq!(item_kind(&spec).unwrap(), (Some("ovf"), "w.ova".to_owned()));
        let spec = CreateImage::new("w", "vmdk", "ovf");
        assert_eq!(item_kind(&spec).unwrap(), (Some("ovf"), "w.ovf".to_owned()));
        let spec = CreateImage::new("w", "iso", "bare");
        assert_eq!(item_kind(&spec).unwrap(), (Some("iso"), "w.iso".to_owned()));
        let spec = CreateImage::new("w", "../x", "bare");
        assert_eq!(
            item_kind(&spec).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn items_become_bound_images() {
        let item: ItemModel = serde_json::from_str(
            r#"{"id":"6cbbef21-a5a3-4929-aecf-619da80881df","library_id":"lib-1","name":"web","type":"ovf"}"#,
        )
        .unwrap();
        let files: Vec<ItemFile> = serde_json::from_str(
            r#"[{"name":"web.ovf","size":100},{"name":"web-disk1.vmdk","size":900}]"#,
        )
        .unwrap();
        let lib: LibraryModel = serde_json::from_str(
            r#"{"id":"lib-1","name":"gold","type":"LOCAL","storage_backings":[{"type":"DATASTORE","datastore_id":"datastore-9"}]}"#,
        )
        .unwrap();
        let ds = BTreeMap::from([("datastore-9".to_owned(), "LocalDS_0".to_owned())]);
        let i = library_image(&item, &files, Some(&lib), "vc.example (u-1)", &ds);
        assert_eq!(i.status, ImageStatus::Active);
        assert_eq!(i.size_bytes, Some(1000));
        assert_eq!(i.container_format.as_deref(), Some("ovf"));
        assert!(!i.locality.shareable);
        assert_eq!(
            i.locality.bound_to.as_deref(),
            Some("content library gold on datastore LocalDS_0 of vCenter vc.example (u-1)")
        );
        let empty = library_image(&item, &[], None, "vc", &ds);
        assert_eq!(empty.status, ImageStatus::Queued);
        assert_eq!(empty.size_bytes, None);
    }
}
