//! `Storage` over Cinder (attachments through Nova's `os-volume_attachments`, as
//! Nova must know about them).

use async_trait::async_trait;
use hybrid_core::model::{
    Attachment, CreateSnapshot, CreateVolume, ServerId, Snapshot, SnapshotId, SnapshotStatus,
    Volume, VolumeId, VolumeStatus,
};
use hybrid_core::provider::{ItemStream, Storage};
use hybrid_core::{Error, ErrorKind, ListOptions, Operation, Page, PageToken, Result};
use serde_json::Value;

use super::{
    convert_page, listing, poll_until, poll_until_gone, query, Dialect, Inner, OpenStackProvider,
    Step,
};
use crate::api::{self, block_storage as cinder, compute as nova};
use crate::protocol::cinder::{CinderSnapshot, CinderVolume};
use crate::protocol::requests;

/// Cinder answers `400 Invalid volume: Volume status must be …` (and `Invalid
/// snapshot`) when the resource's state forbids the call: a state conflict, which the
/// portable contract calls [`ErrorKind::Conflict`].
fn state_conflict(e: Error) -> Error {
    let m = e.message();
    if e.kind() == ErrorKind::InvalidInput
        && e.http_status() == Some(400)
        && (m.contains("Invalid volume")
            || m.contains("Invalid snapshot")
            || m.contains("status must be"))
    {
        e.with_kind(ErrorKind::Conflict)
    } else {
        e
    }
}

fn volume(v: Value) -> Result<Volume> {
    let c: CinderVolume = api::decode(&v, "a volume")?;
    Ok(c.into_core(Some(v)))
}

fn snapshot(v: Value) -> Result<Snapshot> {
    let c: CinderSnapshot = api::decode(&v, "a snapshot")?;
    Ok(c.into_core(Some(v)))
}

impl Inner {
    async fn volume(&self, id: &str) -> Result<Volume> {
        volume(cinder::get_volume(&self.api, id).await?)
    }

    async fn snapshot(&self, id: &str) -> Result<Snapshot> {
        snapshot(cinder::get_snapshot(&self.api, id).await?)
    }

    async fn volumes_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Volume>> {
        let page = cinder::list_volumes(
            &self.api,
            query(options, Dialect::Cinder),
            options.page_size,
            token,
        )
        .await?;
        let page = convert_page(page, volume)?;
        Ok(Page::new(
            page.items
                .into_iter()
                .filter(|v| options.matches(&v.name, &[]))
                .collect(),
            page.next,
        ))
    }

    async fn snapshots_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Snapshot>> {
        let page = cinder::list_snapshots(
            &self.api,
            query(options, Dialect::Cinder),
            options.page_size,
            token,
        )
        .await?;
        let page = convert_page(page, snapshot)?;
        Ok(Page::new(
            page.items
                .into_iter()
                .filter(|s| options.matches(&s.name, &[]))
                .collect(),
            page.next,
        ))
    }
}

impl OpenStackProvider {
    /// Polls volume `id` until `judge` says so.
    fn volume_op(
        &self,
        description: String,
        id: &VolumeId,
        judge: impl Fn(&Volume) -> Step + Send + Sync + 'static,
    ) -> Operation<Volume> {
        let inner = self.inner.clone();
        let vid = id.as_str().to_owned();
        poll_until(
            description,
            id.to_string(),
            move || {
                let inner = inner.clone();
                let vid = vid.clone();
                async move { inner.volume(&vid).await }
            },
            judge,
        )
    }
}

fn volume_failed(v: &Volume) -> Option<Step> {
    match &v.status {
        VolumeStatus::Error => Some(Step::Failed(format!("volume {} went to error", v.id))),
        VolumeStatus::Other(s) if s.starts_with("error") => {
            Some(Step::Failed(format!("volume {} went to {s}", v.id)))
        }
        _ => None,
    }
}

#[async_trait]
impl Storage for OpenStackProvider {
    fn list_volumes(&self, options: ListOptions) -> ItemStream<Volume> {
        let inner = self.inner.clone();
        listing(move |token| {
            let inner = inner.clone();
            let options = options.clone();
            async move { inner.volumes_page(&options, token).await }
        })
    }

    async fn list_volumes_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Volume>> {
        self.inner.volumes_page(options, page).await
    }

    async fn get_volume(&self, id: &VolumeId) -> Result<Volume> {
        self.inner.volume(id.as_str()).await
    }

    async fn create_volume(&self, spec: &CreateVolume) -> Result<Operation<Volume>> {
        let v =
            volume(cinder::create_volume(&self.inner.api, &requests::create_volume(spec)).await?)?;
        Ok(
            self.volume_op(format!("create volume {}", v.id), &v.id, |v| {
                volume_failed(v).unwrap_or_else(|| match &v.status {
                    VolumeStatus::Available => Step::Done,
                    s => Step::Pending(s.to_string()),
                })
            }),
        )
    }

    async fn delete_volume(&self, id: &VolumeId) -> Result<Operation<()>> {
        cinder::delete_volume(&self.inner.api, id.as_str())
            .await
            .map_err(state_conflict)?;
        let inner = self.inner.clone();
        let vid = id.as_str().to_owned();
        Ok(poll_until_gone(
            format!("delete volume {id}"),
            id.to_string(),
            move || {
                let inner = inner.clone();
                let vid = vid.clone();
                async move { inner.volume(&vid).await }
            },
            |v: &Volume| match &v.status {
                VolumeStatus::Other(s) if s == "error_deleting" => {
                    Step::Failed(format!("volume {} went to error_deleting", v.id))
                }
                s => Step::Pending(s.to_string()),
            },
        ))
    }

    async fn extend_volume(&self, id: &VolumeId, new_size_gib: u64) -> Result<Operation<Volume>> {
        cinder::volume_action(
            &self.inner.api,
            id.as_str(),
            &requests::extend_volume(new_size_gib),
            "extend_volume",
        )
        .await
        .map_err(state_conflict)?;
        Ok(self.volume_op(
            format!("extend volume {id} to {new_size_gib} GiB"),
            id,
            move |v| {
                if let Some(f) = volume_failed(v) {
                    return f;
                }
                match &v.status {
                    VolumeStatus::Available | VolumeStatus::InUse if v.size_gib >= new_size_gib => {
                        Step::Done
                    }
                    s => Step::Pending(format!("{s}, {} GiB", v.size_gib)),
                }
            },
        ))
    }

    async fn attach_volume(
        &self,
        volume_id: &VolumeId,
        server: &ServerId,
        device: Option<&str>,
    ) -> Result<Operation<Attachment>> {
        let doc = nova::attach_volume(
            &self.inner.api,
            server.as_str(),
            &requests::attach_volume(volume_id, device),
        )
        .await?;
        let device_now = doc.get("device").and_then(Value::as_str).map(str::to_owned);
        let attachment_id = doc.get("id").and_then(Value::as_str).map(str::to_owned);
        let sid = server.clone();
        let sid2 = server.clone();
        let vid = volume_id.clone();
        Ok(self
            .volume_op(
                format!("attach volume {volume_id} to server {server}"),
                volume_id,
                move |v| {
                    if let Some(f) = volume_failed(v) {
                        return f;
                    }
                    let attached = v.attachments.iter().any(|a| a.server_id == sid);
                    match &v.status {
                        VolumeStatus::InUse if attached => Step::Done,
                        s => Step::Pending(s.to_string()),
                    }
                },
            )
            .map(move |v| {
                let found = v.attachments.into_iter().find(|a| a.server_id == sid2);
                match found {
                    Some(mut a) => {
                        if a.device.is_none() {
                            a.device = device_now;
                        }
                        a
                    }
                    None => Attachment {
                        id: attachment_id,
                        volume_id: vid,
                        server_id: sid2,
                        device: device_now,
                    },
                }
            }))
    }

    async fn detach_volume(
        &self,
        volume_id: &VolumeId,
        server: &ServerId,
    ) -> Result<Operation<()>> {
        nova::detach_volume(&self.inner.api, server.as_str(), volume_id.as_str()).await?;
        let sid = server.clone();
        Ok(self
            .volume_op(
                format!("detach volume {volume_id} from server {server}"),
                volume_id,
                move |v| {
                    if let Some(f) = volume_failed(v) {
                        return f;
                    }
                    let attached = v.attachments.iter().any(|a| a.server_id == sid);
                    match &v.status {
                        VolumeStatus::Detaching | VolumeStatus::Attaching => {
                            Step::Pending(v.status.to_string())
                        }
                        _ if !attached => Step::Done,
                        s => Step::Pending(s.to_string()),
                    }
                },
            )
            .map(drop))
    }

    fn list_snapshots(&self, options: ListOptions) -> ItemStream<Snapshot> {
        let inner = self.inner.clone();
        listing(move |token| {
            let inner = inner.clone();
            let options = options.clone();
            async move { inner.snapshots_page(&options, token).await }
        })
    }

    async fn list_snapshots_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Snapshot>> {
        self.inner.snapshots_page(options, page).await
    }

    async fn get_snapshot(&self, id: &SnapshotId) -> Result<Snapshot> {
        self.inner.snapshot(id.as_str()).await
    }

    async fn create_snapshot(&self, spec: &CreateSnapshot) -> Result<Operation<Snapshot>> {
        let s = snapshot(
            cinder::create_snapshot(
                &self.inner.api,
                &requests::create_snapshot(spec, self.inner.api.negotiated().cinder),
            )
            .await
            .map_err(state_conflict)?,
        )?;
        let inner = self.inner.clone();
        let id = s.id.as_str().to_owned();
        Ok(poll_until(
            format!("snapshot volume {} as {}", spec.volume_id, s.id),
            s.id.to_string(),
            move || {
                let inner = inner.clone();
                let id = id.clone();
                async move { inner.snapshot(&id).await }
            },
            |s: &Snapshot| match &s.status {
                SnapshotStatus::Available => Step::Done,
                SnapshotStatus::Error => Step::Failed(format!("snapshot {} went to error", s.id)),
                st => Step::Pending(st.to_string()),
            },
        ))
    }

    async fn delete_snapshot(&self, id: &SnapshotId) -> Result<Operation<()>> {
        cinder::delete_snapshot(&self.inner.api, id.as_str())
            .await
            .map_err(state_conflict)?;
        let inner = self.inner.clone();
        let sid = id.as_str().to_owned();
        Ok(poll_until_gone(
            format!("delete snapshot {id}"),
            id.to_string(),
            move || {
                let inner = inner.clone();
                let sid = sid.clone();
                async move { inner.snapshot(&sid).await }
            },
            |s: &Snapshot| match &s.status {
                SnapshotStatus::Other(st) if st == "error_deleting" => {
                    Step::Failed(format!("snapshot {} went to error_deleting", s.id))
                }
                st => Step::Pending(st.to_string()),
            },
        ))
    }
}
