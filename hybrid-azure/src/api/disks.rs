//! Microsoft.Compute DiskRP calls: managed disks and snapshots.

use hybrid_core::Result;
use hybrid_http::{Method, Url};
use serde_json::Value;

use super::versions::{DISKS, SNAPSHOTS};
use super::{begin, get, group_url, page};
use crate::client::{ArmClient, RawPage};
use crate::ids::ResourceId;
use crate::lro::Lro;

const NS: &str = "Microsoft.Compute";

/// `GET …/disks/{disk}` (Disks_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_disk(arm: &ArmClient, disk: &ResourceId) -> Result<Value> {
    get(arm, disk, DISKS, "get_volume").await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/disks`
/// (Disks_ListByResourceGroup), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_disks(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    page(
        arm,
        group_url(arm, NS, "disks", DISKS),
        next,
        "list_volumes",
    )
    .await
}

/// `PUT …/disks/{disk}` (Disks_CreateOrUpdate), followed as an LRO.
///
/// # Errors
/// `InvalidInput`, `QuotaExceeded`; as [`ArmClient::execute`].
pub async fn create_disk(arm: &ArmClient, disk: &ResourceId, body: &Value) -> Result<Lro> {
    super::put(
        arm,
        disk,
        DISKS,
        body,
        "create_volume",
        format!("create volume {}", disk.name()),
    )
    .await
}

/// `PATCH …/disks/{disk}` (Disks_Update), followed as an LRO.
///
/// # Errors
/// `InvalidInput` (for example a smaller size); as [`ArmClient::execute`].
pub async fn update_disk(
    arm: &ArmClient,
    disk: &ResourceId,
    patch: &Value,
    op: &str,
) -> Result<Lro> {
    begin(
        arm,
        Method::PATCH,
        arm.resource_url(disk, DISKS),
        Some(patch),
        op,
        format!("update volume {}", disk.name()),
        Some(true),
    )
    .await
}

/// `DELETE …/disks/{disk}` (Disks_Delete), followed as an LRO.
///
/// # Errors
/// `Conflict` while attached; as [`ArmClient::execute`].
pub async fn delete_disk(arm: &ArmClient, disk: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        disk,
        DISKS,
        "delete_volume",
        format!("delete volume {}", disk.name()),
    )
    .await
}

/// `GET …/snapshots/{snapshot}` (Snapshots_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_snapshot(arm: &ArmClient, snapshot: &ResourceId) -> Result<Value> {
    get(arm, snapshot, SNAPSHOTS, "get_snapshot").await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/snapshots`
/// (Snapshots_ListByResourceGroup), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_snapshots(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    page(
        arm,
        group_url(arm, NS, "snapshots", SNAPSHOTS),
        next,
        "list_snapshots",
    )
    .await
}

/// `PUT …/snapshots/{snapshot}` (Snapshots_CreateOrUpdate), followed as an LRO.
///
/// # Errors
/// `NotFound` (source disk), `QuotaExceeded`; as [`ArmClient::execute`].
pub async fn create_snapshot(arm: &ArmClient, snapshot: &ResourceId, body: &Value) -> Result<Lro> {
    super::put(
        arm,
        snapshot,
        SNAPSHOTS,
        body,
        "create_snapshot",
        format!("create snapshot {}", snapshot.name()),
    )
    .await
}

/// `DELETE …/snapshots/{snapshot}` (Snapshots_Delete), followed as an LRO.
///
/// # Errors
/// As [`ArmClient::execute`].
pub async fn delete_snapshot(arm: &ArmClient, snapshot: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        snapshot,
        SNAPSHOTS,
        "delete_snapshot",
        format!("delete snapshot {}", snapshot.name()),
    )
    .await
}
