//! The mock's in-memory state and its clock-driven transitions.

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;
use tokio::time::Instant;

use crate::model::*;
use crate::paging::{ListOptions, PageToken};

use super::{profiles, Profile};

/// Default and largest page size of mock listings.
pub(crate) const DEFAULT_PAGE: usize = 1000;

/// A change the clock makes when it is due.
#[derive(Debug)]
pub(crate) enum Transition {
    Server(String, ServerStatus),
    ServerResized(String, FlavorId),
    ServerGone(String),
    Volume(String, VolumeStatus),
    VolumeSize(String, u64),
    VolumeAttached(String, Attachment),
    VolumeDetached(String, ServerId),
    VolumeGone(String),
    Snapshot(String, SnapshotStatus),
    SnapshotGone(String),
    Image(String, ImageStatus),
    ImageGone(String),
}

pub(crate) struct StoredImage {
    pub(crate) image: Image,
    pub(crate) data: Option<Bytes>,
}

pub(crate) struct State {
    pub(crate) profile: Profile,
    pub(crate) region: String,
    seq: u64,
    timers: BTreeMap<(Instant, u64), Transition>,
    pub(crate) servers: BTreeMap<String, Server>,
    pub(crate) flavors: BTreeMap<String, Flavor>,
    pub(crate) key_pairs: BTreeMap<String, KeyPair>,
    pub(crate) networks: BTreeMap<String, crate::model::Network>,
    pub(crate) subnets: BTreeMap<String, Subnet>,
    pub(crate) ports: BTreeMap<String, Port>,
    pub(crate) security_groups: BTreeMap<String, SecurityGroup>,
    pub(crate) routers: BTreeMap<String, Router>,
    pub(crate) floating_ips: BTreeMap<String, FloatingIp>,
    pub(crate) volumes: BTreeMap<String, Volume>,
    pub(crate) snapshots: BTreeMap<String, Snapshot>,
    pub(crate) images: BTreeMap<String, StoredImage>,
}

impl State {
    pub(crate) fn new(profile: Profile, region: String) -> Self {
        let mut s = State {
            profile,
            region,
            seq: 0,
            timers: BTreeMap::new(),
            servers: BTreeMap::new(),
            flavors: BTreeMap::new(),
            key_pairs: BTreeMap::new(),
            networks: BTreeMap::new(),
            subnets: BTreeMap::new(),
            ports: BTreeMap::new(),
            security_groups: BTreeMap::new(),
            routers: BTreeMap::new(),
            floating_ips: BTreeMap::new(),
            volumes: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            images: BTreeMap::new(),
        };
        for f in profiles::flavors(profile) {
            s.flavors.insert(f.id.as_str().to_owned(), f);
        }
        for (name, disk, container, os) in profiles::images(profile) {
            let id = s.next_id("img");
            let data = Bytes::from(format!("hybrid mock image {name}\n").into_bytes());
            let image = Image {
                id: ImageId::new(id.clone()),
                name: name.to_owned(),
                status: ImageStatus::Active,
                disk_format: Some(disk.to_owned()),
                container_format: Some(container.to_owned()),
                size_bytes: Some(data.len() as u64),
                checksum: Some(checksum(&data)),
                visibility: Visibility::Public,
                min_disk_gib: 0,
                min_ram_mib: 0,
                os_family: Some(os.to_owned()),
                locality: profiles::image_locality(profile, &s.region),
                tags: Vec::new(),
                properties: Metadata::new(),
                raw: None,
            };
            s.images.insert(
                id,
                StoredImage {
                    image,
                    data: Some(data),
                },
            );
        }
        for (name, kind, seg, external) in profiles::networks(profile) {
            let id = s.next_id("net");
            s.networks.insert(
                id.clone(),
                crate::model::Network {
                    id: NetworkId::new(id),
                    name: name.to_owned(),
                    kind,
                    segmentation_id: seg,
                    status: NetworkStatus::Active,
                    shared: true,
                    external,
                    subnets: Vec::new(),
                    tags: Vec::new(),
                    raw: None,
                },
            );
        }
        s
    }

    /// A new id: a prefix and a zero-padded sequence, so map order is creation order.
    pub(crate) fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-{:010}", self.seq)
    }

    pub(crate) fn schedule(&mut self, at: Instant, t: Transition) {
        self.seq += 1;
        self.timers.insert((at, self.seq), t);
    }

    /// Applies every transition due at `now`.
    pub(crate) fn advance(&mut self, now: Instant) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let t = entry.remove();
            self.apply(t);
        }
    }

    fn apply(&mut self, t: Transition) {
        match t {
            Transition::Server(id, st) => {
                if let Some(s) = self.servers.get_mut(&id) {
                    s.status = st;
                    s.progress = None;
                }
            }
            Transition::ServerResized(id, flavor) => {
                if let Some(s) = self.servers.get_mut(&id) {
                    s.flavor = Some(flavor);
                    s.status = ServerStatus::Active;
                }
            }
            Transition::ServerGone(id) => {
                self.servers.remove(&id);
                for v in self.volumes.values_mut() {
                    let before = v.attachments.len();
                    v.attachments.retain(|a| a.server_id.as_str() != id);
                    if before != v.attachments.len() && v.attachments.is_empty() {
                        v.status = VolumeStatus::Available;
                    }
                }
                for p in self.ports.values_mut() {
                    if p.device_id.as_ref().is_some_and(|d| d.as_str() == id) {
                        p.device_id = None;
                    }
                }
            }
            Transition::Volume(id, st) => {
                if let Some(v) = self.volumes.get_mut(&id) {
                    v.status = st;
                }
            }
            Transition::VolumeSize(id, size) => {
                if let Some(v) = self.volumes.get_mut(&id) {
                    v.size_gib = size;
                    v.status = if v.attachments.is_empty() {
                        VolumeStatus::Available
                    } else {
                        VolumeStatus::InUse
                    };
                }
            }
            Transition::VolumeAttached(id, a) => {
                if let Some(v) = self.volumes.get_mut(&id) {
                    v.attachments.push(a);
                    v.status = VolumeStatus::InUse;
                }
            }
            Transition::VolumeDetached(id, server) => {
                if let Some(v) = self.volumes.get_mut(&id) {
                    v.attachments.retain(|a| a.server_id != server);
                    v.status = if v.attachments.is_empty() {
                        VolumeStatus::Available
                    } else {
                        VolumeStatus::InUse
                    };
                }
            }
            Transition::VolumeGone(id) => {
                self.volumes.remove(&id);
            }
            Transition::Snapshot(id, st) => {
                if let Some(s) = self.snapshots.get_mut(&id) {
                    s.status = st;
                }
            }
            Transition::SnapshotGone(id) => {
                self.snapshots.remove(&id);
            }
            Transition::Image(id, st) => {
                if let Some(i) = self.images.get_mut(&id) {
                    i.image.status = st;
                }
            }
            Transition::ImageGone(id) => {
                self.images.remove(&id);
            }
        }
    }

    /// Adds `n` active servers, as fast as the maps allow.
    pub(crate) fn seed_servers(&mut self, n: usize) {
        let flavor = self.flavors.keys().next().map(|k| FlavorId::new(k.clone()));
        let image = self.images.keys().next().map(|k| ImageId::new(k.clone()));
        let network = self
            .networks
            .values()
            .next()
            .map(|n| n.name.clone())
            .unwrap_or_default();
        for i in 0..n {
            let id = self.next_id("srv");
            let server = Server {
                id: ServerId::new(id.clone()),
                name: format!("seed-{i:06}"),
                status: ServerStatus::Active,
                flavor: flavor.clone(),
                image: image.clone(),
                addresses: vec![ServerAddress {
                    network: network.clone(),
                    address: ip_for(self.seq),
                    kind: AddressKind::Fixed,
                }],
                key_name: None,
                availability_zone: None,
                tags: Vec::new(),
                metadata: Metadata::new(),
                created_at: None,
                progress: None,
                fault: None,
                raw: None,
            };
            self.servers.insert(id, server);
        }
    }
}

/// A private address derived from a sequence number.
pub(crate) fn ip_for(seq: u64) -> String {
    format!(
        "10.{}.{}.{}",
        (seq >> 16) & 0xff,
        (seq >> 8) & 0xff,
        (seq & 0xff).max(2)
    )
}

/// A content checksum (FNV-1a 64, hex): stable and dependency-free. Not cryptographic.
pub(crate) fn checksum(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// One page of `map` after `token`, of the values passing `keep`, cloned through `out`.
pub(crate) fn page_of<V, T>(
    map: &BTreeMap<String, V>,
    options: &ListOptions,
    token: Option<&PageToken>,
    mut keep: impl FnMut(&V) -> bool,
    mut out: impl FnMut(&V) -> T,
) -> (Vec<T>, Option<PageToken>) {
    let limit = options
        .page_size
        .map(|p| (p as usize).clamp(1, DEFAULT_PAGE))
        .unwrap_or(DEFAULT_PAGE);
    let start = match token {
        Some(t) => Bound::Excluded(t.as_str().to_owned()),
        None => Bound::Unbounded,
    };
    let mut items = Vec::with_capacity(limit.min(map.len()));
    let mut last: Option<&String> = None;
    let mut more = false;
    for (k, v) in map.range((start, Bound::Unbounded)) {
        if !keep(v) {
            continue;
        }
        if items.len() == limit {
            more = true;
            break;
        }
        items.push(out(v));
        last = Some(k);
    }
    let next = if more {
        last.map(|k| PageToken::new(k.clone()))
    } else {
        None
    };
    (items, next)
}
