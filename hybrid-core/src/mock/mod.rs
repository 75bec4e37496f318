//! The mock provider: a real, stateful, in-memory provider for all four domains.
//!
//! - Lifecycles run on the tokio clock (`BUILD` → `ACTIVE` after
//!   [`Delays::build_ms`], deletes, attaches, image imports), so tests can pause time.
//! - [`Profile`]s obey each real backend's limits: [`Profile::Vsphere`] has no SDN,
//!   security groups, routers or floating IPs, only flat VLAN networks, no object
//!   storage, and datastore-bound images that cannot be shared; [`Profile::VsphereNsx`]
//!   gets SDN through NSX; [`Profile::OpenstackKvm`], [`Profile::OpenstackOnVsphere`]
//!   (vSphere's limits inside an OpenStack region) and [`Profile::Azure`].
//! - Seeded, deterministic fault injection per operation ([`Fault`]) and request
//!   counters per operation ([`MockProvider::request_count`]).
//! - Cheap enough for fleets of 100k servers ([`MockBuilder::with_servers`]).
//!
//! Every call counts as one request and passes the fault injector first, as a real
//! backend's HTTP call would; the pollers behind returned [`Operation`]s make
//! `get_*` requests, which count too.
//!
//! URL imports make no network request: the mock records the URL and fills the image
//! with deterministic bytes derived from it ([`Delays::import_bytes`] long).

mod compute;
mod faults;
mod images;
mod network;
mod profiles;
mod state;
mod storage;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use faults::Fault;

use crate::capabilities::Capabilities;
use crate::error::{Error, ErrorKind, Result};
use crate::gate::gate;
use crate::operation::Operation;
use crate::provider::*;

use faults::FaultState;
use state::State;

/// Which real backend the mock imitates, with its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// vCenter without NSX: flat VLAN port groups only; no SDN, security groups,
    /// routers or floating IPs; no object storage; images bound to the datastore.
    Vsphere,
    /// vCenter with NSX: SDN, security groups (distributed firewall), routers
    /// (tier-1 gateways) and floating IPs (NAT) through NSX.
    VsphereNsx,
    /// OpenStack on KVM: everything.
    #[default]
    OpenstackKvm,
    /// An OpenStack region whose Nova drives vCenter: vSphere's limits inside OpenStack.
    OpenstackOnVsphere,
    /// Azure Resource Manager.
    Azure,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 5] = [
        Profile::Vsphere,
        Profile::VsphereNsx,
        Profile::OpenstackKvm,
        Profile::OpenstackOnVsphere,
        Profile::Azure,
    ];

    /// The snake-case name, for example `openstack_on_vsphere`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Vsphere => "vsphere",
            Profile::VsphereNsx => "vsphere_nsx",
            Profile::OpenstackKvm => "openstack_kvm",
            Profile::OpenstackOnVsphere => "openstack_on_vsphere",
            Profile::Azure => "azure",
        }
    }

    /// Parses a snake-case name.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an unknown name.
    pub fn parse(s: &str) -> Result<Profile> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                Error::config(format!(
                    "unknown mock profile {s:?}; expected one of vsphere, vsphere_nsx, openstack_kvm, openstack_on_vsphere, azure"
                ))
            })
    }

    /// The platform imitated.
    pub fn kind(self) -> ProviderKind {
        match self {
            Profile::Vsphere | Profile::VsphereNsx => ProviderKind::Vsphere,
            Profile::OpenstackKvm | Profile::OpenstackOnVsphere => ProviderKind::Openstack,
            Profile::Azure => ProviderKind::Azure,
        }
    }

    /// The capabilities of this profile.
    pub fn capabilities(self) -> Capabilities {
        profiles::capabilities(self)
    }
}

/// Lifecycle delays on the tokio clock, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Delays {
    /// Server `BUILD` → `ACTIVE`, volume `creating` → `available`, image import.
    pub build_ms: u64,
    /// Power actions, reboot, resize, attach, detach, extend, snapshot.
    pub action_ms: u64,
    /// Deletes.
    pub delete_ms: u64,
    /// Size of the data a URL import produces, in bytes.
    pub import_bytes: u64,
}

impl Default for Delays {
    fn default() -> Self {
        Delays {
            build_ms: 200,
            action_ms: 100,
            delete_ms: 50,
            import_bytes: 4096,
        }
    }
}

impl Delays {
    /// No delay: every transition completes on the next check.
    pub fn instant() -> Self {
        Delays {
            build_ms: 0,
            action_ms: 0,
            delete_ms: 0,
            import_bytes: 4096,
        }
    }
}

/// The mock's configuration (serde, for config files).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MockConfig {
    /// The backend imitated.
    pub profile: Profile,
    /// The provider's name (default: the profile's name).
    pub name: Option<String>,
    /// Region (default: one typical of the profile).
    pub region: Option<String>,
    /// Seed of the fault injector's random numbers.
    pub seed: u64,
    /// Number of `ACTIVE` servers to start with.
    pub servers: usize,
    /// Lifecycle delays.
    pub delays: Delays,
    /// Faults injected from the start.
    pub faults: Vec<Fault>,
    /// A credential, as real providers have one; only used to prove it never leaks.
    /// [`MockProvider::check`](Provider::check) fails with `Unauthenticated` when it is
    /// set and empty. Never serialized.
    #[serde(skip_serializing)]
    pub api_key: Option<SecretString>,
}

/// Builds a [`MockProvider`].
#[derive(Debug, Clone, Default)]
pub struct MockBuilder {
    config: MockConfig,
}

impl MockBuilder {
    /// A builder for the default profile ([`Profile::OpenstackKvm`]).
    pub fn new() -> Self {
        MockBuilder::default()
    }

    /// A builder from a config.
    pub fn from_config(config: MockConfig) -> Self {
        MockBuilder { config }
    }

    /// Imitates `profile`.
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.config.profile = profile;
        self
    }

    /// Names the provider.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.config.name = Some(name.into());
        self
    }

    /// Sets the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.config.region = Some(region.into());
        self
    }

    /// Seeds the fault injector.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Starts with `n` active servers.
    pub fn with_servers(mut self, n: usize) -> Self {
        self.config.servers = n;
        self
    }

    /// Sets the lifecycle delays.
    pub fn with_delays(mut self, delays: Delays) -> Self {
        self.config.delays = delays;
        self
    }

    /// Injects a fault from the start.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.config.faults.push(fault);
        self
    }

    /// Sets the credential (see [`MockConfig::api_key`]).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Builds the mock.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a fault with a probability outside 0–1.
    pub fn build(self) -> Result<MockProvider> {
        MockProvider::from_config(self.config)
    }
}

pub(crate) struct Inner {
    info: ProviderInfo,
    profile: Profile,
    caps: Arc<Capabilities>,
    delays: Delays,
    api_key: Option<SecretString>,
    state: Mutex<State>,
    faults: Mutex<FaultState>,
    counters: Mutex<BTreeMap<&'static str, u64>>,
    total: AtomicU64,
}

/// The in-memory provider. Cheap to clone (one `Arc`); clones share state.
///
/// Use [`MockProvider::into_provider`] (or [`MockProvider::provider`]) to get the gated
/// `Arc<dyn Provider>` callers should use; the mock itself is what the gate wraps.
#[derive(Clone)]
pub struct MockProvider {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MockProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockProvider")
            .field("info", &self.inner.info)
            .field("delays", &self.inner.delays)
            .field(
                "api_key",
                &self.inner.api_key.as_ref().map(|_| "[REDACTED]"),
            )
            .finish_non_exhaustive()
    }
}

impl MockProvider {
    /// A mock of `profile` with default settings.
    pub fn new(profile: Profile) -> Self {
        // A default config has no fault that could be invalid.
        match MockBuilder::new().with_profile(profile).build() {
            Ok(m) => m,
            Err(e) => unreachable!("a default mock config is valid: {e}"),
        }
    }

    /// A builder.
    pub fn builder() -> MockBuilder {
        MockBuilder::new()
    }

    /// A mock from a config.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an invalid fault.
    pub fn from_config(config: MockConfig) -> Result<Self> {
        for f in &config.faults {
            f.validate()?;
        }
        let profile = config.profile;
        let info = ProviderInfo {
            kind: profile.kind(),
            name: config
                .name
                .unwrap_or_else(|| profile.as_str().replace('_', "-")),
            region: Some(
                config
                    .region
                    .unwrap_or_else(|| profiles::default_region(profile).to_owned()),
            ),
            variant: Some(profiles::variant(profile).to_owned()),
            simulated: true,
        };
        let mut state = State::new(profile, info.region.clone().unwrap_or_default());
        state.seed_servers(config.servers);
        Ok(MockProvider {
            inner: Arc::new(Inner {
                info,
                profile,
                caps: Arc::new(profiles::capabilities(profile)),
                delays: config.delays,
                api_key: config.api_key,
                state: Mutex::new(state),
                faults: Mutex::new(FaultState::new(config.seed, config.faults)),
                counters: Mutex::new(BTreeMap::new()),
                total: AtomicU64::new(0),
            }),
        })
    }

    /// The gated provider to hand to callers.
    pub fn provider(&self) -> Arc<dyn Provider> {
        gate(Arc::new(self.clone()))
    }

    /// Consumes the mock into the gated provider.
    pub fn into_provider(self) -> Arc<dyn Provider> {
        gate(Arc::new(self))
    }

    /// The profile imitated.
    pub fn profile(&self) -> Profile {
        self.inner.profile
    }

    /// Injects a fault from now on.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a probability outside 0–1.
    pub fn inject(&self, fault: Fault) -> Result<()> {
        fault.validate()?;
        lock(&self.inner.faults).push(fault);
        Ok(())
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    /// Requests made to operation `op` (for example `create_server`).
    pub fn request_count(&self, op: &str) -> u64 {
        lock(&self.inner.counters).get(op).copied().unwrap_or(0)
    }

    /// Requests made in total.
    pub fn total_requests(&self) -> u64 {
        self.inner.total.load(Ordering::Relaxed)
    }

    /// Requests per operation.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        lock(&self.inner.counters)
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    /// Sets every counter back to zero.
    pub fn reset_counters(&self) {
        lock(&self.inner.counters).clear();
        self.inner.total.store(0, Ordering::Relaxed);
    }

    /// Number of servers held, whatever their state.
    pub fn server_count(&self) -> usize {
        self.state().servers.len()
    }

    /// Counts a request to `op`, then applies the injected faults.
    pub(crate) async fn enter(&self, op: &'static str) -> Result<()> {
        self.inner.total.fetch_add(1, Ordering::Relaxed);
        *lock(&self.inner.counters).entry(op).or_insert(0) += 1;
        let (latency, err) = lock(&self.inner.faults).decide(op);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match err {
            Some(e) => Err(self.context(e, op)),
            None => Ok(()),
        }
    }

    pub(crate) fn context(&self, e: Error, op: &'static str) -> Error {
        let mut e = e
            .with_operation(op)
            .with_provider(self.inner.info.name.clone());
        if let Some(r) = &self.inner.info.region {
            e = e.with_region(r.clone());
        }
        e
    }

    /// The state, with every due transition applied.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        let mut s = lock(&self.inner.state);
        s.advance(tokio::time::Instant::now());
        s
    }

    pub(crate) fn delays(&self) -> Delays {
        self.inner.delays
    }

    pub(crate) fn after(&self, ms: u64) -> tokio::time::Instant {
        tokio::time::Instant::now() + Duration::from_millis(ms)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a mock lock cannot leave the maps half-written in a way
    // that matters to a test double; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Builds an operation that polls `check` until it returns `Some`.
pub(crate) fn poll_until<T, F, Fut>(description: String, resource: String, check: F) -> Operation<T>
where
    T: Send + 'static,
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<crate::operation::PollResult<T>>> + Send + 'static,
{
    Operation::from_fn(description, check).with_resource(resource)
}

#[async_trait]
impl Provider for MockProvider {
    fn info(&self) -> ProviderInfo {
        self.inner.info.clone()
    }

    fn capabilities(&self) -> Arc<Capabilities> {
        self.inner.caps.clone()
    }

    async fn check(&self) -> Result<()> {
        self.enter("check").await?;
        if let Some(k) = &self.inner.api_key {
            if k.expose_secret().is_empty() {
                return Err(self.context(
                    Error::new(
                        ErrorKind::Unauthenticated,
                        "the configured API key is empty",
                    ),
                    "check",
                ));
            }
        }
        Ok(())
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

/// Lists through `paginate` with a clone of the mock.
macro_rules! mock_stream {
    ($self:ident, $opts:ident, $page:ident) => {{
        let me = $self.clone();
        $crate::paging::paginate(move |token| {
            let me = me.clone();
            let opts = $opts.clone();
            async move { me.$page(&opts, token).await }
        })
    }};
}
pub(crate) use mock_stream;

#[cfg(test)]
mod tests;
