//! Concurrent, streaming inventory of every environment, each within its deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::ready;
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};

use crate::capabilities::{Feature, Reason};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Image, Network, Server, Volume};
use crate::paging::ListOptions;
use crate::provider::{Provider, ProviderInfo};

use super::{text, Environment, Fleet};

/// The kinds of resource an inventory lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// Servers ([`Feature::Servers`]).
    Servers,
    /// Networks ([`Feature::Networks`]).
    Networks,
    /// Volumes ([`Feature::Volumes`]).
    Volumes,
    /// Images ([`Feature::Images`]).
    Images,
}

impl ResourceKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ResourceKind; 4] = [
        ResourceKind::Servers,
        ResourceKind::Networks,
        ResourceKind::Volumes,
        ResourceKind::Images,
    ];

    /// The capability listing this kind needs.
    pub fn feature(self) -> Feature {
        match self {
            ResourceKind::Servers => Feature::Servers,
            ResourceKind::Networks => Feature::Networks,
            ResourceKind::Volumes => Feature::Volumes,
            ResourceKind::Images => Feature::Images,
        }
    }

    /// The singular noun: `server`, `network`, `volume`, `image`.
    pub fn noun(self) -> &'static str {
        match self {
            ResourceKind::Servers => "server",
            ResourceKind::Networks => "network",
            ResourceKind::Volumes => "volume",
            ResourceKind::Images => "image",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ResourceKind::Servers => "servers",
            ResourceKind::Networks => "networks",
            ResourceKind::Volumes => "volumes",
            ResourceKind::Images => "images",
        })
    }
}

/// One listed resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// A server.
    Server(Server),
    /// A network.
    Network(Network),
    /// A volume.
    Volume(Volume),
    /// An image.
    Image(Image),
}

impl Resource {
    /// Its kind.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Resource::Server(_) => ResourceKind::Servers,
            Resource::Network(_) => ResourceKind::Networks,
            Resource::Volume(_) => ResourceKind::Volumes,
            Resource::Image(_) => ResourceKind::Images,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Resource::Server(s) => &s.name,
            Resource::Network(n) => &n.name,
            Resource::Volume(v) => &v.name,
            Resource::Image(i) => &i.name,
        }
    }
}

/// How many resources of each kind were listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceCounts {
    /// Servers.
    pub servers: u64,
    /// Networks.
    pub networks: u64,
    /// Volumes.
    pub volumes: u64,
    /// Images.
    pub images: u64,
}

impl ResourceCounts {
    /// The count of `kind`.
    pub fn get(&self, kind: ResourceKind) -> u64 {
        match kind {
            ResourceKind::Servers => self.servers,
            ResourceKind::Networks => self.networks,
            ResourceKind::Volumes => self.volumes,
            ResourceKind::Images => self.images,
        }
    }

    fn bump(&mut self, kind: ResourceKind) {
        match kind {
            ResourceKind::Servers => self.servers += 1,
            ResourceKind::Networks => self.networks += 1,
            ResourceKind::Volumes => self.volumes += 1,
            ResourceKind::Images => self.images += 1,
        }
    }

    /// The sum over every kind.
    pub fn total(&self) -> u64 {
        self.servers + self.networks + self.volumes + self.images
    }
}

/// What to list.
#[derive(Debug, Clone)]
pub struct InventoryOptions {
    /// The kinds to list (default: all four).
    pub kinds: Vec<ResourceKind>,
    /// A deadline for every environment, replacing their own and the fleet's.
    pub deadline: Option<Duration>,
    /// Only these environments (default: all).
    pub environments: Vec<String>,
    /// Filters and page size for every listing.
    pub list: ListOptions,
}

impl Default for InventoryOptions {
    fn default() -> Self {
        InventoryOptions {
            kinds: ResourceKind::ALL.to_vec(),
            deadline: None,
            environments: Vec::new(),
            list: ListOptions::new(),
        }
    }
}

impl InventoryOptions {
    /// Everything, in every environment, within each environment's deadline.
    pub fn new() -> Self {
        InventoryOptions::default()
    }

    /// Lists only `kinds`.
    pub fn with_kinds(mut self, kinds: impl IntoIterator<Item = ResourceKind>) -> Self {
        self.kinds = kinds.into_iter().collect();
        self
    }

    /// Gives every environment `deadline`.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Lists only environment `name` (call again to add more).
    pub fn with_environment(mut self, name: impl Into<String>) -> Self {
        self.environments.push(name.into());
        self
    }

    /// Uses `list` for every listing.
    pub fn with_list_options(mut self, list: ListOptions) -> Self {
        self.list = list;
        self
    }
}

/// How one environment's inventory ended.
#[derive(Debug)]
pub struct EnvironmentReport {
    /// The environment.
    pub environment: String,
    /// The provider, when it could be opened.
    pub info: Option<ProviderInfo>,
    /// What was listed (and streamed) before the end.
    pub counts: ResourceCounts,
    /// Kinds listed in full, in [`ResourceKind::ALL`] order.
    pub complete: Vec<ResourceKind>,
    /// Kinds cut short by an error or the deadline, or never listed because the
    /// environment could not be opened.
    pub incomplete: Vec<ResourceKind>,
    /// Kinds not listed because the environment cannot, with the reason.
    pub skipped: Vec<(ResourceKind, Reason)>,
    /// What went wrong: an open failure, a list error per failed kind, or a
    /// [`ErrorKind::Timeout`] when the deadline passed. Each names the environment.
    pub errors: Vec<Error>,
    /// Whether the deadline passed before the listing ended.
    pub timed_out: bool,
    /// The deadline it had.
    pub deadline: Duration,
    /// From the first poll of the inventory to the end of this environment's listing.
    pub elapsed: Duration,
}

impl EnvironmentReport {
    /// Whether every requested kind was listed in full (skipped kinds aside).
    pub fn is_complete(&self) -> bool {
        self.errors.is_empty() && self.incomplete.is_empty()
    }

    /// One line: the environment, `complete`, `partial` or `failed`, the counts, the
    /// skipped kinds with their reasons, the kinds not listed in full, and the errors.
    ///
    /// For example `azure-public: partial — 12 servers, 1 network, 0 volumes, 2
    /// images; not listed in full: volumes; inventory on azure-public failed: timeout:
    /// did not finish within 800ms`.
    pub fn summary(&self) -> String {
        let status = if self.is_complete() {
            "complete"
        } else if self.info.is_some() && (self.counts.total() > 0 || !self.complete.is_empty()) {
            "partial"
        } else {
            "failed"
        };
        let mut s = format!("{}: {status}", self.environment);
        let listed: Vec<String> = self
            .complete
            .iter()
            .chain(&self.incomplete)
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|k| text::count(self.counts.get(k) as usize, k.noun()))
            .collect();
        if self.info.is_some() && !listed.is_empty() {
            s.push_str(" — ");
            s.push_str(&listed.join(", "));
        }
        for (kind, reason) in &self.skipped {
            s.push_str(&format!("; {kind} skipped: {}", reason.message));
        }
        if self.info.is_some() && !self.incomplete.is_empty() {
            let names: Vec<String> = self.incomplete.iter().map(|k| k.to_string()).collect();
            s.push_str(&format!("; not listed in full: {}", names.join(", ")));
        }
        for e in &self.errors {
            s.push_str(&format!("; {e}"));
        }
        s
    }
}

impl fmt::Display for EnvironmentReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// One event of a fleet inventory. Events of different environments interleave;
/// each environment's end with a [`InventoryEvent::Finished`].
#[derive(Debug)]
pub enum InventoryEvent {
    /// The environment was opened.
    Opened {
        /// The environment.
        environment: Arc<str>,
        /// Its provider.
        info: ProviderInfo,
    },
    /// One resource.
    Item {
        /// The environment.
        environment: Arc<str>,
        /// The resource.
        resource: Resource,
    },
    /// The environment's listing ended: complete, partial or failed.
    Finished(EnvironmentReport),
}

impl InventoryEvent {
    /// The environment the event is about.
    pub fn environment(&self) -> &str {
        match self {
            InventoryEvent::Opened { environment, .. }
            | InventoryEvent::Item { environment, .. } => environment,
            InventoryEvent::Finished(r) => &r.environment,
        }
    }
}

/// The stream [`Fleet::inventory`] returns.
pub type InventoryStream = BoxStream<'static, InventoryEvent>;

struct State {
    environment: String,
    info: Option<ProviderInfo>,
    kinds: Vec<ResourceKind>,
    counts: ResourceCounts,
    complete: Vec<ResourceKind>,
    failed: Vec<ResourceKind>,
    skipped: Vec<(ResourceKind, Reason)>,
    errors: Vec<Error>,
    deadline: Duration,
    started: Option<tokio::time::Instant>,
    finished: bool,
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    /// The report, once; `None` after the first call.
    fn finish(&mut self, timed_out: bool) -> Option<EnvironmentReport> {
        if self.finished {
            return None;
        }
        self.finished = true;
        let incomplete = self
            .kinds
            .iter()
            .copied()
            .filter(|k| !self.complete.contains(k) && !self.skipped.iter().any(|(s, _)| s == k))
            .collect();
        let mut complete = self.complete.clone();
        complete.sort();
        Some(EnvironmentReport {
            environment: self.environment.clone(),
            info: self.info.clone(),
            counts: self.counts,
            complete,
            incomplete,
            skipped: std::mem::take(&mut self.skipped),
            errors: std::mem::take(&mut self.errors),
            timed_out,
            deadline: self.deadline,
            elapsed: self.started.map(|s| s.elapsed()).unwrap_or(Duration::ZERO),
        })
    }
}

/// Lists one kind, counting what it streams; the first error ends the kind and is
/// recorded. The kind counts as complete only when its stream ended by itself.
fn list_kind(
    provider: &Arc<dyn Provider>,
    kind: ResourceKind,
    list: ListOptions,
    state: Shared,
    environment: Arc<str>,
) -> InventoryStream {
    let items: BoxStream<'static, Result<Resource>> = match kind {
        ResourceKind::Servers => provider
            .compute()
            .list_servers(list)
            .map_ok(Resource::Server)
            .boxed(),
        ResourceKind::Networks => provider
            .network()
            .list_networks(list)
            .map_ok(Resource::Network)
            .boxed(),
        ResourceKind::Volumes => provider
            .storage()
            .list_volumes(list)
            .map_ok(Resource::Volume)
            .boxed(),
        ResourceKind::Images => provider
            .images()
            .list_images(list)
            .map_ok(Resource::Image)
            .boxed(),
    };
    let st = state.clone();
    let listed = items.scan((), move |_, item| {
        let mut s = lock(&st);
        ready(match item {
            Ok(resource) => {
                s.counts.bump(kind);
                Some(InventoryEvent::Item {
                    environment: environment.clone(),
                    resource,
                })
            }
            Err(e) => {
                s.failed.push(kind);
                let env = s.environment.clone();
                s.errors.push(e.with_context_defaults(&crate::ErrorContext {
                    provider: Some(env),
                    ..Default::default()
                }));
                None
            }
        })
    });
    let done = stream::once(async move {
        let mut s = lock(&state);
        if !s.failed.contains(&kind) {
            s.complete.push(kind);
        }
        None
    })
    .filter_map(ready);
    listed.chain(done).boxed()
}

/// Cuts an environment's stream at its deadline, which starts at the first poll,
/// and ends it with the report either way.
struct Deadline {
    inner: InventoryStream,
    deadline: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    state: Shared,
    done: bool,
}

impl Stream for Deadline {
    type Item = InventoryEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<InventoryEvent>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let deadline = this.deadline;
        let state = &this.state;
        let sleep = this.sleep.get_or_insert_with(|| {
            lock(state).started = Some(tokio::time::Instant::now());
            Box::pin(tokio::time::sleep(deadline))
        });
        if sleep.as_mut().poll(cx).is_ready() {
            this.done = true;
            // Dropping the listing cancels its requests in flight.
            this.inner = stream::empty().boxed();
            let mut s = lock(&this.state);
            let env = s.environment.clone();
            tracing::debug!(environment = %env, ?deadline, "inventory deadline passed");
            s.errors.push(
                Error::new(
                    ErrorKind::Timeout,
                    format!("did not finish within {deadline:?}"),
                )
                .with_operation("inventory")
                .with_provider(env),
            );
            return Poll::Ready(s.finish(true).map(InventoryEvent::Finished));
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(InventoryEvent::Finished(r))) => {
                this.done = true;
                Poll::Ready(Some(InventoryEvent::Finished(r)))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(
                    lock(&this.state)
                        .finish(false)
                        .map(InventoryEvent::Finished),
                )
            }
            other => other,
        }
    }
}

fn environment_stream(
    env: Arc<Environment>,
    kinds: Vec<ResourceKind>,
    list: ListOptions,
    deadline: Duration,
) -> InventoryStream {
    let name: Arc<str> = Arc::from(env.name());
    let state: Shared = Arc::new(Mutex::new(State {
        environment: env.name().to_owned(),
        info: None,
        kinds: kinds.clone(),
        counts: ResourceCounts::default(),
        complete: Vec::new(),
        failed: Vec::new(),
        skipped: Vec::new(),
        errors: Vec::new(),
        deadline,
        started: None,
        finished: false,
    }));
    let st = state.clone();
    let body = stream::once(async move { env.provider().await }).flat_map(move |opened| {
        let p = match opened {
            Ok(p) => p,
            Err(e) => {
                lock(&st).errors.push(e);
                return stream::empty().boxed();
            }
        };
        let info = p.info();
        let caps = p.capabilities();
        let mut lists = Vec::new();
        {
            let mut s = lock(&st);
            s.info = Some(info.clone());
            for kind in &kinds {
                if let Err(e) = caps.require(kind.feature()) {
                    if let Some(r) = e.unsupported_reason() {
                        s.skipped.push((*kind, r.clone()));
                        continue;
                    }
                }
                lists.push(*kind);
            }
        }
        let lists: Vec<InventoryStream> = lists
            .into_iter()
            .map(|k| list_kind(&p, k, list.clone(), st.clone(), name.clone()))
            .collect();
        stream::once(ready(InventoryEvent::Opened {
            environment: name.clone(),
            info,
        }))
        .chain(stream::select_all(lists))
        .boxed()
    });
    Deadline {
        inner: body.boxed(),
        deadline,
        sleep: None,
        state,
        done: false,
    }
    .boxed()
}

impl Fleet {
    /// Lists servers, networks, volumes and images of every environment (or those
    /// `options` names) concurrently, as one stream of events: each environment's
    /// `Opened`, its `Item`s as they arrive, and its `Finished` report. Kinds an
    /// environment cannot list are skipped with the reason.
    ///
    /// Each environment has a deadline — `options.deadline`, else its own, else the
    /// fleet's — counted from the first poll of the stream; opening the environment is
    /// part of it. An environment that fails or passes its deadline ends with a report
    /// naming it, what it listed so far and its error (a
    /// [`ErrorKind::Timeout`] for the deadline); the others carry on. Nothing is
    /// collected: items stream as the environments yield them, so the wall time is
    /// that of the slowest environment, not the sum.
    ///
    /// Requires [`Feature::Servers`], [`Feature::Networks`], [`Feature::Volumes`] and
    /// [`Feature::Images`] for the respective kinds; a kind whose capability is false
    /// is skipped, not an error.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when `options` names an environment the fleet lacks.
    /// Failures of environments are not errors of the call: they are in the reports.
    pub fn inventory(&self, options: InventoryOptions) -> Result<InventoryStream> {
        let envs: Vec<Arc<Environment>> = if options.environments.is_empty() {
            self.inner.environments.clone()
        } else {
            options
                .environments
                .iter()
                .map(|n| self.find(n).cloned())
                .collect::<Result<_>>()?
        };
        let streams: Vec<InventoryStream> = envs
            .into_iter()
            .map(|env| {
                let deadline = options.deadline.unwrap_or_else(|| self.deadline_of(&env));
                environment_stream(env, options.kinds.clone(), options.list.clone(), deadline)
            })
            .collect();
        Ok(stream::select_all(streams).boxed())
    }
}
