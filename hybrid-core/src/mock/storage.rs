//! Mock block storage: volumes, attachments, snapshots, with clock-driven states.

use async_trait::async_trait;

use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::operation::{Operation, PollResult, Progress};
use crate::paging::{ListOptions, Page, PageToken};
use crate::provider::{ItemStream, Storage};

use super::state::{page_of, Transition};
use super::{mock_stream, poll_until, MockProvider};

fn conflict(msg: String) -> Error {
    Error::new(ErrorKind::Conflict, msg).with_http_status(409)
}

impl MockProvider {
    /// An operation that ends when `check` accepts the volume.
    fn volume_until<T: Send + 'static>(
        &self,
        description: String,
        id: &VolumeId,
        check: impl Fn(&Volume) -> Option<T> + Send + Sync + Clone + 'static,
    ) -> Operation<T> {
        let me = self.clone();
        let id = id.clone();
        poll_until(description, id.to_string(), move || {
            let me = me.clone();
            let id = id.clone();
            let check = check.clone();
            async move {
                let v = me.get_volume(&id).await?;
                if let Some(out) = check(&v) {
                    return Ok(PollResult::Ready(out));
                }
                if v.status == VolumeStatus::Error {
                    return Err(Error::new(
                        ErrorKind::OperationFailed,
                        format!("volume {id} went to error"),
                    ));
                }
                Ok(PollResult::Pending(Progress::status(v.status.as_str())))
            }
        })
    }

    fn volume_gone(&self, id: &VolumeId) -> Operation<()> {
        let me = self.clone();
        let id = id.clone();
        poll_until(format!("delete volume {id}"), id.to_string(), move || {
            let me = me.clone();
            let id = id.clone();
            async move {
                match me.get_volume(&id).await {
                    Ok(v) => Ok(PollResult::Pending(Progress::status(v.status.as_str()))),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(PollResult::Ready(())),
                    Err(e) => Err(e),
                }
            }
        })
    }

    /// An operation that ends when `check` accepts the snapshot (`None`: it is gone).
    fn snapshot_until<T: Send + 'static>(
        &self,
        description: String,
        id: &SnapshotId,
        check: impl Fn(Option<&Snapshot>) -> Option<T> + Send + Sync + Clone + 'static,
    ) -> Operation<T> {
        let me = self.clone();
        let id = id.clone();
        poll_until(description, id.to_string(), move || {
            let me = me.clone();
            let id = id.clone();
            let check = check.clone();
            async move {
                let snap = match me.get_snapshot(&id).await {
                    Ok(s) => Some(s),
                    Err(e) if e.kind() == ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                };
                if let Some(out) = check(snap.as_ref()) {
                    return Ok(PollResult::Ready(out));
                }
                match snap {
                    Some(s) if s.status == SnapshotStatus::Error => Err(Error::new(
                        ErrorKind::OperationFailed,
                        format!("snapshot {id} went to error"),
                    )),
                    Some(s) => Ok(PollResult::Pending(Progress::status(s.status.as_str()))),
                    None => Err(Error::not_found(format!("snapshot {id}"))),
                }
            }
        })
    }
}

#[async_trait]
impl Storage for MockProvider {
    fn list_volumes(&self, options: ListOptions) -> ItemStream<Volume> {
        mock_stream!(self, options, list_volumes_page)
    }

    async fn list_volumes_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Volume>> {
        self.enter("list_volumes").await?;
        let st = self.state();
        let (items, next) = page_of(
            &st.volumes,
            options,
            page.as_ref(),
            |v| options.matches(&v.name, &[]),
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_volume(&self, id: &VolumeId) -> Result<Volume> {
        self.enter("get_volume").await?;
        self.state()
            .volumes
            .get(id.as_str())
            .cloned()
            .ok_or_else(|| self.context(Error::not_found(format!("volume {id}")), "get_volume"))
    }

    async fn create_volume(&self, spec: &CreateVolume) -> Result<Operation<Volume>> {
        const OP: &str = "create_volume";
        self.enter(OP).await?;
        if spec.size_gib == 0 {
            return Err(self.context(
                Error::invalid_input("a volume needs a size of at least 1 GiB"),
                OP,
            ));
        }
        let at = self.after(self.delays().build_ms);
        let mut st = self.state();
        if let Some(s) = &spec.snapshot_id {
            match st.snapshots.get(s.as_str()) {
                None => return Err(self.context(Error::not_found(format!("snapshot {s}")), OP)),
                Some(snap) if snap.size_gib > spec.size_gib => {
                    return Err(self.context(
                        Error::invalid_input(format!(
                            "size {} GiB is smaller than snapshot {s} ({} GiB)",
                            spec.size_gib, snap.size_gib
                        )),
                        OP,
                    ))
                }
                Some(_) => {}
            }
        }
        let id = st.next_id("vol");
        let v = Volume {
            id: VolumeId::new(id.clone()),
            name: spec.name.clone(),
            size_gib: spec.size_gib,
            status: VolumeStatus::Creating,
            volume_type: spec.volume_type.clone(),
            bootable: false,
            availability_zone: spec.availability_zone.clone(),
            attachments: Vec::new(),
            metadata: spec.metadata.clone(),
            raw: None,
        };
        st.volumes.insert(id.clone(), v);
        st.schedule(at, Transition::Volume(id.clone(), VolumeStatus::Available));
        drop(st);
        Ok(self.volume_until(
            format!("create volume {}", spec.name),
            &VolumeId::new(id),
            |v| (v.status == VolumeStatus::Available).then(|| v.clone()),
        ))
    }

    async fn delete_volume(&self, id: &VolumeId) -> Result<Operation<()>> {
        const OP: &str = "delete_volume";
        self.enter(OP).await?;
        let at = self.after(self.delays().delete_ms);
        let mut st = self.state();
        let has_snapshots = st.snapshots.values().any(|s| s.volume_id == *id);
        let Some(v) = st.volumes.get_mut(id.as_str()) else {
            return Err(self.context(Error::not_found(format!("volume {id}")), OP));
        };
        if !v.attachments.is_empty() {
            return Err(self.context(conflict(format!("volume {id} is attached")), OP));
        }
        if has_snapshots {
            return Err(self.context(conflict(format!("volume {id} has snapshots")), OP));
        }
        if v.status != VolumeStatus::Deleting {
            v.status = VolumeStatus::Deleting;
            st.schedule(at, Transition::VolumeGone(id.to_string()));
        }
        drop(st);
        Ok(self.volume_gone(id))
    }

    async fn extend_volume(&self, id: &VolumeId, new_size_gib: u64) -> Result<Operation<Volume>> {
        const OP: &str = "extend_volume";
        self.enter(OP).await?;
        let at = self.after(self.delays().action_ms);
        let mut st = self.state();
        let Some(v) = st.volumes.get_mut(id.as_str()) else {
            return Err(self.context(Error::not_found(format!("volume {id}")), OP));
        };
        if new_size_gib <= v.size_gib {
            return Err(self.context(
                Error::invalid_input(format!(
                    "new size {new_size_gib} GiB must be larger than the current {} GiB",
                    v.size_gib
                )),
                OP,
            ));
        }
        if !matches!(v.status, VolumeStatus::Available | VolumeStatus::InUse) {
            return Err(self.context(conflict(format!("volume {id} is {}", v.status)), OP));
        }
        v.status = VolumeStatus::Extending;
        st.schedule(at, Transition::VolumeSize(id.to_string(), new_size_gib));
        drop(st);
        Ok(
            self.volume_until(format!("extend volume {id}"), id, move |v| {
                (v.size_gib == new_size_gib && v.status != VolumeStatus::Extending)
                    .then(|| v.clone())
            }),
        )
    }

    async fn attach_volume(
        &self,
        volume: &VolumeId,
        server: &ServerId,
        device: Option<&str>,
    ) -> Result<Operation<Attachment>> {
        const OP: &str = "attach_volume";
        self.enter(OP).await?;
        let at = self.after(self.delays().action_ms);
        let mut st = self.state();
        match st.servers.get(server.as_str()) {
            None => return Err(self.context(Error::not_found(format!("server {server}")), OP)),
            Some(s) if !matches!(s.status, ServerStatus::Active | ServerStatus::Stopped) => {
                return Err(self.context(conflict(format!("server {server} is {}", s.status)), OP))
            }
            Some(_) => {}
        }
        let Some(v) = st.volumes.get_mut(volume.as_str()) else {
            return Err(self.context(Error::not_found(format!("volume {volume}")), OP));
        };
        if v.status != VolumeStatus::Available {
            return Err(self.context(
                conflict(format!("volume {volume} is {}, not available", v.status)),
                OP,
            ));
        }
        v.status = VolumeStatus::Attaching;
        let attachment = Attachment {
            id: Some(format!("att-{volume}")),
            volume_id: volume.clone(),
            server_id: server.clone(),
            device: Some(device.unwrap_or("/dev/vdb").to_owned()),
        };
        st.schedule(
            at,
            Transition::VolumeAttached(volume.to_string(), attachment),
        );
        drop(st);
        let server = server.clone();
        Ok(self.volume_until(
            format!("attach volume {volume} to {server}"),
            volume,
            move |v| {
                v.attachments
                    .iter()
                    .find(|a| a.server_id == server)
                    .cloned()
            },
        ))
    }

    async fn detach_volume(&self, volume: &VolumeId, server: &ServerId) -> Result<Operation<()>> {
        const OP: &str = "detach_volume";
        self.enter(OP).await?;
        let at = self.after(self.delays().action_ms);
        let mut st = self.state();
        let Some(v) = st.volumes.get_mut(volume.as_str()) else {
            return Err(self.context(Error::not_found(format!("volume {volume}")), OP));
        };
        if !v.attachments.iter().any(|a| a.server_id == *server) {
            return Err(self.context(
                Error::not_found(format!("attachment of volume {volume} to server {server}")),
                OP,
            ));
        }
        v.status = VolumeStatus::Detaching;
        st.schedule(
            at,
            Transition::VolumeDetached(volume.to_string(), server.clone()),
        );
        drop(st);
        let server = server.clone();
        Ok(
            self.volume_until(format!("detach volume {volume}"), volume, move |v| {
                (v.status != VolumeStatus::Detaching
                    && !v.attachments.iter().any(|a| a.server_id == server))
                .then_some(())
            }),
        )
    }

    fn list_snapshots(&self, options: ListOptions) -> ItemStream<Snapshot> {
        mock_stream!(self, options, list_snapshots_page)
    }

    async fn list_snapshots_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Snapshot>> {
        self.enter("list_snapshots").await?;
        let st = self.state();
        let (items, next) = page_of(
            &st.snapshots,
            options,
            page.as_ref(),
            |s| options.matches(&s.name, &[]),
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_snapshot(&self, id: &SnapshotId) -> Result<Snapshot> {
        self.enter("get_snapshot").await?;
        self.state()
            .snapshots
            .get(id.as_str())
            .cloned()
            .ok_or_else(|| self.context(Error::not_found(format!("snapshot {id}")), "get_snapshot"))
    }

    async fn create_snapshot(&self, spec: &CreateSnapshot) -> Result<Operation<Snapshot>> {
        const OP: &str = "create_snapshot";
        self.enter(OP).await?;
        let at = self.after(self.delays().action_ms);
        let mut st = self.state();
        let Some(v) = st.volumes.get(spec.volume_id.as_str()) else {
            return Err(self.context(Error::not_found(format!("volume {}", spec.volume_id)), OP));
        };
        if !v.attachments.is_empty() && !spec.force {
            return Err(self.context(
                conflict(format!(
                    "volume {} is attached; snapshot it with force",
                    spec.volume_id
                )),
                OP,
            ));
        }
        let size = v.size_gib;
        let id = st.next_id("snap");
        st.snapshots.insert(
            id.clone(),
            Snapshot {
                id: SnapshotId::new(id.clone()),
                volume_id: spec.volume_id.clone(),
                name: spec.name.clone(),
                size_gib: size,
                status: SnapshotStatus::Creating,
                raw: None,
            },
        );
        st.schedule(
            at,
            Transition::Snapshot(id.clone(), SnapshotStatus::Available),
        );
        drop(st);
        Ok(self.snapshot_until(
            format!("create snapshot {}", spec.name),
            &SnapshotId::new(id),
            |s| s.filter(|s| s.status == SnapshotStatus::Available).cloned(),
        ))
    }

    async fn delete_snapshot(&self, id: &SnapshotId) -> Result<Operation<()>> {
        const OP: &str = "delete_snapshot";
        self.enter(OP).await?;
        let at = self.after(self.delays().delete_ms);
        let mut st = self.state();
        let Some(s) = st.snapshots.get_mut(id.as_str()) else {
            return Err(self.context(Error::not_found(format!("snapshot {id}")), OP));
        };
        if s.status != SnapshotStatus::Deleting {
            s.status = SnapshotStatus::Deleting;
            st.schedule(at, Transition::SnapshotGone(id.to_string()));
        }
        drop(st);
        Ok(
            self.snapshot_until(format!("delete snapshot {id}"), id, |s| {
                s.is_none().then_some(())
            }),
        )
    }
}
