//! `cloud.storage`: block volumes, attachments, snapshots.

use std::collections::BTreeMap;
use std::sync::Arc;

use pyo3::prelude::*;

use hybrid::model::{
    CreateSnapshot, CreateVolume, ServerId, Snapshot, SnapshotId, Volume, VolumeId,
};
use hybrid::{Provider, StorageExt};

use crate::listing::{fetchers, list_options, token, PageOut};
use crate::models::Model;
use crate::operation::{OpOut, Waiting};
use crate::rt::twins;

/// Block volumes, their attachments to servers, and snapshots of one provider
/// (`cloud.storage`).
///
/// Conventions as `ComputeService`: blocking methods release the GIL and have asyncio twins
/// prefixed with `a`; lists are lazy; mutations wait unless `wait=False`. Each method
/// names the capability it requires; a missing one raises `UnsupportedError` with the
/// reason, without a request.
#[pyclass(frozen, name = "StorageService", module = "hybrid")]
pub(crate) struct PyStorage {
    pub(crate) p: Arc<dyn Provider>,
}

impl PyStorage {
    fn provider(&self) -> Arc<dyn Provider> {
        self.p.clone()
    }
}

twins! {
    impl PyStorage {
        /// One page of volumes. Requires `storage.volumes`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_volumes_page / alist_volumes_page (&self, _py, page_token: Option<String>,
            name: Option<String>, tags: Option<Vec<String>>, page_size: Option<u32>,
            filters: Option<BTreeMap<String, String>>) -> PageOut<Volume> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.storage().list_volumes_page(&opts, token(page_token)).await?)) }
        }

        /// One volume. Requires `storage.volumes`. Raises `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_volume / aget_volume (&self, _py, id: String) -> Model<Volume> {
            let p = self.provider();
            async move { Ok(Model(p.storage().get_volume(&VolumeId::new(id)).await?)) }
        }

        /// The volume named exactly `name`, or `None`. Requires `storage.volumes`.
        #[pyo3(signature = (name))]
        fn find_volume / afind_volume (&self, _py, name: String) -> Option<Model<Volume>> {
            let p = self.provider();
            async move { Ok(p.storage().find_volume(&name).await?.map(Model)) }
        }

        /// Creates a volume of `size_gib` GiB (from `snapshot_id` when given) and returns
        /// it once available. Requires `storage.volumes`, and `storage.snapshots` with
        /// `snapshot_id`. Raises `InvalidInputError`, `QuotaExceededError`,
        /// `OperationFailedError`.
        #[pyo3(signature = (name, size_gib, *, volume_type=None, availability_zone=None, snapshot_id=None, metadata=None, wait=true, timeout=None))]
        fn create_volume / acreate_volume (&self, py, name: String, size_gib: u64,
            volume_type: Option<String>, availability_zone: Option<String>,
            snapshot_id: Option<String>, metadata: Option<BTreeMap<String, String>>,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let spec = CreateVolume {
                name,
                size_gib,
                volume_type,
                availability_zone,
                snapshot_id: snapshot_id.map(SnapshotId::new),
                metadata: metadata.unwrap_or_default(),
            };
            let p = self.provider();
            async move { waiting.finish(p.storage().create_volume(&spec).await?).await }
        }

        /// Deletes a volume. Requires `storage.volumes`. Raises `NotFoundError`,
        /// `ConflictError` while attached or with snapshots.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_volume / adelete_volume (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.storage().delete_volume(&VolumeId::new(id)).await?).await }
        }

        /// Grows a volume to `new_size_gib` and returns it. Requires `storage.extend`.
        /// Raises `NotFoundError`, `InvalidInputError` (not larger), `ConflictError`.
        #[pyo3(signature = (id, new_size_gib, *, wait=true, timeout=None))]
        fn extend_volume / aextend_volume (&self, py, id: String, new_size_gib: u64, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.storage().extend_volume(&VolumeId::new(id), new_size_gib).await?).await }
        }

        /// Attaches `volume` to `server` (at `device` where the platform takes one) and
        /// returns the `Attachment`. Requires `storage.attach`. Raises `NotFoundError`,
        /// `ConflictError` (already attached).
        #[pyo3(signature = (volume, server, *, device=None, wait=true, timeout=None))]
        fn attach_volume / aattach_volume (&self, py, volume: String, server: String,
            device: Option<String>, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move {
                waiting
                    .finish(
                        p.storage()
                            .attach_volume(&VolumeId::new(volume), &ServerId::new(server), device.as_deref())
                            .await?,
                    )
                    .await
            }
        }

        /// Detaches `volume` from `server`. Requires `storage.attach`. Raises
        /// `NotFoundError` when not attached there.
        #[pyo3(signature = (volume, server, *, wait=true, timeout=None))]
        fn detach_volume / adetach_volume (&self, py, volume: String, server: String,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move {
                waiting
                    .finish(p.storage().detach_volume(&VolumeId::new(volume), &ServerId::new(server)).await?)
                    .await
            }
        }

        /// One page of snapshots. Requires `storage.snapshots`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_snapshots_page / alist_snapshots_page (&self, _py, page_token: Option<String>,
            name: Option<String>, tags: Option<Vec<String>>, page_size: Option<u32>,
            filters: Option<BTreeMap<String, String>>) -> PageOut<Snapshot> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.storage().list_snapshots_page(&opts, token(page_token)).await?)) }
        }

        /// One snapshot. Requires `storage.snapshots`. Raises `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_snapshot / aget_snapshot (&self, _py, id: String) -> Model<Snapshot> {
            let p = self.provider();
            async move { Ok(Model(p.storage().get_snapshot(&SnapshotId::new(id)).await?)) }
        }

        /// Snapshots `volume_id` (`force` while attached) and returns the snapshot once
        /// available. Requires `storage.snapshots`. Raises `NotFoundError`,
        /// `ConflictError` (attached without `force`).
        #[pyo3(signature = (volume_id, name, *, force=false, wait=true, timeout=None))]
        fn create_snapshot / acreate_snapshot (&self, py, volume_id: String, name: String, force: bool,
            wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let spec = CreateSnapshot { volume_id: VolumeId::new(volume_id), name, force };
            let p = self.provider();
            async move { waiting.finish(p.storage().create_snapshot(&spec).await?).await }
        }

        /// Deletes a snapshot. Requires `storage.snapshots`. Raises `NotFoundError`.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_snapshot / adelete_snapshot (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.storage().delete_snapshot(&SnapshotId::new(id)).await?).await }
        }

        lists {
            /// Volumes. Requires `storage.volumes`.
            fn list_volumes / alist_volumes => volumes;
            /// Snapshots. Requires `storage.snapshots`.
            fn list_snapshots / alist_snapshots => snapshots;
        }
        plain {
            fn __repr__(&self) -> String {
                format!("StorageService({})", self.p.info().name)
            }
        }
    }
}

fetchers! {
    impl PyStorage {
        fn volumes => storage.list_volumes_page;
        fn snapshots => storage.list_snapshots_page;
    }
}
