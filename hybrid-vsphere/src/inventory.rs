//! Inventory through the PropertyCollector: a ContainerView per object type (kept for
//! the session), `RetrievePropertiesEx` with `maxObjects` = the page size, then
//! `ContinueRetrievePropertiesEx` with the collector's token: one round trip per page,
//! never one per object. Core page tokens are the collector's tokens (valid for the
//! session that made them).

use std::collections::BTreeMap;

use hybrid_core::model::*;
use hybrid_core::{Error, ErrorKind, PageToken, Result};

use crate::api::property::{
    continue_retrieve_properties_ex, create_container_view, retrieve_properties_ex, Source,
};
use crate::capabilities::DiscoveryFacts;
use crate::config::FlavorSpec;
use crate::error::shape_error;
use crate::protocol::types::{Mor, ObjectContent};
use crate::protocol::xml::Node;
use crate::provider::Inner;

/// Properties read for a VM (servers and templates).
pub(crate) const VM_PATHS: &[&str] = &[
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
];

/// Properties read per network type.
pub(crate) const NETWORK_SPECS: &[(&str, &[&str])] = &[
    ("Network", &["name"]),
    (
        "DistributedVirtualPortgroup",
        &[
            "key",
            "config.defaultPortConfig",
            "config.logicalSwitchUuid",
            "config.backingType",
            "config.distributedVirtualSwitch",
            "config.uplink",
            "tag",
        ],
    ),
    (
        "OpaqueNetwork",
        &["summary.opaqueNetworkType", "summary.opaqueNetworkId"],
    ),
];

impl Inner {
    /// The session's ContainerView over the datacenter for `kind`, created once.
    async fn view(&self, kind: &'static str, fresh: bool) -> Result<Mor> {
        let mut views = self.views.lock().await;
        if !fresh {
            if let Some(v) = views.get(kind) {
                return Ok(v.clone());
            }
        }
        let container = self.facts().datacenter.clone();
        let v = create_container_view(&self.session, &container, &[kind]).await?;
        views.insert(kind, v.clone());
        Ok(v)
    }

    /// One page of the objects of `kind` (`specs` as for `RetrievePropertiesEx`).
    pub(crate) async fn page(
        &self,
        kind: &'static str,
        specs: &[(&str, &[&str])],
        page_size: Option<u32>,
        token: Option<&PageToken>,
    ) -> Result<(Vec<ObjectContent>, Option<PageToken>)> {
        let result = match token {
            Some(t) => continue_retrieve_properties_ex(&self.session, t.as_str()).await?,
            None => {
                let max = Some(page_size.unwrap_or(self.config.page_size).max(1));
                let view = self.view(kind, false).await?;
                match retrieve_properties_ex(&self.session, specs, Source::View(&view), max).await {
                    // The view belonged to an expired session: make a new one once.
                    Err(e)
                        if e.kind() == ErrorKind::NotFound
                            && e.context().resource.as_deref() == Some(view.value.as_str()) =>
                    {
                        let view = self.view(kind, true).await?;
                        retrieve_properties_ex(&self.session, specs, Source::View(&view), max)
                            .await?
                    }
                    other => other?,
                }
            }
        };
        Ok((result.objects, result.token.map(PageToken::new)))
    }

    /// Every object of `kind`, page by page.
    pub(crate) async fn all(
        &self,
        kind: &'static str,
        specs: &[(&str, &[&str])],
    ) -> Result<Vec<ObjectContent>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let (objs, next) = self.page(kind, specs, None, token.as_ref()).await?;
            out.extend(objs);
            match next {
                Some(t) if Some(&t) != token.as_ref() => token = Some(t),
                Some(_) => {
                    return Err(Error::new(
                        ErrorKind::InvalidResponse,
                        "the PropertyCollector returned the same token twice",
                    ))
                }
                None => return Ok(out),
            }
        }
    }

    /// The properties of one object; `NotFound` when it does not exist.
    pub(crate) async fn one(&self, obj: &Mor, specs: &[(&str, &[&str])]) -> Result<ObjectContent> {
        let objs = [obj.clone()];
        let r = retrieve_properties_ex(&self.session, specs, Source::Objects(&objs), None).await;
        let r = match r {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Error::not_found(format!("{} {}", obj.kind, obj.value)).with_source(e))
            }
            other => other?,
        };
        r.objects
            .into_iter()
            .find(|o| o.obj == *obj)
            .ok_or_else(|| Error::not_found(format!("{} {}", obj.kind, obj.value)))
    }
}

fn shape<T>(r: std::result::Result<T, crate::protocol::xml::ShapeError>) -> Result<T> {
    r.map_err(|e| shape_error("RetrievePropertiesEx", e))
}

/// Whether a VM object is a template.
pub(crate) fn is_template(o: &ObjectContent) -> Result<bool> {
    Ok(shape(o.boolean("config.template"))?.unwrap_or(false))
}

/// The flavor of `cpus`/`mem` in the catalogue.
pub(crate) fn flavor_of(
    flavors: &[FlavorSpec],
    cpus: Option<u32>,
    mem: Option<u64>,
) -> Option<FlavorId> {
    let (c, m) = (cpus?, mem?);
    flavors
        .iter()
        .find(|f| f.vcpus == c && f.ram_mib == m)
        .map(|f| FlavorId::new(&f.id))
}

/// A VM as a core [`Server`].
pub(crate) fn server(o: &ObjectContent, flavors: &[FlavorSpec]) -> Result<Server> {
    let name = o.text("name").unwrap_or("").to_owned();
    let status = match o.text("runtime.powerState") {
        Some(s) => ServerStatus::parse(s),
        None => ServerStatus::Other("unknown".into()),
    };
    let cpus: Option<u32> = shape(o.num("config.hardware.numCPU"))?;
    let mem: Option<u64> = shape(o.num("config.hardware.memoryMB"))?;
    let mut addresses = Vec::new();
    if let Some(net) = o.get("guest.net") {
        for nic in net.children_named("GuestNicInfo") {
            let network = nic.child_text("network").unwrap_or("").to_owned();
            for ip in nic.children_named("ipAddress") {
                let a = ip.text_or_empty().trim();
                if !a.is_empty() {
                    addresses.push(ServerAddress {
                        network: network.clone(),
                        address: a.to_owned(),
                        kind: AddressKind::Fixed,
                    });
                }
            }
        }
    }
    let mut metadata = Metadata::new();
    if let Some(g) = o.text("config.guestId") {
        metadata.insert("vsphere.guest_id".into(), g.to_owned());
    }
    if let Ok(Some(pool)) = o.mor("resourcePool") {
        metadata.insert("vsphere.resource_pool".into(), pool.value);
    }
    Ok(Server {
        id: ServerId::new(&o.obj.value),
        name,
        status,
        flavor: flavor_of(flavors, cpus, mem),
        image: None,
        addresses,
        key_name: None,
        availability_zone: None,
        tags: Vec::new(),
        metadata,
        created_at: o.text("config.createDate").map(str::to_owned),
        progress: None,
        fault: None,
        raw: None,
    })
}

/// A template as a core [`Image`]: datastore-bound, never shareable.
pub(crate) fn image(
    o: &ObjectContent,
    vcenter: &str,
    datastores: &BTreeMap<String, String>,
) -> Result<Image> {
    let guest = o.text("config.guestId").unwrap_or("");
    let os_family = if guest.is_empty() {
        None
    } else if guest.to_ascii_lowercase().starts_with("win") {
        Some("windows".to_owned())
    } else {
        Some("linux".to_owned())
    };
    let ds: Vec<String> = shape(o.mors("datastore"))?
        .into_iter()
        .map(|m| datastores.get(&m.value).cloned().unwrap_or(m.value))
        .collect();
    let bound_to = if ds.is_empty() {
        format!("vCenter {vcenter}")
    } else {
        format!("datastore {} of vCenter {vcenter}", ds.join(", "))
    };
    let mem: Option<u64> = shape(o.num("config.hardware.memoryMB"))?;
    let mut properties = Metadata::new();
    properties.insert("vsphere.kind".into(), "vm-template".into());
    if !guest.is_empty() {
        properties.insert("vsphere.guest_id".into(), guest.to_owned());
    }
    Ok(Image {
        id: ImageId::new(&o.obj.value),
        name: o.text("name").unwrap_or("").to_owned(),
        status: ImageStatus::Active,
        disk_format: Some("vmdk".into()),
        container_format: Some("vm-template".into()),
        size_bytes: None,
        checksum: None,
        visibility: Visibility::Private,
        min_disk_gib: 0,
        min_ram_mib: mem.unwrap_or(0),
        os_family,
        locality: ImageLocality {
            bound_to: Some(bound_to),
            shareable: false,
        },
        tags: Vec::new(),
        properties,
        raw: None,
    })
}

/// How a network object backs NICs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NetBacking {
    /// A standard port group: `deviceName` + `network`.
    Standard,
    /// A distributed port group: the switch's UUID and the group's key.
    Distributed { switch: Mor, key: String },
    /// An NSX opaque network.
    Opaque { id: String, kind: String },
}

/// A network with what NIC backings need.
#[derive(Debug, Clone)]
pub(crate) struct NetInfo {
    pub(crate) mor: Mor,
    pub(crate) name: String,
    pub(crate) backing: NetBacking,
    pub(crate) nsx: bool,
    pub(crate) uplink: bool,
    pub(crate) vlan: Option<u32>,
    /// A VLAN trunk of every VLAN (0-4094), as an uplink port group has.
    pub(crate) full_trunk: bool,
}

/// Reads a `Network`, `DistributedVirtualPortgroup` or `OpaqueNetwork` object.
pub(crate) fn net_info(o: &ObjectContent) -> Result<NetInfo> {
    let name = o.text("name").unwrap_or("").to_owned();
    let full_trunk = is_full_trunk(o.get("config.defaultPortConfig"))?;
    let (backing, nsx, uplink, vlan) = match o.obj.kind.as_str() {
        "DistributedVirtualPortgroup" => {
            let key = o.text("key").unwrap_or(&o.obj.value).to_owned();
            let switch = shape(o.mor("config.distributedVirtualSwitch"))?.ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    format!("port group {} names no switch", o.obj.value),
                )
            })?;
            let nsx = o.text("config.backingType") == Some("nsx")
                || o.text("config.logicalSwitchUuid")
                    .is_some_and(|u| !u.trim().is_empty());
            let tagged_uplink = o.get("tag").is_some_and(|t| {
                t.children_named("Tag")
                    .any(|tag| tag.child_text("key") == Some("SYSTEM/DVS.UPLINKPG"))
            });
            let uplink = shape(o.boolean("config.uplink"))?.unwrap_or(false) || tagged_uplink;
            let vlan = vlan_of(o.get("config.defaultPortConfig"))?;
            (NetBacking::Distributed { switch, key }, nsx, uplink, vlan)
        }
        "OpaqueNetwork" => (
            NetBacking::Opaque {
                id: o.text("summary.opaqueNetworkId").unwrap_or("").to_owned(),
                kind: o.text("summary.opaqueNetworkType").unwrap_or("").to_owned(),
            },
            true,
            false,
            None,
        ),
        _ => (NetBacking::Standard, false, false, None),
    };
    Ok(NetInfo {
        mor: o.obj.clone(),
        name,
        backing,
        nsx,
        uplink,
        vlan,
        full_trunk,
    })
}

/// Whether a port setting's VLAN is a trunk of all VLANs 0-4094.
fn is_full_trunk(port_config: Option<&Node>) -> Result<bool> {
    let Some(vlan) = port_config.and_then(|c| c.child("vlan")) else {
        return Ok(false);
    };
    if vlan.xsi_type() != Some("VmwareDistributedVirtualSwitchTrunkVlanSpec") {
        return Ok(false);
    }
    let mut ranges = Vec::new();
    for r in vlan.children_named("vlanId") {
        let start: Option<u32> = shape(r.child_num("start"))?;
        let end: Option<u32> = shape(r.child_num("end"))?;
        if let (Some(a), Some(b)) = (start, end) {
            ranges.push((a, b));
        }
    }
    ranges.sort_unstable();
    let mut next = 0u32;
    for (a, b) in ranges {
        if a > next {
            return Ok(false);
        }
        next = next.max(b.saturating_add(1));
    }
    Ok(next > 4094)
}

/// The uplink port group of a switch whose `config.uplinkPortgroup` is empty
/// (vcsim 0.24.2), recognized the way vCenter names and configures it: the name is
/// `<switch name>-DVUplinks…` and its VLAN is a trunk of every VLAN.
pub(crate) fn looks_like_uplink(n: &NetInfo, switch_name: &str) -> bool {
    n.full_trunk
        && !switch_name.is_empty()
        && n.name.starts_with(&format!("{switch_name}-DVUplinks"))
}

fn vlan_of(port_config: Option<&Node>) -> Result<Option<u32>> {
    let Some(vlan) = port_config.and_then(|c| c.child("vlan")) else {
        return Ok(None);
    };
    match vlan.xsi_type() {
        Some("VmwareDistributedVirtualSwitchVlanIdSpec") => shape(vlan.child_num::<u32>("vlanId")),
        // Trunk and private VLANs carry no single VLAN id.
        _ => Ok(None),
    }
}

/// A network as a core [`Network`](hybrid_core::model::Network).
pub(crate) fn network(n: &NetInfo) -> hybrid_core::model::Network {
    let (kind, seg) = if n.nsx {
        (NetworkKind::Overlay, None)
    } else {
        match n.vlan {
            Some(0) => (NetworkKind::Flat, None),
            Some(v) => (NetworkKind::Vlan, Some(v)),
            None => (NetworkKind::Vlan, None),
        }
    };
    let tags = vec![match &n.backing {
        NetBacking::Standard => "vsphere:standard-portgroup",
        NetBacking::Distributed { .. } => "vsphere:distributed-portgroup",
        NetBacking::Opaque { .. } => "vsphere:nsx-opaque-network",
    }
    .to_owned()];
    hybrid_core::model::Network {
        id: NetworkId::new(&n.mor.value),
        name: n.name.clone(),
        kind,
        segmentation_id: seg,
        status: NetworkStatus::Active,
        shared: true,
        external: false,
        subnets: Vec::new(),
        tags,
        raw: None,
    }
}

/// Discovers the datacenter, placement defaults, NSX, switches and clusters.
pub(crate) async fn discover(inner: &Inner) -> Result<(crate::provider::Facts, DiscoveryFacts)> {
    use crate::provider::Facts;
    let s = &inner.session;
    let cfg = &inner.config;
    let root = s.content.root_folder.clone();
    let dcs_view = create_container_view(s, &root, &["Datacenter"]).await?;
    let dcs = retrieve_properties_ex(
        s,
        &[("Datacenter", &["name", "vmFolder", "networkFolder"])],
        Source::View(&dcs_view),
        None,
    )
    .await?;
    let _ = crate::api::property::destroy_view(s, &dcs_view).await;
    let dc = match &cfg.datacenter {
        Some(name) => dcs
            .objects
            .iter()
            .find(|o| o.text("name") == Some(name.as_str())),
        None => dcs.objects.first(),
    }
    .ok_or_else(|| match &cfg.datacenter {
        Some(name) => Error::config(format!("the vCenter has no datacenter named {name:?}")),
        None => Error::config("the vCenter has no datacenter"),
    })?;
    let dc_name = dc.text("name").unwrap_or("").to_owned();
    let vm_folder = shape(dc.mor("vmFolder"))?
        .ok_or_else(|| Error::new(ErrorKind::InvalidResponse, "the datacenter has no vmFolder"))?;

    // Views are per datacenter from here on: record it first.
    let mut facts = Facts {
        datacenter: dc.obj.clone(),
        datacenter_name: dc_name.clone(),
        vm_folder: vm_folder.clone(),
        pool: None,
        datastore: None,
        datastores: BTreeMap::new(),
        network: None,
        switches: Vec::new(),
        clusters: Vec::new(),
        uplinks: std::collections::BTreeSet::new(),
        switches_without_uplink_list: std::collections::BTreeSet::new(),
    };
    inner.set_facts(facts.clone());

    let pools = inner
        .all(
            "ResourcePool",
            &[("ResourcePool", &["name", "owner", "parent"])],
        )
        .await?;
    let pool = match &cfg.resource_pool {
        Some(want) => pools.iter().find(|p| {
            p.text("name") == Some(want.as_str())
                || p.obj.value == *want
                || want.ends_with(&format!("/{}", p.text("name").unwrap_or("\u{0}")))
        }),
        None => pools
            .iter()
            .find(|p| p.get("parent").and_then(|n| n.mor_type()) == Some("ClusterComputeResource"))
            .or_else(|| pools.first()),
    };
    facts.pool = pool.map(|p| p.obj.clone());
    if cfg.resource_pool.is_some() && facts.pool.is_none() {
        return Err(Error::config(format!(
            "datacenter {dc_name} has no resource pool {:?}",
            cfg.resource_pool.as_deref().unwrap_or("")
        )));
    }

    let dss = inner
        .all(
            "Datastore",
            &[("Datastore", &["name", "summary.accessible"])],
        )
        .await?;
    for d in &dss {
        facts
            .datastores
            .insert(d.obj.value.clone(), d.text("name").unwrap_or("").to_owned());
    }
    let ds = match &cfg.datastore {
        Some(want) => dss
            .iter()
            .find(|d| d.text("name") == Some(want.as_str()) || d.obj.value == *want),
        None => dss
            .iter()
            .find(|d| d.text("summary.accessible") != Some("false")),
    };
    facts.datastore = ds.map(|d| (d.obj.clone(), d.text("name").unwrap_or("").to_owned()));
    if cfg.datastore.is_some() && facts.datastore.is_none() {
        return Err(Error::config(format!(
            "datacenter {dc_name} has no datastore {:?}",
            cfg.datastore.as_deref().unwrap_or("")
        )));
    }

    if let Some(want) = &cfg.folder {
        let folders = inner
            .all("Folder", &[("Folder", &["name", "childType"])])
            .await?;
        let f = folders
            .iter()
            .find(|f| {
                let name = f.text("name").unwrap_or("");
                let vm_kind = f.get("childType").is_some_and(|c| {
                    c.children_named("string")
                        .any(|s| s.text_or_empty() == "VirtualMachine")
                });
                vm_kind
                    && (name == want || f.obj.value == *want || want.ends_with(&format!("/{name}")))
            })
            .ok_or_else(|| {
                Error::config(format!("datacenter {dc_name} has no VM folder {want:?}"))
            })?;
        facts.vm_folder = f.obj.clone();
    }

    let nets = inner.all("Network", NETWORK_SPECS).await?;
    let infos: Vec<NetInfo> = nets.iter().map(net_info).collect::<Result<_>>()?;
    let mut d = DiscoveryFacts {
        about: s.content.about.full_name.clone(),
        api_version: s.content.about.api_version.clone(),
        datacenter: dc_name.clone(),
        nsx_opaque_networks: infos
            .iter()
            .filter(|n| matches!(n.backing, NetBacking::Opaque { .. }))
            .count(),
        nsx_portgroups: infos
            .iter()
            .filter(|n| n.nsx && matches!(n.backing, NetBacking::Distributed { .. }))
            .count(),
        ..DiscoveryFacts::default()
    };
    if let Some(want) = &cfg.network {
        let n = infos
            .iter()
            .find(|n| n.name == *want || n.mor.value == *want)
            .ok_or_else(|| {
                Error::config(format!("datacenter {dc_name} has no network {want:?}"))
            })?;
        facts.network = Some(n.mor.clone());
    }

    let switches = inner
        .all(
            "DistributedVirtualSwitch",
            &[(
                "DistributedVirtualSwitch",
                &["name", "uuid", "config.uplinkPortgroup"],
            )],
        )
        .await?;
    for sw in &switches {
        let uplinks = shape(sw.mors("config.uplinkPortgroup"))?;
        if uplinks.is_empty() {
            facts
                .switches_without_uplink_list
                .insert(sw.obj.value.clone());
        }
        for pg in uplinks {
            facts.uplinks.insert(pg.value);
        }
    }
    facts.switches = switches
        .iter()
        .map(|sw| {
            (
                sw.obj.clone(),
                sw.text("name").unwrap_or("").to_owned(),
                sw.text("uuid").unwrap_or("").to_owned(),
            )
        })
        .collect();
    d.distributed_switches = facts.switches.len();

    let clusters = inner
        .all(
            "ClusterComputeResource",
            &[(
                "ClusterComputeResource",
                &["name", "host", "configurationEx", "resourcePool"],
            )],
        )
        .await?;
    for c in &clusters {
        let name = c.text("name").unwrap_or("").to_owned();
        let hosts = shape(c.mors("host"))?.len();
        let cfgx = c.get("configurationEx");
        let ha = match cfgx.and_then(|x| x.child("dasConfig")) {
            Some(das) => shape(das.child_bool("enabled"))?,
            None => None,
        };
        let drs = match cfgx.and_then(|x| x.child("drsConfig")) {
            Some(drs) => shape(drs.child_bool("enabled"))?,
            None => None,
        };
        if let Some(pool) = shape(c.mor("resourcePool"))? {
            facts.clusters.push((name.clone(), pool));
        }
        d.clusters.push((name, hosts, ha, drs));
    }
    Ok((facts, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::types::RetrieveResult;
    use crate::protocol::xml::parse;

    fn objects(xml: &str) -> Vec<ObjectContent> {
        RetrieveResult::from_node(parse(xml).unwrap())
            .unwrap()
            .objects
    }

    #[test]
    fn vm_to_server_with_flavor_and_addresses() {
        let o = &objects(
            r#"<returnval xmlns:xsi="x"><objects><obj type="VirtualMachine">vm-7</obj>
          <propSet><name>name</name><val xsi:type="xsd:string">web-1</val></propSet>
          <propSet><name>config.template</name><val xsi:type="xsd:boolean">false</val></propSet>
          <propSet><name>config.hardware.numCPU</name><val xsi:type="xsd:int">2</val></propSet>
          <propSet><name>config.hardware.memoryMB</name><val xsi:type="xsd:int">4096</val></propSet>
          <propSet><name>runtime.powerState</name><val xsi:type="VirtualMachinePowerState">poweredOn</val></propSet>
          <propSet><name>guest.net</name><val xsi:type="ArrayOfGuestNicInfo"><GuestNicInfo><network>VM Network</network><ipAddress>10.0.0.5</ipAddress><ipAddress>fe80::1</ipAddress></GuestNicInfo></val></propSet>
        </objects></returnval>"#,
        )[0];
        let s = server(o, &crate::config::default_flavors()).unwrap();
        assert_eq!(s.id.as_str(), "vm-7");
        assert_eq!(s.status, ServerStatus::Active);
        assert_eq!(s.flavor.as_ref().map(FlavorId::as_str), Some("vm-2cpu-4gb"));
        assert_eq!(s.addresses.len(), 2);
        assert!(!is_template(o).unwrap());
    }

    #[test]
    fn unknown_power_state_and_bad_numbers() {
        let o = &objects(
            r#"<returnval><objects><obj type="VirtualMachine">vm-8</obj>
          <propSet><name>runtime.powerState</name><val>hibernating</val></propSet></objects></returnval>"#,
        )[0];
        assert_eq!(
            server(o, &[]).unwrap().status,
            ServerStatus::Other("hibernating".into())
        );
        let bad = &objects(
            r#"<returnval><objects><obj type="VirtualMachine">vm-9</obj>
          <propSet><name>config.hardware.numCPU</name><val>two</val></propSet></objects></returnval>"#,
        )[0];
        assert_eq!(
            server(bad, &[]).unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
    }

    #[test]
    fn uplink_port_groups_by_flag_tag_or_name_and_trunk() {
        let objs = objects(
            r#"<returnval xmlns:xsi="x">
          <objects><obj type="DistributedVirtualPortgroup">dvportgroup-10</obj><propSet><name>name</name><val>DVS0-DVUplinks-9</val></propSet>
            <propSet><name>config.distributedVirtualSwitch</name><val xsi:type="ManagedObjectReference" type="VmwareDistributedVirtualSwitch">dvs-9</val></propSet>
            <propSet><name>config.defaultPortConfig</name><val xsi:type="VMwareDVSPortSetting"><vlan xsi:type="VmwareDistributedVirtualSwitchTrunkVlanSpec"><inherited>false</inherited><vlanId><start>0</start><end>4094</end></vlanId></vlan></val></propSet></objects>
          <objects><obj type="DistributedVirtualPortgroup">dvportgroup-11</obj><propSet><name>name</name><val>DVS0-DVUplinks-lookalike</val></propSet>
            <propSet><name>config.distributedVirtualSwitch</name><val xsi:type="ManagedObjectReference" type="VmwareDistributedVirtualSwitch">dvs-9</val></propSet>
            <propSet><name>config.defaultPortConfig</name><val xsi:type="VMwareDVSPortSetting"><vlan xsi:type="VmwareDistributedVirtualSwitchTrunkVlanSpec"><inherited>false</inherited><vlanId><start>0</start><end>100</end></vlanId><vlanId><start>200</start><end>4094</end></vlanId></vlan></val></propSet></objects>
          <objects><obj type="DistributedVirtualPortgroup">dvportgroup-12</obj><propSet><name>name</name><val>up</val></propSet>
            <propSet><name>config.distributedVirtualSwitch</name><val xsi:type="ManagedObjectReference" type="VmwareDistributedVirtualSwitch">dvs-9</val></propSet>
            <propSet><name>config.uplink</name><val xsi:type="xsd:boolean">true</val></propSet></objects>
          <objects><obj type="DistributedVirtualPortgroup">dvportgroup-13</obj><propSet><name>name</name><val>up2</val></propSet>
            <propSet><name>config.distributedVirtualSwitch</name><val xsi:type="ManagedObjectReference" type="VmwareDistributedVirtualSwitch">dvs-9</val></propSet>
            <propSet><name>tag</name><val xsi:type="ArrayOfTag"><Tag><key>SYSTEM/DVS.UPLINKPG</key></Tag></val></propSet></objects>
        </returnval>"#,
        );
        let infos: Vec<NetInfo> = objs.iter().map(|o| net_info(o).unwrap()).collect();
        assert!(infos[0].full_trunk && !infos[0].uplink);
        assert!(looks_like_uplink(&infos[0], "DVS0"));
        assert!(!looks_like_uplink(&infos[0], "DVS1"));
        assert!(!infos[1].full_trunk, "a trunk with a gap is not all VLANs");
        assert!(!looks_like_uplink(&infos[1], "DVS0"));
        assert!(infos[2].uplink && infos[3].uplink);
    }

    #[test]
    fn networks_of_each_kind() {
        let objs = objects(
            r#"<returnval xmlns:xsi="x">
          <objects><obj type="Network">network-7</obj><propSet><name>name</name><val>VM Network</val></propSet></objects>
          <objects><obj type="DistributedVirtualPortgroup">dvportgroup-11</obj><propSet><name>name</name><val>pg-120</val></propSet>
            <propSet><name>key</name><val>dvportgroup-11</val></propSet>
            <propSet><name>config.distributedVirtualSwitch</name><val xsi:type="ManagedObjectReference" type="VmwareDistributedVirtualSwitch">dvs-9</val></propSet>
            <propSet><name>config.defaultPortConfig</name><val xsi:type="VMwareDVSPortSetting"><vlan xsi:type="VmwareDistributedVirtualSwitchVlanIdSpec"><inherited>false</inherited><vlanId>120</vlanId></vlan></val></propSet></objects>
          <objects><obj type="DistributedVirtualPortgroup">dvportgroup-12</obj><propSet><name>name</name><val>seg</val></propSet>
            <propSet><name>config.distributedVirtualSwitch</name><val xsi:type="ManagedObjectReference" type="VmwareDistributedVirtualSwitch">dvs-9</val></propSet>
            <propSet><name>config.backingType</name><val>nsx</val></propSet></objects>
          <objects><obj type="OpaqueNetwork">network-o-1</obj><propSet><name>name</name><val>nsx-web</val></propSet>
            <propSet><name>summary.opaqueNetworkType</name><val>nsx.LogicalSwitch</val></propSet></objects>
        </returnval>"#,
        );
        let nets: Vec<_> = objs
            .iter()
            .map(|o| network(&net_info(o).unwrap()))
            .collect();
        assert_eq!(nets[0].kind, NetworkKind::Vlan);
        assert_eq!(
            (nets[1].kind.clone(), nets[1].segmentation_id),
            (NetworkKind::Vlan, Some(120))
        );
        assert_eq!(nets[2].kind, NetworkKind::Overlay);
        assert_eq!(nets[3].kind, NetworkKind::Overlay);
        let info = net_info(&objs[1]).unwrap();
        assert_eq!(
            info.backing,
            NetBacking::Distributed {
                switch: Mor::new("VmwareDistributedVirtualSwitch", "dvs-9"),
                key: "dvportgroup-11".into()
            }
        );
    }
}
