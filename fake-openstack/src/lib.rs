//! # hybrid-fake-openstack
//!
//! A stateful, fast, in-process fake of the OpenStack APIs — Keystone v3, Nova
//! (compute v2.1 with microversions), Neutron (v2.0), Cinder (v3 with microversions)
//! and Glance (v2) — on one loopback listener, for hybrid's OpenStack conformance
//! suite, the Python tests, end-to-end benchmarks and reliability tests.
//!
//! Every service sits under a path prefix, and Keystone's catalog points at them:
//!
//! | service | prefix | catalog type |
//! | --- | --- | --- |
//! | Keystone | `/identity` (`/identity/v3` is the auth URL) | `identity` |
//! | Nova | `/compute/v2.1` | `compute` |
//! | Neutron | `/network` (`/network/v2.0/...`) | `network` |
//! | Cinder | `/volume/v3/{project_id}` | `volumev3`, `block-storage` |
//! | Glance | `/image` (`/image/v2/...`) | `image` |
//!
//! A multi-region fake ([`FakeOpenStackBuilder::add_region`]) serves every further
//! region under `/r/{region}` on the same listener (e.g. `/r/vmware/compute/v2.1`), with
//! its own resources, hypervisor type and Neutron extensions; Keystone, tokens,
//! counters, faults and latency are shared, and the catalog lists every region.
//!
//! Paths, JSON shapes, status codes and headers follow the OpenStack API reference;
//! the shapes were checked against real (Zed) responses. Servers, volumes and
//! snapshots live in ordered maps keyed by creation order (newest first, as Nova and
//! Cinder list them), so marker paging costs `O(log n + page)` even with 50 000
//! servers.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use hybrid_fake_openstack::FakeOpenStack;
//!
//! let fake = FakeOpenStack::builder().servers(10_000).start().await?;
//! println!("OS_AUTH_URL={}", fake.auth_url());
//! println!("{}", fake.clouds_yaml("fake"));
//! // ... run a client against it ...
//! assert!(fake.request_count() > 0);
//! fake.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The binary `fake-openstack` serves the same fake until it is killed (see
//! `fake-openstack --help`).
//!
//! ## Deviations from real OpenStack
//!
//! - One project's view: every token sees the same resources (no per-project isolation
//!   or policy); only project-scoped tokens are accepted by the non-Keystone services.
//! - Nova lists only sort newest first (`sort_key`/`sort_dir` are ignored); Neutron
//!   lists only sort by id; Glance supports its sort keys (a full sort per request).
//! - Nova's `name` filter is a case-insensitive regular expression (as with MySQL),
//!   falling back to a substring match if the pattern is not a valid regex.
//! - Glance `web-download` only accepts plain `http://` URIs on the loopback interface
//!   (`127.0.0.0/8`, `[::1]`, `localhost`) and really fetches them; other URIs get the
//!   400 Glance gives for a URI that does not pass its filtering.
//! - Generated key pairs carry random bytes, not real RSA keys.
//! - Block device mappings: only `volume`→`volume` (boot from volume) and
//!   `image`→`local` are honoured.

mod cinder;
mod config;
mod digest;
mod glance;
mod http;
mod keystone;
mod neutron;
mod nova;
mod service;
mod util;
mod world;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use config::{AppCredSpec, Config, FaultSpec, UserSpec};
pub use config::{FlavorSpec, Lifecycle, ML2_EXTENSIONS, VSPHERE_DVS_EXTENSIONS};
use service::{lock, App};

/// Builds and starts a [`FakeOpenStack`]. Get one from [`FakeOpenStack::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct FakeOpenStackBuilder {
    cfg: Config,
    extra_regions: Vec<RegionSpec>,
    users_replaced: bool,
    projects_replaced: bool,
}

/// A further region of a multi-region fake (see [`FakeOpenStackBuilder::add_region`]):
/// its own Nova, Neutron, Cinder and Glance state behind the same Keystone.
#[derive(Debug, Clone)]
#[must_use]
pub struct RegionSpec {
    name: String,
    hypervisor_type: Option<String>,
    neutron_extensions: Option<Vec<String>>,
    servers: usize,
}

impl RegionSpec {
    /// A region called `name` that otherwise copies the first region's settings, with
    /// no pre-created servers.
    pub fn new(name: impl Into<String>) -> Self {
        RegionSpec {
            name: name.into(),
            hypervisor_type: None,
            neutron_extensions: None,
            servers: 0,
        }
    }

    /// What this region's hypervisors report (e.g. `"VMware vCenter Server"` for a
    /// vSphere-backed region).
    pub fn hypervisor_type(mut self, kind: impl Into<String>) -> Self {
        self.hypervisor_type = Some(kind.into());
        self
    }

    /// This region's Neutron extension aliases.
    pub fn neutron_extensions<I, S>(mut self, aliases: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.neutron_extensions = Some(aliases.into_iter().map(Into::into).collect());
        self
    }

    /// Servers created in this region at start.
    pub fn servers(mut self, n: usize) -> Self {
        self.servers = n;
        self
    }
}

impl FakeOpenStackBuilder {
    /// Adds a region. The first region is the one [`Self::region`] names (default
    /// `RegionOne`), served at the root; each added region is served under
    /// `/r/{name}` on the same listener, has its own resources, and shares Keystone
    /// (users, tokens), counters, faults and latency with the others. The catalog
    /// lists every region's endpoints.
    pub fn add_region(mut self, region: RegionSpec) -> Self {
        self.extra_regions.push(region);
        self
    }

    /// TCP port on 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.cfg.port = port;
        self
    }

    /// Region name in the catalog (default `RegionOne`).
    pub fn region(mut self, name: impl Into<String>) -> Self {
        self.cfg.region = name.into();
        self
    }

    /// Highest Nova microversion (default 2.93, as in Zed).
    pub fn nova_max_microversion(mut self, major: u32, minor: u32) -> Self {
        self.cfg.nova_max = (major, minor);
        self
    }

    /// Highest Cinder microversion (default 3.70, as in Zed).
    pub fn cinder_max_microversion(mut self, major: u32, minor: u32) -> Self {
        self.cfg.cinder_max = (major, minor);
        self
    }

    /// `hypervisor_type` reported by `GET /os-hypervisors/detail` (default `QEMU`;
    /// `VMware vCenter Server` for a vSphere-backed region).
    pub fn hypervisor_type(mut self, kind: impl Into<String>) -> Self {
        self.cfg.hypervisor_type = kind.into();
        self
    }

    /// The Neutron extension aliases (default [`ML2_EXTENSIONS`]). Without `router`
    /// the routers and floating IPs APIs answer 404; without `security-group` the
    /// security group APIs do; without `provider` or `external-net` those attributes
    /// are refused and not shown.
    pub fn neutron_extensions<I, S>(mut self, aliases: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cfg.neutron_extensions = aliases.into_iter().map(Into::into).collect();
        self
    }

    /// Neutron's tenant network type, used when a network is created without
    /// `provider:network_type` (default `vxlan`).
    pub fn tenant_network_type(mut self, kind: impl Into<String>) -> Self {
        self.cfg.tenant_network_type = kind.into();
        self
    }

    /// Lifetime of issued tokens (default one hour).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.cfg.token_ttl = ttl;
        self
    }

    /// Pre-seeds `n` ACTIVE servers named `server-00001`… (fast: 50 000 take a few
    /// tens of milliseconds).
    pub fn servers(mut self, n: usize) -> Self {
        self.cfg.servers = n;
        self
    }

    /// Largest page Nova and Cinder return (`osapi_max_limit`, default 1000); also
    /// the page size when no `limit` is given.
    pub fn max_limit(mut self, n: usize) -> Self {
        self.cfg.max_limit = n.max(1);
        self
    }

    /// Latency added to every request (default none).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.cfg.latency = latency;
        self
    }

    /// How long BUILD lasts for new servers.
    pub fn server_build(mut self, l: Lifecycle) -> Self {
        self.cfg.server_build = l;
        self
    }

    /// How long server actions (start, stop, reboot, resize, revert) take.
    pub fn server_action(mut self, l: Lifecycle) -> Self {
        self.cfg.server_action = l;
        self
    }

    /// How long a deleted server stays listed (task_state `deleting`) before 404.
    pub fn server_delete(mut self, l: Lifecycle) -> Self {
        self.cfg.server_delete = l;
        self
    }

    /// How long Cinder's transitional states (creating, deleting, extending,
    /// attaching, detaching, snapshot creating/deleting) and Glance's
    /// `glance-direct` import last.
    pub fn volume_lifecycle(mut self, l: Lifecycle) -> Self {
        self.cfg.volume = l;
        self
    }

    /// Sets every lifecycle at once.
    pub fn lifecycle(self, l: Lifecycle) -> Self {
        self.server_build(l)
            .server_action(l)
            .server_delete(l)
            .volume_lifecycle(l)
    }

    /// Scripts a fault: the next `times` requests whose method is `method` (`"*"` for
    /// any) and whose path starts with `path_prefix` (e.g. `/compute/v2.1/servers`)
    /// get `status` with the service's error body, and a `Retry-After` header in
    /// seconds when `retry_after` is set. Faults are checked before authentication.
    pub fn fail_next(
        mut self,
        method: &str,
        path_prefix: &str,
        status: u16,
        times: u32,
        retry_after: Option<Duration>,
    ) -> Self {
        self.cfg
            .faults
            .push(fault(method, path_prefix, Some(status), times, retry_after));
        self
    }

    /// Adds a Keystone user in domain `Default` with a role on every project. The
    /// first call replaces the default user `admin` / `secret`.
    pub fn user(self, name: impl Into<String>, password: impl Into<String>) -> Self {
        self.user_in_domain("Default", name, password)
    }

    /// Adds a Keystone user in the named domain (see [`Self::user`]).
    pub fn user_in_domain(
        mut self,
        domain: impl Into<String>,
        name: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        if !self.users_replaced {
            self.cfg.users.clear();
            self.users_replaced = true;
        }
        self.cfg.users.push(UserSpec {
            name: name.into(),
            domain: domain.into(),
            password: password.into(),
        });
        self
    }

    /// Adds a project in domain `Default`. The first call replaces the default
    /// project `admin`; the first project is the one resources belong to and the one
    /// application credentials are scoped to.
    pub fn project(mut self, name: impl Into<String>) -> Self {
        if !self.projects_replaced {
            self.cfg.projects.clear();
            self.projects_replaced = true;
        }
        self.cfg.projects.push(name.into());
        self
    }

    /// Adds an application credential of user `user` (by name), scoped to the first
    /// project.
    pub fn application_credential(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        secret: impl Into<String>,
        user: impl Into<String>,
    ) -> Self {
        self.cfg.app_creds.push(AppCredSpec {
            id: id.into(),
            name: name.into(),
            secret: secret.into(),
            user: user.into(),
        });
        self
    }

    /// Replaces the flavors (default [`FlavorSpec::defaults`]).
    pub fn flavors(mut self, flavors: Vec<FlavorSpec>) -> Self {
        self.cfg.flavors = flavors;
        self
    }

    /// Binds 127.0.0.1 and starts serving.
    ///
    /// # Errors
    /// The listener could not be bound.
    pub async fn start(self) -> std::io::Result<FakeOpenStack> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], self.cfg.port)))
                .await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let mut configs = vec![(self.cfg.clone(), base.clone())];
        for r in &self.extra_regions {
            let mut cfg = self.cfg.clone();
            cfg.region = r.name.clone();
            if let Some(h) = &r.hypervisor_type {
                cfg.hypervisor_type = h.clone();
            }
            if let Some(e) = &r.neutron_extensions {
                cfg.neutron_extensions = e.clone();
            }
            cfg.servers = r.servers;
            configs.push((cfg, format!("{base}/r/{}", r.name)));
        }
        let regions = configs
            .iter()
            .map(|(c, b)| (c.region.clone(), b.clone()))
            .collect();
        let shared = service::Shared {
            keystone: Arc::new(keystone::Keystone::new(&self.cfg, &base, regions)),
            counters: Arc::default(),
            faults: Arc::new(std::sync::Mutex::new(self.cfg.faults.clone())),
            latency_ms: Arc::new(std::sync::atomic::AtomicU64::new(
                self.cfg.latency.as_millis() as u64,
            )),
        };
        let apps: Arc<Vec<Arc<App>>> = Arc::new(
            configs
                .into_iter()
                .map(|(cfg, b)| Arc::new(App::new(cfg, b, shared.clone())))
                .collect(),
        );
        let app = apps[0].clone();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let app2 = apps.clone();
        let task = tokio::spawn(async move {
            let mut stop = rx.clone();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(service::serve_connection(app2.clone(), stream, rx.clone()));
                    }
                    _ = stop.changed() => break,
                }
            }
        });
        Ok(FakeOpenStack {
            app,
            apps,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

fn fault(
    method: &str,
    path_prefix: &str,
    status: Option<u16>,
    times: u32,
    retry_after: Option<Duration>,
) -> FaultSpec {
    FaultSpec {
        method: (method != "*" && !method.is_empty()).then(|| method.to_ascii_uppercase()),
        path_prefix: path_prefix.to_owned(),
        status,
        times,
        retry_after,
        retry_after_date: false,
        body: None,
        mid_body: None,
    }
}

/// A running fake. Shuts down when dropped (or with [`FakeOpenStack::shutdown`]).
#[derive(Debug)]
pub struct FakeOpenStack {
    app: Arc<App>,
    apps: Arc<Vec<Arc<App>>>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeOpenStack {
    /// A builder with the defaults: user `admin` / `secret` in domain `Default`,
    /// project `admin`, region `RegionOne`, Nova up to 2.93, Cinder up to 3.70,
    /// hypervisor `QEMU`, the ML2 extensions, one-hour tokens, fast lifecycles.
    pub fn builder() -> FakeOpenStackBuilder {
        FakeOpenStackBuilder {
            cfg: Config::default(),
            extra_regions: Vec::new(),
            users_replaced: false,
            projects_replaced: false,
        }
    }

    /// Starts a fake with the defaults.
    ///
    /// # Errors
    /// The listener could not be bound.
    pub async fn start() -> std::io::Result<FakeOpenStack> {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.app.base.clone()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Keystone's v3 URL, `http://127.0.0.1:<port>/identity/v3`.
    pub fn auth_url(&self) -> String {
        format!("{}/identity/v3", self.app.base)
    }

    /// The id of the first project (the one resources belong to).
    pub fn project_id(&self) -> String {
        self.app.world().project_id.clone()
    }

    /// The first region's name.
    pub fn region(&self) -> &str {
        &self.app.cfg.region
    }

    /// Every region's name, the first one first.
    pub fn regions(&self) -> Vec<String> {
        self.apps.iter().map(|a| a.cfg.region.clone()).collect()
    }

    /// Servers currently stored in `region`, or `None` for an unknown region.
    pub fn server_count_in(&self, region: &str) -> Option<usize> {
        self.apps
            .iter()
            .find(|a| a.cfg.region == region)
            .map(|a| nova::server_count(&a.world()))
    }

    /// A `clouds.yaml` document with one cloud, `cloud_name`, for the first user and
    /// project (password authentication). A multi-region fake also gets a `regions:`
    /// list naming every region.
    pub fn clouds_yaml(&self, cloud_name: &str) -> String {
        let cfg = &self.app.cfg;
        let user = cfg.users.first();
        let mut regions = String::new();
        if self.apps.len() > 1 {
            regions.push_str("    regions:\n");
            for a in self.apps.iter() {
                regions.push_str(&format!("      - {}\n", a.cfg.region));
            }
        }
        format!(
            "clouds:\n  {cloud_name}:\n    auth:\n      auth_url: {auth}\n      username: {u}\n      password: {p}\n      project_name: {proj}\n      user_domain_name: {d}\n      project_domain_name: Default\n    region_name: {region}\n{regions}    identity_api_version: 3\n    interface: public\n",
            auth = self.auth_url(),
            u = user.map(|u| u.name.as_str()).unwrap_or("admin"),
            p = user.map(|u| u.password.as_str()).unwrap_or("secret"),
            d = user.map(|u| u.domain.as_str()).unwrap_or("Default"),
            proj = cfg.projects.first().map(String::as_str).unwrap_or("admin"),
            region = cfg.region,
        )
    }

    /// Total requests served (including failed and faulted ones).
    pub fn request_count(&self) -> u64 {
        self.app.counters.total.load(Ordering::Relaxed)
    }

    /// `POST /identity/v3/auth/tokens` requests served.
    pub fn token_requests(&self) -> u64 {
        self.app.counters.tokens.load(Ordering::Relaxed)
    }

    /// Requests per method and route template, e.g.
    /// `"GET /compute/v2.1/servers/detail"` or `"DELETE /compute/v2.1/servers/{id}"`
    /// (every path segment that is not a fixed word of the APIs becomes `{id}`).
    pub fn route_counts(&self) -> BTreeMap<String, u64> {
        service::route_counts(&self.app)
    }

    /// Requests for one method and route template (see [`Self::route_counts`]).
    pub fn route_count(&self, method: &str, template: &str) -> u64 {
        let key = format!("{} {template}", method.to_ascii_uppercase());
        lock(&self.app.counters.routes)
            .get(&key)
            .copied()
            .unwrap_or(0)
    }

    /// Resets all request counters.
    pub fn reset_counters(&self) {
        self.app.counters.total.store(0, Ordering::Relaxed);
        self.app.counters.tokens.store(0, Ordering::Relaxed);
        lock(&self.app.counters.routes).clear();
    }

    /// Every token Keystone issued so far (the first 10 000), including revoked and
    /// expired ones — for tests that check no token ever reaches a log or an error.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.app.keystone.issued()
    }

    /// Revokes every issued token: the next request with one gets 401, which forces
    /// clients to authenticate again.
    pub fn revoke_tokens(&self) {
        self.app.keystone.revoke_all();
    }

    /// Scripts a fault on the running fake (see [`FakeOpenStackBuilder::fail_next`]).
    pub fn fail_next(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        times: u32,
        retry_after: Option<Duration>,
    ) {
        lock(&self.app.faults).push(fault(method, path_prefix, Some(status), times, retry_after));
    }

    /// The next `times` matching requests get their connection closed without an
    /// answer (a transport error for the client).
    pub fn drop_next(&self, method: &str, path_prefix: &str, times: u32) {
        lock(&self.app.faults).push(fault(method, path_prefix, None, times, None));
    }

    /// As [`Self::fail_next`], with `Retry-After` sent as an HTTP date `after` from now
    /// (RFC 9110 `IMF-fixdate`, whole seconds) instead of delay-seconds.
    pub fn fail_next_retry_at(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        times: u32,
        after: Duration,
    ) {
        let mut f = fault(method, path_prefix, Some(status), times, Some(after));
        f.retry_after_date = true;
        lock(&self.app.faults).push(f);
    }

    /// The next `times` matching requests get `status` with exactly `body` (as
    /// `application/json`) — for malformed, truncated or unexpected answers. Like every
    /// fault it is served before authentication, so it stands in for the real answer.
    pub fn respond_next(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        body: impl Into<bytes::Bytes>,
        times: u32,
    ) {
        let mut f = fault(method, path_prefix, Some(status), times, None);
        f.body = Some(body.into());
        lock(&self.app.faults).push(f);
    }

    /// The next `times` matching requests are served for real, but the connection is
    /// reset after half of the body (the declared `Content-Length` is never reached).
    pub fn reset_mid_body_next(&self, method: &str, path_prefix: &str, times: u32) {
        let mut f = fault(method, path_prefix, Some(200), times, None);
        f.mid_body = Some(http::MidBody::Reset);
        lock(&self.app.faults).push(f);
    }

    /// The next `times` matching requests are served for real, but after half of the
    /// body nothing more is sent for `stall`, then the rest.
    pub fn stall_mid_body_next(
        &self,
        method: &str,
        path_prefix: &str,
        stall: Duration,
        times: u32,
    ) {
        let mut f = fault(method, path_prefix, Some(200), times, None);
        f.mid_body = Some(http::MidBody::Stall(stall));
        lock(&self.app.faults).push(f);
    }

    /// Removes every scripted fault that has not fired yet.
    pub fn clear_faults(&self) {
        lock(&self.app.faults).clear();
    }

    /// The next `n` servers created end in ERROR with a "No valid host" fault.
    pub fn fail_next_builds(&self, n: u32) {
        self.app.world().nova.fail_builds += n;
    }

    /// Changes the latency added to every request.
    pub fn set_latency(&self, latency: Duration) {
        self.app
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::Relaxed);
    }

    /// Servers currently stored, including ones still being deleted.
    pub fn server_count(&self) -> usize {
        nova::server_count(&self.app.world())
    }

    /// Stops accepting connections and closes open ones after their current request.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeOpenStack {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
