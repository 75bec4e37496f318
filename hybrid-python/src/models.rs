//! The provider-neutral models as immutable Python objects.
//!
//! Each wraps the Rust model; attributes convert on access (ids and states are `str`,
//! tags `list[str]`, metadata `dict[str, str]`, `raw` the provider's document). Every
//! model has `to_dict()`, `from_dict()`, equality, and pickles through `to_dict()`.

use pyo3::prelude::*;
use pyo3::types::PyType;

use hybrid::model::*;

use crate::convert::{from_py_data, to_py_data, ToPy};

macro_rules! model {
    (
        $(#[doc = $doc:literal])*
        $py:ident as $name:literal wraps $rust:ty, repr($($r:ident),*) {
            $( $(#[doc = $fdoc:literal])* $field:ident ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[pyclass(frozen, name = $name, module = "hybrid")]
        #[derive(Clone)]
        pub(crate) struct $py(pub(crate) $rust);

        #[pymethods]
        impl $py {
            $(
                $(#[doc = $fdoc])*
                #[getter]
                fn $field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    ToPy::to_py(&self.0.$field, py)
                }
            )*

            /// The model as plain data: the JSON shape of the Rust model.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                to_py_data(py, &self.0)
            }

            /// A model from plain data of the shape `to_dict()` returns.
            ///
            /// Raises `InvalidInputError` naming what does not fit.
            #[classmethod]
            fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
                Ok($py(from_py_data(data, $name)?))
            }

            fn __reduce__<'py>(
                slf: &Bound<'py, Self>,
            ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
                let py = slf.py();
                Ok((slf.get_type().getattr("from_dict")?, (to_py_data(py, &slf.get().0)?,)))
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other
                    .cast::<$py>()
                    .map(|o| o.get().0 == self.0)
                    .unwrap_or(false)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let mut parts: Vec<String> = Vec::new();
                $(
                    parts.push(format!(
                        concat!(stringify!($r), "={}"),
                        ToPy::to_py(&self.0.$r, py)?.repr()?
                    ));
                )*
                Ok(format!(concat!($name, "({})"), parts.join(", ")))
            }
        }

        impl ToPy for $rust {
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(Bound::new(py, $py(self.clone()))?.into_any())
            }
        }

        impl<'py> IntoPyObject<'py> for Model<$rust> {
            type Target = PyAny;
            type Output = Bound<'py, PyAny>;
            type Error = PyErr;

            fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(Bound::new(py, $py(self.0))?.into_any())
            }
        }
    };
}

/// A Rust model on its way to Python: converts to the model's Python class.
pub(crate) struct Model<T>(pub(crate) T);

model! {
    /// A server (VM, instance).
    PyServer as "Server" wraps Server, repr(id, name, status) {
        /// Id.
        id,
        /// Name.
        name,
        /// State: `"BUILD"`, `"ACTIVE"`, `"SHUTOFF"`, `"REBOOT"`, `"RESIZE"`,
        /// `"VERIFY_RESIZE"`, `"PAUSED"`, `"SUSPENDED"`, `"DELETING"`, `"DELETED"`,
        /// `"ERROR"`, or the provider's own word for a state hybrid does not know.
        status,
        /// The flavor id it runs with.
        flavor,
        /// The image id it was built from.
        image,
        /// Its addresses (`ServerAddress`).
        addresses,
        /// The key pair injected at boot.
        key_name,
        /// Availability zone, cluster or zone.
        availability_zone,
        /// Tags.
        tags,
        /// Metadata.
        metadata,
        /// Creation time, RFC 3339, as the provider reports it.
        created_at,
        /// Progress of the current transition, 0–100, where reported.
        progress,
        /// Fault message when in error, where reported.
        fault,
        /// The provider's document (a dict for JSON APIs, XML text for vSphere).
        raw,
    }
}

model! {
    /// One address of a server.
    PyServerAddress as "ServerAddress" wraps ServerAddress, repr(network, address, kind) {
        /// The network, by name or id as the provider reports it.
        network,
        /// The IP address.
        address,
        /// `"fixed"` (private) or `"floating"` (public).
        kind,
    }
}

model! {
    /// A flavor: a size a server can be created with.
    PyFlavor as "Flavor" wraps Flavor, repr(id, name, vcpus, ram_mib, disk_gib) {
        /// Id.
        id,
        /// Name.
        name,
        /// Virtual CPUs.
        vcpus,
        /// Memory in MiB.
        ram_mib,
        /// Root disk in GiB (0: the image decides).
        disk_gib,
        /// Extra ephemeral disk in GiB.
        ephemeral_gib,
        /// Whether every project can use it.
        is_public,
        /// Extra specs or provider-specific properties.
        extra,
        /// The provider's document.
        raw,
    }
}

model! {
    /// An SSH key pair registered with the provider.
    PyKeyPair as "KeyPair" wraps KeyPair, repr(name, fingerprint) {
        /// Name (the id of a key pair).
        name,
        /// Fingerprint of the public key.
        fingerprint,
        /// The public key, OpenSSH format.
        public_key,
    }
}

model! {
    /// A network.
    PyNetwork as "Network" wraps Network, repr(id, name, kind, status) {
        /// Id.
        id,
        /// Name.
        name,
        /// How it is built: `"flat"`, `"vlan"`, `"overlay"`, `"local"`, or the provider's word.
        kind,
        /// VLAN id or VNI.
        segmentation_id,
        /// State: `"ACTIVE"`, `"DOWN"`, `"BUILD"`, `"ERROR"`.
        status,
        /// Shared with other projects.
        shared,
        /// An external (provider, public) network.
        external,
        /// Its subnet ids.
        subnets,
        /// Tags.
        tags,
        /// The provider's document.
        raw,
    }
}

model! {
    /// A subnet: an address range on a network.
    PySubnet as "Subnet" wraps Subnet, repr(id, name, cidr) {
        /// Id.
        id,
        /// Its network.
        network_id,
        /// Name.
        name,
        /// CIDR, for example `"10.0.0.0/24"`.
        cidr,
        /// 4 or 6.
        ip_version,
        /// Gateway address.
        gateway_ip,
        /// Whether DHCP serves it.
        dhcp_enabled,
        /// DNS servers handed out.
        dns_nameservers,
        /// The provider's document.
        raw,
    }
}

model! {
    /// A fixed IP on a port.
    PyFixedIp as "FixedIp" wraps FixedIp, repr(ip_address, subnet_id) {
        /// The subnet.
        subnet_id,
        /// The address.
        ip_address,
    }
}

model! {
    /// A port (Neutron port, vNIC, Azure network interface).
    PyPort as "Port" wraps Port, repr(id, name, network_id, status) {
        /// Id.
        id,
        /// Name.
        name,
        /// Its network.
        network_id,
        /// MAC address.
        mac_address,
        /// Fixed IPs (`FixedIp`).
        fixed_ips,
        /// The server using it.
        device_id,
        /// Security group ids applied.
        security_groups,
        /// State.
        status,
        /// The provider's document.
        raw,
    }
}

model! {
    /// A rule of a security group.
    PySecurityGroupRule as "SecurityGroupRule" wraps SecurityGroupRule,
        repr(id, direction, protocol, port_min, port_max) {
        /// Id.
        id,
        /// Its group.
        group_id,
        /// `"ingress"` or `"egress"`.
        direction,
        /// 4 or 6.
        ip_version,
        /// `"tcp"`, `"udp"`, `"icmp"`, a number, or `None` for any.
        protocol,
        /// Lowest port, inclusive.
        port_min,
        /// Highest port, inclusive.
        port_max,
        /// The remote end: `{"cidr": "0.0.0.0/0"}`, `{"group": "<id>"}`, or `None` for anywhere.
        remote,
    }
}

model! {
    /// A security group (network security group).
    PySecurityGroup as "SecurityGroup" wraps SecurityGroup, repr(id, name) {
        /// Id.
        id,
        /// Name.
        name,
        /// Description.
        description,
        /// Rules (`SecurityGroupRule`).
        rules,
        /// Tags.
        tags,
        /// The provider's document.
        raw,
    }
}

model! {
    /// A router.
    PyRouter as "Router" wraps Router, repr(id, name, status) {
        /// Id.
        id,
        /// Name.
        name,
        /// The external network it routes to.
        external_network,
        /// Subnet ids with an interface on it.
        interfaces,
        /// State.
        status,
        /// The provider's document.
        raw,
    }
}

model! {
    /// A floating (public) IP.
    PyFloatingIp as "FloatingIp" wraps FloatingIp, repr(id, address, port_id) {
        /// Id.
        id,
        /// The public address.
        address,
        /// The external network it comes from.
        network_id,
        /// The port it maps to.
        port_id,
        /// The private address it maps to.
        fixed_address,
        /// State.
        status,
        /// The provider's document.
        raw,
    }
}

model! {
    /// A volume attached to a server.
    PyAttachment as "Attachment" wraps Attachment, repr(volume_id, server_id, device) {
        /// The attachment's own id, where the provider has one.
        id,
        /// The volume.
        volume_id,
        /// The server.
        server_id,
        /// Device name or controller slot, where reported.
        device,
    }
}

model! {
    /// A block volume.
    PyVolume as "Volume" wraps Volume, repr(id, name, size_gib, status) {
        /// Id.
        id,
        /// Name.
        name,
        /// Size in GiB.
        size_gib,
        /// State: `"creating"`, `"available"`, `"attaching"`, `"in-use"`, `"detaching"`,
        /// `"extending"`, `"deleting"`, `"error"`.
        status,
        /// Volume type, storage policy or SKU.
        volume_type,
        /// Whether it can be booted from.
        bootable,
        /// Availability zone or datastore.
        availability_zone,
        /// Attachments (`Attachment`).
        attachments,
        /// Metadata.
        metadata,
        /// The provider's document.
        raw,
    }
}

model! {
    /// A snapshot of a volume.
    PySnapshot as "Snapshot" wraps Snapshot, repr(id, name, volume_id, status) {
        /// Id.
        id,
        /// The volume it was taken of.
        volume_id,
        /// Name.
        name,
        /// Size in GiB.
        size_gib,
        /// State: `"creating"`, `"available"`, `"deleting"`, `"error"`.
        status,
        /// The provider's document.
        raw,
    }
}

model! {
    /// Where an image lives and whether other environments can use it.
    PyImageLocality as "ImageLocality" wraps ImageLocality, repr(bound_to, shareable) {
        /// The store it is bound to: a datastore, content library, region or gallery.
        bound_to,
        /// Whether other environments can use it as it is (VMware images never can).
        shareable,
    }
}

model! {
    /// An image servers can boot from.
    PyImage as "Image" wraps Image, repr(id, name, status) {
        /// Id.
        id,
        /// Name.
        name,
        /// State: `"queued"`, `"saving"`, `"importing"`, `"active"`, `"deactivated"`,
        /// `"pending_delete"`, `"deleted"`, `"killed"`.
        status,
        /// Disk format (`"qcow2"`, `"raw"`, `"vmdk"`, `"vhd"`, `"ova"`).
        disk_format,
        /// Container format (`"bare"`, `"ova"`, `"ovf"`).
        container_format,
        /// Size in bytes.
        size_bytes,
        /// Checksum of the data, as the provider reports it.
        checksum,
        /// `"public"`, `"private"`, `"shared"` or `"community"`.
        visibility,
        /// Minimum root disk in GiB.
        min_disk_gib,
        /// Minimum memory in MiB.
        min_ram_mib,
        /// Operating-system family (`"linux"`, `"windows"`), where known.
        os_family,
        /// Where it lives and whether it can travel (`ImageLocality`).
        locality,
        /// Tags.
        tags,
        /// Properties.
        properties,
        /// The provider's document.
        raw,
    }
}

impl ToPy for RuleRemote {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_data(py, self)
    }
}

/// Registers the model classes.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyServer>()?;
    m.add_class::<PyServerAddress>()?;
    m.add_class::<PyFlavor>()?;
    m.add_class::<PyKeyPair>()?;
    m.add_class::<PyNetwork>()?;
    m.add_class::<PySubnet>()?;
    m.add_class::<PyFixedIp>()?;
    m.add_class::<PyPort>()?;
    m.add_class::<PySecurityGroupRule>()?;
    m.add_class::<PySecurityGroup>()?;
    m.add_class::<PyRouter>()?;
    m.add_class::<PyFloatingIp>()?;
    m.add_class::<PyAttachment>()?;
    m.add_class::<PyVolume>()?;
    m.add_class::<PySnapshot>()?;
    m.add_class::<PyImageLocality>()?;
    m.add_class::<PyImage>()?;
    Ok(())
}
