//! [`VsphereProvider`]: a connected vCenter as a hybrid [`Provider`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use tokio::sync::Mutex;

use hybrid_core::{
    async_trait, Capabilities, Compute, Images, Network, Provider, ProviderInfo, ProviderKind,
    Result, Storage,
};

use crate::capabilities::{capabilities, DiscoveryFacts};
use crate::config::VsphereConfig;
use crate::inventory::discover;
use crate::protocol::types::Mor;
use crate::protocol::vapi::LibraryModel;
use crate::session::Session;
use crate::tags::TagCache;
use crate::vapi::Vapi;

/// Placement defaults and lookups found by discovery.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub(crate) datacenter: Mor,
    pub(crate) datacenter_name: String,
    pub(crate) vm_folder: Mor,
    pub(crate) pool: Option<Mor>,
    pub(crate) datastore: Option<(Mor, String)>,
    pub(crate) datastores: BTreeMap<String, String>,
    pub(crate) network: Option<Mor>,
    /// `(switch, name, uuid)`.
    pub(crate) switches: Vec<(Mor, String, String)>,
    /// `(cluster name, its root resource pool)`.
    pub(crate) clusters: Vec<(String, Mor)>,
    /// The uplink port groups of the distributed switches (never listed as networks).
    pub(crate) uplinks: std::collections::BTreeSet<String>,
    /// Switches whose `config.uplinkPortgroup` came back empty (vcsim 0.24.2): their
    /// uplink port group is recognized by name and VLAN trunk instead.
    pub(crate) switches_without_uplink_list: std::collections::BTreeSet<String>,
}

pub(crate) struct Inner {
    pub(crate) config: VsphereConfig,
    pub(crate) session: Session,
    pub(crate) vapi: Vapi,
    pub(crate) views: Mutex<HashMap<&'static str, Mor>>,
    /// The server-tag category and its tags' names.
    pub(crate) tag_cache: Mutex<TagCache>,
    /// Content libraries seen, by id.
    pub(crate) libraries: std::sync::Mutex<HashMap<String, LibraryModel>>,
    /// Held while the upload library is looked up or created (one creation at a time).
    pub(crate) library_lock: Mutex<()>,
    /// The datastore of each first-class disk seen, by disk id.
    pub(crate) disk_datastores: std::sync::Mutex<HashMap<String, Mor>>,
    facts: RwLock<Arc<Facts>>,
    discovery: RwLock<Arc<DiscoveryFacts>>,
    caps: RwLock<Arc<Capabilities>>,
}

impl Inner {
    pub(crate) fn facts(&self) -> Arc<Facts> {
        self.facts
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub(crate) fn set_facts(&self, f: Facts) {
        if let Ok(mut g) = self.facts.write() {
            *g = Arc::new(f);
        }
    }

    pub(crate) fn caps(&self) -> Arc<Capabilities> {
        self.caps
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// An `Inner` over a logged-in session without discovery (wire tests).
    #[cfg(test)]
    pub(crate) fn for_tests(config: VsphereConfig, session: Session) -> Arc<Inner> {
        let root = session.content.root_folder.clone();
        let vapi = Vapi::new(&config).expect("a vAPI transport for the test config");
        Arc::new(Inner {
            config,
            session,
            vapi,
            views: Mutex::new(HashMap::new()),
            tag_cache: Mutex::new(TagCache::default()),
            libraries: std::sync::Mutex::new(HashMap::new()),
            library_lock: Mutex::new(()),
            disk_datastores: std::sync::Mutex::new(HashMap::new()),
            facts: RwLock::new(Arc::new(Facts {
                datacenter: Mor::new("Datacenter", "datacenter-2"),
                datacenter_name: "DC0".into(),
                vm_folder: root,
                pool: Some(Mor::new("ResourcePool", "resgroup-9")),
                datastore: Some((Mor::new("Datastore", "datastore-1"), "LocalDS_0".into())),
                datastores: BTreeMap::from([("datastore-1".to_owned(), "LocalDS_0".to_owned())]),
                network: None,
                switches: Vec::new(),
                clusters: Vec::new(),
                uplinks: std::collections::BTreeSet::new(),
                switches_without_uplink_list: std::collections::BTreeSet::new(),
            })),
            discovery: RwLock::new(Arc::new(DiscoveryFacts::default())),
            caps: RwLock::new(Arc::new(Capabilities::default())),
        })
    }

    async fn refresh(&self) -> Result<()> {
        // Discovery makes new views: the old ones are destroyed, not left on the
        // vCenter until the session ends (one set per `check()` otherwise). Best
        // effort: a view the vCenter no longer has (an expired session) is gone anyway.
        let old = std::mem::take(&mut *self.views.lock().await);
        for view in old.into_values() {
            if let Err(e) = crate::api::property::destroy_view(&self.session, &view).await {
                tracing::debug!(target: "hybrid_vsphere", view = %view.value, error = %e, "DestroyView failed");
            }
        }
        let (facts, mut d) = discover(self).await?;
        d.first_class_disks = self.session.content.vstorage_object_manager.is_some();
        match self.vapi.flavour().await {
            Ok(f) => {
                d.automation_api = Some(f.prefix().to_owned());
                d.automation_api_error = None;
            }
            // The same credentials worked for vim25: say so, do not hide it.
            Err(e) if e.kind() == hybrid_core::ErrorKind::Unauthenticated => return Err(e),
            Err(e) => {
                tracing::warn!(target: "hybrid_vsphere", error = %e, "the vSphere Automation API did not answer: tags and the content library are unavailable");
                d.automation_api = None;
                d.automation_api_error = Some(e.to_string());
            }
        }
        let caps = capabilities(&d);
        self.set_facts(facts);
        if let Ok(mut g) = self.discovery.write() {
            *g = Arc::new(d);
        }
        if let Ok(mut g) = self.caps.write() {
            *g = Arc::new(caps);
        }
        Ok(())
    }
}

/// A vCenter, connected and logged in, implementing [`Provider`].
///
/// Build it with [`VsphereProvider::connect`], then hand it out as a gated
/// `Arc<dyn Provider>` with [`VsphereProvider::into_provider`] (or use
/// [`crate::connect`], which does both). Cheap to clone.
#[derive(Clone)]
pub struct VsphereProvider {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for VsphereProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VsphereProvider")
            .field("config", &self.inner.config)
            .field("session", &self.inner.session)
            .finish_non_exhaustive()
    }
}

impl VsphereProvider {
    /// Connects: reads `ServiceContent`, refuses a standalone ESXi host, logs in, and
    /// discovers the datacenter, placement defaults and capabilities.
    ///
    /// # Errors
    /// - `Unsupported` (reason *platform never*) when the endpoint is a standalone ESXi
    ///   host (`about.apiType` `HostAgent`): vCenter is required.
    /// - `Unauthenticated` for a wrong user or password (`InvalidLogin`).
    /// - `Config` for missing credentials or a datacenter, datastore, pool, folder or
    ///   network named in the configuration that does not exist.
    /// - `Transport`, `Timeout`, `InvalidResponse`.
    pub async fn connect(config: VsphereConfig) -> Result<VsphereProvider> {
        let config = config.normalized()?;
        let options = config
            .client_options()
            .map_err(|e| e.with_provider(config.name.clone()))?;
        VsphereProvider::connect_with_options(config, options).await
    }

    /// As [`connect`](Self::connect), over the HTTP client options `options` (timeouts,
    /// retry policy and total deadline, proxy, body limits) for both vim25 SOAP and the
    /// vSphere Automation API; the configuration's CA file and `insecure` setting are
    /// added to them ([`VsphereConfig::apply_to`]). `request_timeout_secs` of the
    /// configuration is not used here: `options` has its own request timeout.
    ///
    /// # Errors
    /// As [`connect`](Self::connect); `Config` when the options cannot make a client (an
    /// unreadable CA bundle, an invalid proxy URL).
    pub async fn connect_with_options(
        config: VsphereConfig,
        options: hybrid_http::ClientOptions,
    ) -> Result<VsphereProvider> {
        let config = config.normalized()?;
        let name = config.name.clone();
        let http = config
            .apply_to(options)
            .and_then(|o| crate::transport::http_client(&config, o))
            .map_err(|e| e.with_provider(name.clone()))?;
        let session = Session::connect_with(&config, http.clone())
            .await
            .map_err(|e| e.with_provider(name.clone()))?;
        let vapi = Vapi::with_client(&config, http).map_err(|e| e.with_provider(name.clone()))?;
        let placeholder = Facts {
            datacenter: session.content.root_folder.clone(),
            datacenter_name: String::new(),
            vm_folder: session.content.root_folder.clone(),
            pool: None,
            datastore: None,
            datastores: BTreeMap::new(),
            network: None,
            switches: Vec::new(),
            clusters: Vec::new(),
            uplinks: std::collections::BTreeSet::new(),
            switches_without_uplink_list: std::collections::BTreeSet::new(),
        };
        let inner = Arc::new(Inner {
            config,
            session,
            vapi,
            views: Mutex::new(HashMap::new()),
            tag_cache: Mutex::new(TagCache::default()),
            libraries: std::sync::Mutex::new(HashMap::new()),
            library_lock: Mutex::new(()),
            disk_datastores: std::sync::Mutex::new(HashMap::new()),
            facts: RwLock::new(Arc::new(placeholder)),
            discovery: RwLock::new(Arc::new(DiscoveryFacts::default())),
            caps: RwLock::new(Arc::new(Capabilities::default())),
        });
        inner.refresh().await.map_err(|e| e.with_provider(name))?;
        Ok(VsphereProvider { inner })
    }

    /// This provider behind the capability gate, as `Arc<dyn Provider>`.
    pub fn into_provider(self) -> Arc<dyn Provider> {
        hybrid_core::gate::gate(Arc::new(self))
    }

    /// What capability discovery saw (NSX, switches, clusters, vCenter version).
    pub fn discovery(&self) -> Arc<DiscoveryFacts> {
        self.inner
            .discovery
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// SOAP calls sent so far (every attempt counts): the vim25 round trips of this
    /// provider.
    pub fn soap_calls(&self) -> u64 {
        self.inner.session.transport.calls()
    }

    /// vSphere Automation (REST) requests issued so far: every call, login, logout and
    /// transfer counts once (a request the HTTP layer retries after a 5xx or a `401`
    /// counts once; the new login after a `401` counts on its own).
    pub fn rest_calls(&self) -> u64 {
        self.inner.vapi.calls()
    }

    /// Ends the vCenter sessions: the vAPI session (`DELETE` on its session path),
    /// then the vim25 session (`Logout`). Later calls log in again on their own.
    ///
    /// # Errors
    /// Transport and service errors of either logout (both are attempted).
    pub async fn logout(&self) -> Result<()> {
        let rest = self.inner.vapi.logout().await;
        let soap = self.inner.session.logout().await;
        rest.and(soap)
    }
}

#[async_trait]
impl Provider for VsphereProvider {
    fn info(&self) -> ProviderInfo {
        let d = self.discovery();
        ProviderInfo {
            kind: ProviderKind::Vsphere,
            name: self.inner.config.name.clone(),
            region: Some(self.inner.facts().datacenter_name.clone()).filter(|s| !s.is_empty()),
            variant: Some(if d.has_nsx() {
                "vcenter with nsx".to_owned()
            } else {
                "vcenter without nsx".to_owned()
            }),
            simulated: false,
        }
    }

    fn capabilities(&self) -> Arc<Capabilities> {
        self.inner.caps()
    }

    async fn check(&self) -> Result<()> {
        let content =
            crate::api::session::retrieve_service_content(&self.inner.session.transport).await?;
        crate::session::require_vcenter(&content)?;
        self.inner
            .refresh()
            .await
            .map_err(|e| e.with_provider(self.inner.config.name.clone()))
    }

    fn compute(&self) -> &dyn Compute {
        self
    }
    fn network(&self) -> &dyn Network {
        self
    }
    fn storage(&self) -> &dyn Storage {
        self
    }
    fn images(&self) -> &dyn Images {
        self
    }
}
