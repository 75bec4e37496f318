//! `cloud.compute`: servers, flavors, key pairs, server tags and metadata.

use std::collections::BTreeMap;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use hybrid::model::*;
use hybrid::{ComputeExt, Provider};

use crate::errors::invalid_input;
use crate::listing::{fetchers, list_options, token, PageOut};
use crate::models::Model;
use crate::operation::{OpOut, Waiting};
use crate::rt::twins;

/// Servers, flavors, key pairs, server tags and metadata of one provider
/// (`cloud.compute`).
///
/// Every method that does I/O has a blocking form, which releases the GIL while it
/// runs, and an asyncio twin prefixed with `a`. Lists are lazy: `list_servers()` is an
/// iterator and `alist_servers()` an async iterator, each fetching a page at a time;
/// `list_servers_page()` returns one resumable page. Mutations wait until the work is
/// done (`wait=True`, within `timeout` seconds) and return the resource, or return an
/// `Operation` with `wait=False`.
///
/// Every method requires the capability `compute.servers` unless it names another.
/// A missing capability raises `UnsupportedError` with the reason, without a request.
#[pyclass(frozen, name = "ComputeService", module = "hybrid")]
pub(crate) struct PyCompute {
    pub(crate) p: Arc<dyn Provider>,
}

impl PyCompute {
    fn provider(&self) -> Arc<dyn Provider> {
        self.p.clone()
    }
}

/// One entry of `create_server(networks=...)`: a network id, `{"network": id,
/// "fixed_ip": ip}` or `{"port": id}`.
fn attachment(obj: &Bound<'_, PyAny>) -> PyResult<NetworkAttachment> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(NetworkAttachment::Network {
            network: NetworkId::new(s.to_str()?),
            fixed_ip: None,
        });
    }
    let Ok(d) = obj.cast::<PyDict>() else {
        return Err(invalid_input(
            py,
            "networks entries are network ids or dicts with \"network\" (and \"fixed_ip\") or \"port\"",
        ));
    };
    if let Some(port) = d.get_item("port")? {
        if d.len() != 1 {
            return Err(invalid_input(
                py,
                "a {\"port\": id} entry takes no other key",
            ));
        }
        return Ok(NetworkAttachment::Port {
            port: PortId::new(port.extract::<String>()?),
        });
    }
    let Some(network) = d.get_item("network")? else {
        return Err(invalid_input(
            py,
            "a networks entry needs \"network\" or \"port\"",
        ));
    };
    for k in d.keys() {
        let k: String = k.extract()?;
        if k != "network" && k != "fixed_ip" {
            return Err(invalid_input(
                py,
                format!("unknown networks entry key {k:?}"),
            ));
        }
    }
    Ok(NetworkAttachment::Network {
        network: NetworkId::new(network.extract::<String>()?),
        fixed_ip: d
            .get_item("fixed_ip")?
            .map(|v| v.extract::<String>())
            .transpose()?,
    })
}

twins! {
    impl PyCompute {
        /// Servers, lazily, one page at a time. Filters: `name` (exact), `tags` (all of
        /// them), `page_size` (a request, the service may cap it), `filters`
        /// (backend-specific query parameters).
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_servers_page / alist_servers_page (&self, _py, page_token: Option<String>, name: Option<String>, tags: Option<Vec<String>>,
            page_size: Option<u32>, filters: Option<BTreeMap<String, String>>,
        ) -> PageOut<Server> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.compute().list_servers_page(&opts, token(page_token)).await?)) }
        }

        /// One server. Raises `NotFoundError` when it does not exist.
        #[pyo3(signature = (id))]
        fn get_server / aget_server (&self, _py, id: String) -> Model<Server> {
            let p = self.provider();
            async move { Ok(Model(p.compute().get_server(&ServerId::new(id)).await?)) }
        }

        /// The server named exactly `name`, or `None`. Raises `ConflictError` when several
        /// servers share the name.
        #[pyo3(signature = (name))]
        fn find_server / afind_server (&self, _py, name: String) -> Option<Model<Server>> {
            let p = self.provider();
            async move { Ok(p.compute().find_server(&name).await?.map(Model)) }
        }

        /// Creates a server from `flavor` (an id) and `image` (an id) or `boot_volume`;
        /// `networks` are network ids or `{"network": id, "fixed_ip": ip}` / `{"port": id}`
        /// dicts. Waits until it is `ACTIVE` and returns it (or returns an `Operation`
        /// with `wait=False`).
        ///
        /// Also requires `network.security_groups`, `compute.key_pairs`,
        /// `compute.server_tags` and `compute.server_metadata` when the call uses them.
        /// Raises `InvalidInputError`, `NotFoundError` (flavor, image, network),
        /// `QuotaExceededError`, and `OperationFailedError` when the server ends in error.
        #[pyo3(signature = (
            name, flavor, *, image=None, boot_volume=None, networks=None, security_groups=None,
            key_name=None, user_data=None, availability_zone=None, metadata=None, tags=None,
            wait=true, timeout=None
        ))]
        fn create_server / acreate_server (&self, py, name: String, flavor: String, image: Option<String>,
            boot_volume: Option<String>, networks: Option<Vec<Bound<'_, PyAny>>>,
            security_groups: Option<Vec<String>>, key_name: Option<String>,
            user_data: Option<String>, availability_zone: Option<String>,
            metadata: Option<BTreeMap<String, String>>, tags: Option<Vec<String>>,
            wait: bool, timeout: Option<f64>,
        ) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let networks = networks
                .unwrap_or_default()
                .iter()
                .map(attachment)
                .collect::<PyResult<Vec<_>>>()?;
            let spec = CreateServer {
                name,
                flavor: FlavorId::new(flavor),
                image: image.map(ImageId::new),
                boot_volume: boot_volume.map(VolumeId::new),
                networks,
                security_groups: security_groups.unwrap_or_default(),
                key_name,
                user_data,
                availability_zone,
                metadata: metadata.unwrap_or_default(),
                tags: tags.unwrap_or_default(),
            };
            let p = self.provider();
            async move { waiting.finish(p.compute().create_server(&spec).await?).await }
        }

        /// Deletes a server and waits until it is gone (returns `None`), or returns an
        /// `Operation` with `wait=False`. Raises `NotFoundError`.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn delete_server / adelete_server (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.compute().delete_server(&ServerId::new(id)).await?).await }
        }

        /// Powers a server on and returns it once running. Requires `compute.power`.
        /// Raises `NotFoundError`, `ConflictError` when its state forbids it.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn start_server / astart_server (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.compute().start_server(&ServerId::new(id)).await?).await }
        }

        /// Powers a server off and returns it once stopped. Requires `compute.power`.
        /// Raises `NotFoundError`, `ConflictError` when its state forbids it.
        #[pyo3(signature = (id, *, wait=true, timeout=None))]
        fn stop_server / astop_server (&self, py, id: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move { waiting.finish(p.compute().stop_server(&ServerId::new(id)).await?).await }
        }

        /// Reboots a server, soft (the guest is asked) or `hard` (reset), and returns it
        /// once running again. Requires `compute.reboot`. Raises `NotFoundError`,
        /// `ConflictError`.
        #[pyo3(signature = (id, *, hard=false, wait=true, timeout=None))]
        fn reboot_server / areboot_server (&self, py, id: String, hard: bool, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let kind = if hard { RebootKind::Hard } else { RebootKind::Soft };
            let p = self.provider();
            async move { waiting.finish(p.compute().reboot_server(&ServerId::new(id), kind).await?).await }
        }

        /// Changes a server's flavor (confirming the resize where the platform asks to)
        /// and returns it. Requires `compute.resize`. Raises `NotFoundError` (server or
        /// flavor), `ConflictError`, `InvalidInputError`.
        #[pyo3(signature = (id, flavor, *, wait=true, timeout=None))]
        fn resize_server / aresize_server (&self, py, id: String, flavor: String, wait: bool, timeout: Option<f64>) -> OpOut {
            let waiting = Waiting::new(py, wait, timeout)?;
            let p = self.provider();
            async move {
                waiting
                    .finish(p.compute().resize_server(&ServerId::new(id), &FlavorId::new(flavor)).await?)
                    .await
            }
        }

        /// Waits until server `id` has `status` (for example `"ACTIVE"`) and returns it.
        /// Raises `TimeoutError` after `timeout` seconds, `OperationFailedError` when it
        /// goes to `ERROR` instead.
        #[pyo3(signature = (id, status="ACTIVE", *, timeout=600.0))]
        fn wait_for_server / await_for_server (&self, py, id: String, status: &str, timeout: f64) -> Model<Server> {
            let timeout = crate::operation::seconds(py, "timeout", Some(timeout))?.unwrap_or_default();
            let status = ServerStatus::parse(status);
            let p = self.provider();
            async move {
                Ok(Model(p.compute().wait_for_server(&ServerId::new(id), status, timeout).await?))
            }
        }

        /// One page of flavors. Requires `compute.flavors`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_flavors_page / alist_flavors_page (&self, _py, page_token: Option<String>, name: Option<String>, tags: Option<Vec<String>>,
            page_size: Option<u32>, filters: Option<BTreeMap<String, String>>,
        ) -> PageOut<Flavor> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.compute().list_flavors_page(&opts, token(page_token)).await?)) }
        }

        /// One flavor. Requires `compute.flavors`. Raises `NotFoundError`.
        #[pyo3(signature = (id))]
        fn get_flavor / aget_flavor (&self, _py, id: String) -> Model<Flavor> {
            let p = self.provider();
            async move { Ok(Model(p.compute().get_flavor(&FlavorId::new(id)).await?)) }
        }

        /// The flavor named exactly `name`, or `None`. Requires `compute.flavors`.
        #[pyo3(signature = (name))]
        fn find_flavor / afind_flavor (&self, _py, name: String) -> Option<Model<Flavor>> {
            let p = self.provider();
            async move { Ok(p.compute().find_flavor(&name).await?.map(Model)) }
        }

        /// The smallest flavor (fewest vCPUs, then least memory, then smallest disk) with
        /// at least the given resources, or `None`. Requires `compute.flavors`.
        #[pyo3(signature = (vcpus, ram_mib, disk_gib=0))]
        fn smallest_flavor / asmallest_flavor (&self, _py, vcpus: u32, ram_mib: u64, disk_gib: u64) -> Option<Model<Flavor>> {
            let p = self.provider();
            async move { Ok(p.compute().smallest_flavor(vcpus, ram_mib, disk_gib).await?.map(Model)) }
        }

        /// One page of key pairs. Requires `compute.key_pairs`.
        #[pyo3(signature = (*, page_token=None, name=None, tags=None, page_size=None, filters=None))]
        fn list_key_pairs_page / alist_key_pairs_page (&self, _py, page_token: Option<String>, name: Option<String>, tags: Option<Vec<String>>,
            page_size: Option<u32>, filters: Option<BTreeMap<String, String>>,
        ) -> PageOut<KeyPair> {
            let p = self.provider();
            let opts = list_options(name, tags, page_size, filters);
            async move { Ok(PageOut(p.compute().list_key_pairs_page(&opts, token(page_token)).await?)) }
        }

        /// One key pair by name. Requires `compute.key_pairs`. Raises `NotFoundError`.
        #[pyo3(signature = (name))]
        fn get_key_pair / aget_key_pair (&self, _py, name: String) -> Model<KeyPair> {
            let p = self.provider();
            async move { Ok(Model(p.compute().get_key_pair(&name).await?)) }
        }

        /// Registers an OpenSSH public key under `name`. Requires `compute.key_pairs`.
        /// Raises `AlreadyExistsError`, `InvalidInputError`.
        #[pyo3(signature = (name, public_key))]
        fn create_key_pair / acreate_key_pair (&self, _py, name: String, public_key: String) -> Model<KeyPair> {
            let p = self.provider();
            async move { Ok(Model(p.compute().create_key_pair(&CreateKeyPair { name, public_key }).await?)) }
        }

        /// Deletes a key pair. Requires `compute.key_pairs`. Raises `NotFoundError`.
        #[pyo3(signature = (name))]
        fn delete_key_pair / adelete_key_pair (&self, _py, name: String) -> () {
            let p = self.provider();
            async move { p.compute().delete_key_pair(&name).await }
        }

        /// Replaces a server's tags and returns them. Requires `compute.server_tags`.
        /// Raises `NotFoundError`, `InvalidInputError`.
        #[pyo3(signature = (id, tags))]
        fn set_server_tags / aset_server_tags (&self, _py, id: String, tags: Vec<String>) -> Vec<String> {
            let p = self.provider();
            async move { p.compute().set_server_tags(&ServerId::new(id), &tags).await }
        }

        /// Adds one tag. Requires `compute.server_tags`.
        #[pyo3(signature = (id, tag))]
        fn add_server_tag / aadd_server_tag (&self, _py, id: String, tag: String) -> () {
            let p = self.provider();
            async move { p.compute().add_server_tag(&ServerId::new(id), &tag).await }
        }

        /// Removes one tag. Requires `compute.server_tags`. Raises `NotFoundError` when
        /// the server or the tag does not exist.
        #[pyo3(signature = (id, tag))]
        fn remove_server_tag / aremove_server_tag (&self, _py, id: String, tag: String) -> () {
            let p = self.provider();
            async move { p.compute().remove_server_tag(&ServerId::new(id), &tag).await }
        }

        /// Merges entries into a server's metadata and returns all of it. Requires
        /// `compute.server_metadata`.
        #[pyo3(signature = (id, metadata))]
        fn set_server_metadata / aset_server_metadata (&self, _py, id: String, metadata: BTreeMap<String, String>) -> BTreeMap<String, String> {
            let p = self.provider();
            async move { p.compute().set_server_metadata(&ServerId::new(id), &metadata).await }
        }

        /// Deletes one metadata key. Requires `compute.server_metadata`. Raises
        /// `NotFoundError` when the server or the key does not exist.
        #[pyo3(signature = (id, key))]
        fn delete_server_metadata / adelete_server_metadata (&self, _py, id: String, key: String) -> () {
            let p = self.provider();
            async move { p.compute().delete_server_metadata(&ServerId::new(id), &key).await }
        }

        lists {
            /// Servers.
            fn list_servers / alist_servers => servers;
            /// Flavors. Requires `compute.flavors`.
            fn list_flavors / alist_flavors => flavors;
            /// Key pairs. Requires `compute.key_pairs`.
            fn list_key_pairs / alist_key_pairs => key_pairs;
        }
        plain {
            fn __repr__(&self) -> String {
                format!("ComputeService({})", self.p.info().name)
            }
        }
    }
}

fetchers! {
    impl PyCompute {
        fn servers => compute.list_servers_page;
        fn flavors => compute.list_flavors_page;
        fn key_pairs => compute.list_key_pairs_page;
    }
}
