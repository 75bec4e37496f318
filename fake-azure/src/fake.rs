//! The builder and the handle of a running fake.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{
    ClientSpec, Config, FaultAction, FaultSpec, LroEnd, Mangle, RateLimits, RetryAfter, VmSize,
};
use crate::ids::key;
use crate::service::{self, lock, App};

/// Builds and starts a [`FakeAzure`]. Get one from [`FakeAzure::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct FakeAzureBuilder {
    cfg: Config,
    clients_replaced: bool,
    groups_replaced: bool,
}

impl FakeAzureBuilder {
    /// TCP port on 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.cfg.port = port;
        self
    }

    /// The directory (tenant) id Entra accepts in token URLs.
    pub fn tenant(mut self, id: impl Into<String>) -> Self {
        self.cfg.tenant = id.into();
        self
    }

    /// The subscription id ARM serves (every other one is `SubscriptionNotFound`).
    pub fn subscription(mut self, id: impl Into<String>) -> Self {
        self.cfg.subscription = id.into();
        self
    }

    /// Adds a service principal (application) Entra issues tokens to, with its client
    /// secret. The first call replaces the default client.
    pub fn client(mut self, client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        if !self.clients_replaced {
            self.cfg.clients.clear();
            self.clients_replaced = true;
        }
        self.cfg.clients.push(ClientSpec {
            id: client_id.into(),
            secret: secret.into(),
        });
        self
    }

    /// Trusts federated tokens (workload identity) with this issuer and subject for
    /// every configured client: a `client_assertion` whose `iss` and `sub` claims are
    /// these is accepted.
    pub fn federated_credential(
        mut self,
        issuer: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        self.cfg
            .federated_subjects
            .push((issuer.into(), subject.into()));
        self
    }

    /// The client id of the managed identity IMDS issues tokens for.
    pub fn managed_identity(mut self, client_id: impl Into<String>) -> Self {
        self.cfg.managed_identity = client_id.into();
        self
    }

    /// Adds a pre-created resource group. The first call replaces the default
    /// `hybrid-rg`; the first group holds the seeded resources and the pre-populated
    /// VMs.
    pub fn resource_group(mut self, name: impl Into<String>) -> Self {
        if !self.groups_replaced {
            self.cfg.resource_groups.clear();
            self.groups_replaced = true;
        }
        self.cfg.resource_groups.push(name.into());
        self
    }

    /// The default location (default `westeurope`; `West Europe` is normalised).
    pub fn location(mut self, name: impl Into<String>) -> Self {
        self.cfg.location = name.into();
        self
    }

    /// Another location resources may be created in (others are refused with
    /// `LocationNotAvailableForResourceType`).
    pub fn extra_location(mut self, name: impl Into<String>) -> Self {
        self.cfg.extra_locations.push(name.into());
        self
    }

    /// Pre-populates `n` running VMs `vm-00001`… in the first resource group, each
    /// with a NIC in the seeded subnet and an OS disk. Cheap: 50 000 take well under a
    /// second.
    pub fn servers(mut self, n: usize) -> Self {
        self.cfg.servers = n;
        self
    }

    /// Items per list page before a `nextLink` (default 1000).
    pub fn page_size(mut self, n: usize) -> Self {
        self.cfg.page_size = n.max(1);
        self
    }

    /// Latency added to every request (default none).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.cfg.latency = latency;
        self
    }

    /// Observations that still see a long-running operation in progress before it
    /// completes (default 1; 0 completes at the first observation). Polling the
    /// status URL, the `Location` URL, or reading the resource each count.
    pub fn lro_polls(mut self, n: u32) -> Self {
        self.cfg.lro_polls = n;
        self
    }

    /// The `Retry-After` seconds sent with long-running operations (default 0).
    pub fn lro_retry_after(mut self, secs: u64) -> Self {
        self.cfg.lro_retry_after = secs;
        self
    }

    /// Lifetime of issued access tokens (default 3599 s, as Entra's `expires_in`).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.cfg.token_ttl = ttl;
        self
    }

    /// The throttling buckets (default [`RateLimits::default`]; ARM's own are
    /// [`RateLimits::arm`]).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.cfg.rate_limits = limits;
        self
    }

    /// Replaces the VM sizes (default [`VmSize::defaults`]); the first is the size of
    /// pre-populated VMs.
    pub fn vm_sizes(mut self, sizes: Vec<VmSize>) -> Self {
        self.cfg.vm_sizes = sizes;
        self
    }

    /// Scripts a fault from the start (see [`FakeAzure::fail_next`]).
    pub fn fail_next(mut self, method: &str, path_prefix: &str, status: u16, times: u32) -> Self {
        self.cfg.faults.push(FaultSpec::new(
            method,
            path_prefix,
            FaultAction::Status(status, default_retry(status)),
            times,
        ));
        self
    }

    /// Binds 127.0.0.1 and starts serving.
    ///
    /// # Errors
    /// The listener could not be bound.
    pub async fn start(mut self) -> std::io::Result<FakeAzure> {
        self.cfg.location = crate::world::normalize_location(&self.cfg.location);
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], self.cfg.port)))
                .await?;
        let addr = listener.local_addr()?;
        let app = Arc::new(App::new(self.cfg, addr));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let app2 = app.clone();
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
        Ok(FakeAzure {
            app,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

fn default_retry(status: u16) -> RetryAfter {
    if status == 429 {
        RetryAfter::Seconds(0)
    } else {
        RetryAfter::None
    }
}

/// A running fake of Entra ID, IMDS and ARM on one loopback port. Shuts down when
/// dropped (or with [`FakeAzure::shutdown`]).
#[derive(Debug)]
pub struct FakeAzure {
    app: Arc<App>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeAzure {
    /// A builder with the defaults: one tenant, subscription and client (see the
    /// accessors), resource group `hybrid-rg` in `westeurope`, no pre-populated VMs,
    /// pages of 1000, one in-progress poll per operation, one-hour tokens, generous
    /// throttling buckets.
    pub fn builder() -> FakeAzureBuilder {
        FakeAzureBuilder {
            cfg: Config::default(),
            clients_replaced: false,
            groups_replaced: false,
        }
    }

    /// Starts a fake with the defaults.
    ///
    /// # Errors
    /// The listener could not be bound.
    pub async fn start() -> std::io::Result<FakeAzure> {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:<port>`: the authority host, the ARM endpoint and the IMDS
    /// endpoint at once.
    pub fn url(&self) -> String {
        self.app.base.clone()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The tenant id.
    pub fn tenant_id(&self) -> &str {
        &self.app.cfg.tenant
    }

    /// The subscription id.
    pub fn subscription_id(&self) -> &str {
        &self.app.cfg.subscription
    }

    /// The first client (application) id.
    pub fn client_id(&self) -> &str {
        self.app
            .cfg
            .clients
            .first()
            .map(|c| c.id.as_str())
            .unwrap_or("")
    }

    /// The first client's secret (a test secret).
    pub fn client_secret(&self) -> &str {
        self.app
            .cfg
            .clients
            .first()
            .map(|c| c.secret.as_str())
            .unwrap_or("")
    }

    /// The managed identity's client id (IMDS tokens).
    pub fn managed_identity_client_id(&self) -> &str {
        &self.app.cfg.managed_identity
    }

    /// The v2.0 token endpoint, `<url>/<tenant>/oauth2/v2.0/token`.
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.app.base, self.app.cfg.tenant
        )
    }

    /// The first (seeded) resource group.
    pub fn resource_group(&self) -> &str {
        self.app
            .cfg
            .resource_groups
            .first()
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The default location, normalised (`westeurope`).
    pub fn location(&self) -> &str {
        &self.app.cfg.location
    }

    /// `AZURE_*` settings for a client of this fake: tenant, client id and secret,
    /// subscription, authority host, and `AZURE_RESOURCE_MANAGER_ENDPOINT` (the ARM
    /// endpoint; the name is this fake's convention).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        vec![
            ("AZURE_TENANT_ID".into(), self.tenant_id().into()),
            ("AZURE_CLIENT_ID".into(), self.client_id().into()),
            ("AZURE_CLIENT_SECRET".into(), self.client_secret().into()),
            (
                "AZURE_SUBSCRIPTION_ID".into(),
                self.subscription_id().into(),
            ),
            ("AZURE_AUTHORITY_HOST".into(), self.url()),
            ("AZURE_RESOURCE_MANAGER_ENDPOINT".into(), self.url()),
        ]
    }

    /// Total requests served (including failed and faulted ones).
    pub fn request_count(&self) -> u64 {
        self.app.counters.total.load(Ordering::Relaxed)
    }

    /// Token requests served: `POST /{tenant}/oauth2/v2.0/token`,
    /// `POST /{tenant}/oauth2/token` and IMDS `GET /metadata/identity/oauth2/token`,
    /// including refused and faulted ones.
    pub fn token_requests(&self) -> u64 {
        self.app.counters.tokens.load(Ordering::Relaxed)
    }

    /// Requests per method and route template, e.g.
    /// `"GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines"`
    /// or `"GET /subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/operations/{operationId}"`.
    /// Fixed words take their canonical spelling whatever the request's case; values
    /// become `{subscriptionId}`, `{resourceGroupName}`, `{location}`,
    /// `{operationId}`, `{tenantId}` or `{name}`.
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

    /// Every access token Entra and IMDS issued so far (test secrets), for checking
    /// that a client never shows them in logs, errors or `Debug` output.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.app.tokens().issued()
    }

    /// Every issued token expires now: ARM answers 401 `ExpiredAuthenticationToken`
    /// with a `WWW-Authenticate: Bearer ...` challenge until the client gets a new one.
    pub fn revoke_tokens(&self) {
        self.app.tokens().revoke_all();
    }

    fn push_fault(&self, method: &str, path_prefix: &str, action: FaultAction, times: u32) {
        lock(&self.app.faults).push(FaultSpec::new(method, path_prefix, action, times));
    }

    /// The next `times` requests whose method is `method` (`"*"` for any) and whose
    /// path starts with `path_prefix` (case-insensitively, e.g.
    /// `/subscriptions/<id>/resourceGroups/hybrid-rg/providers/Microsoft.Compute/virtualMachines`)
    /// get `status` with an ARM error body (`{"error": {"code", "message"}}`, the code
    /// following the status: `TooManyRequests`, `ServiceUnavailable`, …) or, on the
    /// token endpoints, an Entra error body. A 429 carries `Retry-After: 0`; a 401 a
    /// `WWW-Authenticate` challenge. The request is not processed. Faults are checked
    /// before authentication.
    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16, times: u32) {
        self.push_fault(
            method,
            path_prefix,
            FaultAction::Status(status, default_retry(status)),
            times,
        );
    }

    /// Like [`Self::fail_next`], with an explicit retry hint (`Retry-After` in seconds
    /// or as an HTTP date, or `x-ms-retry-after-ms`).
    pub fn fail_next_with(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        times: u32,
        retry_after: RetryAfter,
    ) {
        self.push_fault(
            method,
            path_prefix,
            FaultAction::Status(status, retry_after),
            times,
        );
    }

    /// The next `times` matching requests (see [`Self::fail_next`]) get `status` with
    /// exactly `body` as `application/json` (for example truncated, malformed, empty or
    /// mistyped JSON, or a document with values from a newer API version). The request
    /// is not processed. Faults are checked before authentication.
    pub fn respond_next(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        body: impl Into<Vec<u8>>,
        times: u32,
    ) {
        self.push_fault(
            method,
            path_prefix,
            FaultAction::Respond(status, bytes::Bytes::from(body.into())),
            times,
        );
    }

    /// The next `times` matching requests get their connection closed without an
    /// answer (a transport error for the client). The request is not processed.
    pub fn drop_next(&self, method: &str, path_prefix: &str, times: u32) {
        self.push_fault(method, path_prefix, FaultAction::Drop, times);
    }

    /// The next `times` matching requests are processed, then answered only after
    /// `delay` (a slow service).
    pub fn stall_next(&self, method: &str, path_prefix: &str, delay: Duration, times: u32) {
        self.push_fault(method, path_prefix, FaultAction::Stall(delay), times);
    }

    /// The next `times` matching requests are processed, then their response is
    /// damaged as `mangle` says (truncated, malformed, stalled mid-body, oversized).
    pub fn mangle_next(&self, method: &str, path_prefix: &str, mangle: Mangle, times: u32) {
        self.push_fault(method, path_prefix, FaultAction::Mangle(mangle), times);
    }

    /// Removes every scripted fault that has not fired yet.
    pub fn clear_faults(&self) {
        lock(&self.app.faults).clear();
    }

    /// The next `times` long-running operations started (any kind) end as `end`
    /// says: the status document says `Failed` (VM creation: `AllocationFailed`;
    /// others: `InternalOperationError`) or `Canceled` (`OperationCanceled`), the
    /// `Location` URL answers 400 or 409 with that error, and the resource's
    /// `provisioningState` becomes `Failed` or `Canceled` (a failed deletion keeps the
    /// resource).
    pub fn lro_fail_next(&self, end: LroEnd, times: u32) {
        let mut w = self.app.world();
        for _ in 0..times {
            w.lro_fail.push_back(end);
        }
    }

    /// Changes how many observations see new operations in progress (see
    /// [`FakeAzureBuilder::lro_polls`]).
    pub fn set_lro_polls(&self, n: u32) {
        self.app.world().lro_polls = n;
    }

    /// Changes the latency added to every request.
    pub fn set_latency(&self, latency: Duration) {
        self.app
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::Relaxed);
    }

    /// Sets the tokens left in the read bucket (`x-ms-ratelimit-remaining-subscription-reads`);
    /// at 0 reads are throttled (429 `SubscriptionRequestsThrottled`) until it refills.
    pub fn set_remaining_reads(&self, n: u32) {
        lock(&self.app.buckets)[0].set_remaining(n);
    }

    /// Sets the tokens left in the write bucket (PUT, PATCH, POST).
    pub fn set_remaining_writes(&self, n: u32) {
        lock(&self.app.buckets)[1].set_remaining(n);
    }

    /// Sets the tokens left in the delete bucket.
    pub fn set_remaining_deletes(&self, n: u32) {
        lock(&self.app.buckets)[2].set_remaining(n);
    }

    /// VMs currently stored (including ones being deleted).
    pub fn vm_count(&self) -> usize {
        self.app.world().vms.len()
    }

    /// The `osProfile.customData` a VM was created with (base64, as sent; ARM never
    /// returns it), if the VM exists and had some.
    pub fn vm_custom_data(&self, resource_group: &str, vm: &str) -> Option<String> {
        self.app
            .world()
            .vms
            .get(&key(resource_group, vm))
            .and_then(|v| v.custom_data.clone())
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

impl Drop for FakeAzure {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
