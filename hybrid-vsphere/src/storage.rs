//! Block storage. The core's volumes are to map onto vSphere first-class disks
//! (`VStorageObject`s on a datastore, attached with `ReconfigVM_Task`); that is not
//! implemented yet, so every call answers `Unsupported` with the capability's reason
//! (the gate refuses them before they get here). Disks of one VM are managed with
//! [`VsphereProvider::add_disk`] and [`VsphereProvider::remove_disk`].

use hybrid_core::model::*;
use hybrid_core::paging::error_stream;
use hybrid_core::{
    async_trait, Feature, ItemStream, ListOptions, Operation, Page, PageToken, Result, Storage,
};

use crate::provider::VsphereProvider;

#[async_trait]
impl Storage for VsphereProvider {
    fn list_volumes(&self, _o: ListOptions) -> ItemStream<Volume> {
        error_stream(self.unsupported(Feature::Volumes))
    }
    async fn list_volumes_page(
        &self,
        _o: &ListOptions,
        _p: Option<PageToken>,
    ) -> Result<Page<Volume>> {
        Err(self.unsupported(Feature::Volumes))
    }
    async fn get_volume(&self, _id: &VolumeId) -> Result<Volume> {
        Err(self.unsupported(Feature::Volumes))
    }
    async fn create_volume(&self, _spec: &CreateVolume) -> Result<Operation<Volume>> {
        Err(self.unsupported(Feature::Volumes))
    }
    async fn delete_volume(&self, _id: &VolumeId) -> Result<Operation<()>> {
        Err(self.unsupported(Feature::Volumes))
    }
    async fn extend_volume(&self, _id: &VolumeId, _gib: u64) -> Result<Operation<Volume>> {
        Err(self.unsupported(Feature::ExtendVolume))
    }
    async fn attach_volume(
        &self,
        _v: &VolumeId,
        _s: &ServerId,
        _d: Option<&str>,
    ) -> Result<Operation<Attachment>> {
        Err(self.unsupported(Feature::AttachVolume))
    }
    async fn detach_volume(&self, _v: &VolumeId, _s: &ServerId) -> Result<Operation<()>> {
        Err(self.unsupported(Feature::AttachVolume))
    }
    fn list_snapshots(&self, _o: ListOptions) -> ItemStream<Snapshot> {
        error_stream(self.unsupported(Feature::Snapshots))
    }
    async fn list_snapshots_page(
        &self,
        _o: &ListOptions,
        _p: Option<PageToken>,
    ) -> Result<Page<Snapshot>> {
        Err(self.unsupported(Feature::Snapshots))
    }
    async fn get_snapshot(&self, _id: &SnapshotId) -> Result<Snapshot> {
        Err(self.unsupported(Feature::Snapshots))
    }
    async fn create_snapshot(&self, _spec: &CreateSnapshot) -> Result<Operation<Snapshot>> {
        Err(self.unsupported(Feature::Snapshots))
    }
    async fn delete_snapshot(&self, _id: &SnapshotId) -> Result<Operation<()>> {
        Err(self.unsupported(Feature::Snapshots))
    }
}
