//! The `Provider` implementation: the portable traits of `hybrid-core` over the
//! `api` stratum.
//!
//! [`OpenStackProvider::connect`] authenticates, negotiates microversions, asks the
//! region what it is (catalog, Neutron extensions, hypervisor types, Glance import
//! methods) and hands out a provider behind the capability gate, so a call the region
//! cannot serve fails with `Unsupported` and its reason before any request.
//! [`OpenStackProvider::connect_regions`] does this for every region of one cloud: a
//! vSphere-backed region and a KVM region of one `clouds.yaml` entry become two
//! providers whose capabilities differ.

mod compute;
mod images;
mod network;
mod storage;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use hybrid_core::model::FlavorId;
use hybrid_core::operation::{PollResult, Progress};
use hybrid_core::paging::paginate_prefetch;
use hybrid_core::provider::{Compute, Images, Network, Storage};
use hybrid_core::{
    gate::gate, Capabilities, Error, ErrorKind, ListOptions, Operation, Provider, ProviderInfo,
    ProviderKind, Result,
};
use hybrid_http::{ClientOptions, HttpClient};
use serde_json::Value;
use tokio::sync::{Mutex, RwLock};

use crate::api::{self, Api, Query};
use crate::capabilities::RegionFacts;
use crate::config::CloudConfig;
use crate::protocol::nova::NovaFlavor;
use crate::session::Session;

/// An OpenStack region as a hybrid [`Provider`]. Cheap to clone.
///
/// Build it with [`connect`](Self::connect) (gated, as the facade hands it out) or
/// [`connect_ungated`](Self::connect_ungated) (to reach [`api`](Self::api) for calls
/// the portable API does not cover).
#[derive(Clone)]
pub struct OpenStackProvider {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    api: Api,
    name: String,
    region: Option<String>,
    facts: RegionFacts,
    caps: Arc<Capabilities>,
    /// Flavor name → id, for Nova 2.47+ which names a server's flavor instead of
    /// linking it, and when it was loaded.
    flavors: RwLock<FlavorTable>,
    flavor_reload: Mutex<()>,
}

/// How long a loaded flavor table answers misses without a reload.
const FLAVOR_TABLE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Default)]
pub(crate) struct FlavorTable {
    by_name: HashMap<String, FlavorId>,
    loaded_at: Option<std::time::Instant>,
}

impl std::fmt::Debug for OpenStackProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenStackProvider")
            .field("name", &self.inner.name)
            .field("region", &self.inner.region)
            .field("negotiated", &self.inner.api.negotiated())
            .finish_non_exhaustive()
    }
}

/// The HTTP client options a cloud entry implies: its CA bundle and its `insecure`
/// opt-in, over `base`.
pub fn client_options(cloud: &CloudConfig, base: ClientOptions) -> ClientOptions {
    let mut o = base;
    if let Some(ca) = &cloud.cacert {
        o = o.with_ca_bundle(ca.clone());
    }
    if cloud.insecure {
        o = o.with_danger_accept_invalid_certs(true);
    }
    o
}

impl OpenStackProvider {
    /// Connects to `cloud` (one region: its `region_name`, or the catalog's only one)
    /// with default client options plus the entry's CA bundle and `insecure` setting,
    /// and returns the gated provider.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an unusable configuration; `Unauthenticated` when
    /// Keystone rejects the credentials; `Unsupported` when Nova's microversions and
    /// this library's do not meet; transport errors.
    pub async fn connect(cloud: &CloudConfig) -> Result<Arc<dyn Provider>> {
        Self::connect_with(cloud, ClientOptions::default()).await
    }

    /// As [`connect`](Self::connect), over client options `options` (timeouts, proxy,
    /// retry policy); the entry's CA bundle and `insecure` are added to them.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(
        cloud: &CloudConfig,
        options: ClientOptions,
    ) -> Result<Arc<dyn Provider>> {
        let p = Self::connect_ungated(cloud, options).await?;
        Ok(gate(Arc::new(p)))
    }

    /// One gated provider per region: the entry's `regions` when it lists them, else
    /// every region of the service catalog that has a compute endpoint. One token is
    /// shared by all of them.
    ///
    /// # Errors
    /// As [`connect`](Self::connect), for any region.
    pub async fn connect_regions(
        cloud: &CloudConfig,
        options: ClientOptions,
    ) -> Result<Vec<Arc<dyn Provider>>> {
        let client =
            HttpClient::new(client_options(cloud, options))?.with_provider(cloud.name.clone());
        let first = Session::new(client, cloud)?;
        first.authenticate().await?;
        let mut regions = cloud.regions.clone();
        if regions.is_empty() {
            let catalog = first
                .auth()
                .session()
                .map(|s| s.catalog)
                .unwrap_or_default();
            for svc in &catalog {
                if svc.service_type != "compute" {
                    continue;
                }
                for e in &svc.endpoints {
                    let r = e.region_id.clone().or_else(|| e.region.clone());
                    if let Some(r) = r {
                        if !regions.contains(&r) {
                            regions.push(r);
                        }
                    }
                }
            }
        }
        if regions.is_empty() {
            return Ok(vec![gate(Arc::new(
                Self::from_session(cloud.name.clone(), first).await?,
            ))]);
        }
        let mut out = Vec::with_capacity(regions.len());
        for region in regions {
            let session = first.for_region(Some(region));
            out.push(gate(Arc::new(
                Self::from_session(cloud.name.clone(), session).await?,
            )));
        }
        Ok(out)
    }

    /// Connects without the capability gate, to keep access to [`api`](Self::api).
    /// Wrap it with [`hybrid_core::gate`] before handing it out as a `Provider`.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_ungated(cloud: &CloudConfig, options: ClientOptions) -> Result<Self> {
        let client =
            HttpClient::new(client_options(cloud, options))?.with_provider(cloud.name.clone());
        let session = Session::new(client, cloud)?;
        Self::from_session(cloud.name.clone(), session).await
    }

    /// A provider over an existing session: authenticates, negotiates microversions
    /// and discovers the region's facts.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn from_session(name: String, session: Session) -> Result<Self> {
        session.authenticate().await?;
        let negotiated = api::negotiate(&session).await?;
        let api = Api::new(session, negotiated);
        let facts = discover(&api).await?;
        let caps = Arc::new(facts.capabilities());
        Ok(OpenStackProvider {
            inner: Arc::new(Inner {
                region: api.session().region().map(str::to_owned),
                api,
                name,
                facts,
                caps,
                flavors: RwLock::new(FlavorTable::default()),
                flavor_reload: Mutex::new(()),
            }),
        })
    }

    /// The `api` stratum, for calls the portable traits do not cover.
    pub fn api(&self) -> &Api {
        &self.inner.api
    }

    /// What the region reported about itself at connect time.
    pub fn facts(&self) -> &RegionFacts {
        &self.inner.facts
    }
}

/// Asks the region what it is. Neutron extensions, hypervisor types and Glance's
/// import methods are optional facts: a service missing from the catalog, or a
/// policy that forbids asking (`403`), or a `404`, leaves the fact unknown.
async fn discover(api: &Api) -> Result<RegionFacts> {
    fn optional<T>(r: Result<T>) -> Result<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Unsupported
                        | ErrorKind::PermissionDenied
                        | ErrorKind::NotFound
                        | ErrorKind::Unauthenticated
                ) =>
            {
                tracing::debug!(error = %e, "region fact unavailable");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
    let session = api.session();
    let catalog = session
        .auth()
        .session()
        .map(|s| s.catalog)
        .unwrap_or_default();
    let neutron_extensions = optional(api::network::list_extensions(api).await)?
        .map(|l| l.extensions.into_iter().map(|e| e.alias).collect());
    let hypervisor_types = optional(api::compute::list_hypervisors(api).await)?.map(|l| {
        let mut t: Vec<String> = l
            .hypervisors
            .into_iter()
            .filter_map(|h| h.hypervisor_type)
            .collect();
        t.sort();
        t.dedup();
        t
    });
    let glance_import_methods = optional(api::image::import_methods(api).await)?;
    Ok(RegionFacts {
        catalog,
        region: session.region().map(str::to_owned),
        neutron_extensions,
        hypervisor_types,
        nova_microversion: Some(api.negotiated().nova),
        glance_import_methods,
    })
}

impl Inner {
    fn variant(&self) -> String {
        let hv = match &self.facts.hypervisor_types {
            Some(t) if !t.is_empty() => t.join(", "),
            _ => "undisclosed hypervisors".to_owned(),
        };
        let net = if self.facts.has_nsx() { ", NSX" } else { "" };
        if self.facts.is_vmware() {
            format!("openstack on vsphere ({hv}{net})")
        } else {
            format!("openstack ({hv}{net})")
        }
    }

    /// The ids of the flavors named in `names` (`(index, name)` pairs, answered as
    /// `(index, id)`), as [`flavor_id_by_name`](Self::flavor_id_by_name) finds each, with
    /// one look at the table for all the names it holds.
    async fn flavor_ids_by_name(
        &self,
        names: Vec<(usize, String)>,
    ) -> Result<Vec<(usize, FlavorId)>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::with_capacity(names.len());
        let mut missed = Vec::new();
        {
            let t = self.flavors.read().await;
            for (i, name) in names {
                match t.by_name.get(&name) {
                    Some(id) => found.push((i, id.clone())),
                    None => missed.push((i, name)),
                }
            }
        }
        for (i, name) in missed {
            found.push((i, self.flavor_id_by_name(&name).await?));
        }
        Ok(found)
    }

    /// The id of the flavor named `name` (Nova 2.47+ names a server's flavor). The
    /// name→id table (private flavors included: `is_public=None`) is loaded on first
    /// use and reloaded on a miss, at most once per [`FLAVOR_TABLE_TTL`]; a name no
    /// flavor carries (a deleted flavor) is kept as the reference.
    async fn flavor_id_by_name(&self, name: &str) -> Result<FlavorId> {
        let fresh = |t: &FlavorTable| {
            t.loaded_at
                .is_some_and(|at| at.elapsed() < FLAVOR_TABLE_TTL)
        };
        {
            let t = self.flavors.read().await;
            if let Some(id) = t.by_name.get(name) {
                return Ok(id.clone());
            }
            if fresh(&t) {
                return Ok(FlavorId::new(name));
            }
        }
        let _one = self.flavor_reload.lock().await;
        {
            let t = self.flavors.read().await;
            if let Some(id) = t.by_name.get(name) {
                return Ok(id.clone());
            }
            if fresh(&t) {
                return Ok(FlavorId::new(name));
            }
        }
        let mut by_name = HashMap::new();
        let mut token = None;
        let all = vec![("is_public".to_owned(), "None".to_owned())];
        loop {
            let page = api::compute::list_flavors(&self.api, all.clone(), None, token).await?;
            for v in &page.items {
                let f: NovaFlavor = api::decode(v, "a flavor")?;
                by_name.insert(f.name, FlavorId::new(f.id));
            }
            match page.next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        let found = by_name.get(name).cloned();
        *self.flavors.write().await = FlavorTable {
            by_name,
            loaded_at: Some(std::time::Instant::now()),
        };
        Ok(found.unwrap_or_else(|| FlavorId::new(name)))
    }
}

#[async_trait]
impl Provider for OpenStackProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            kind: ProviderKind::Openstack,
            name: self.inner.name.clone(),
            region: self.inner.region.clone(),
            variant: Some(self.inner.variant()),
            simulated: false,
        }
    }

    fn capabilities(&self) -> Arc<Capabilities> {
        self.inner.caps.clone()
    }

    async fn check(&self) -> Result<()> {
        let session = self.inner.api.session();
        session.authenticate().await?;
        api::negotiate(session).await.map(drop)
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

/// How a polled resource stands.
pub(crate) enum Step {
    /// Done.
    Done,
    /// Still working, in this state.
    Pending(String),
    /// Ended in a failure state, with this message.
    Failed(String),
}

/// An operation that fetches a resource until `judge` says it is done or failed.
pub(crate) fn poll_until<T, F, Fut, J>(
    description: String,
    resource: String,
    mut fetch: F,
    judge: J,
) -> Operation<T>
where
    T: Send + 'static,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
    J: Fn(&T) -> Step + Send + Sync + 'static,
{
    let judge = Arc::new(judge);
    let res = resource.clone();
    Operation::from_fn(description, move || {
        let fut = fetch();
        let judge = judge.clone();
        let res = res.clone();
        async move {
            let item = fut.await?;
            match judge(&item) {
                Step::Done => Ok(PollResult::Ready(item)),
                Step::Pending(s) => Ok(PollResult::Pending(Progress::status(s))),
                Step::Failed(m) => {
                    Err(Error::new(ErrorKind::OperationFailed, m).with_resource(res))
                }
            }
        }
    })
    .with_resource(resource)
}

/// An operation that fetches a resource until it is gone (`NotFound`), failing when
/// `failed` recognises a failure state.
pub(crate) fn poll_until_gone<T, F, Fut, J>(
    description: String,
    resource: String,
    mut fetch: F,
    judge: J,
) -> Operation<()>
where
    T: Send + 'static,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
    J: Fn(&T) -> Step + Send + Sync + 'static,
{
    let judge = Arc::new(judge);
    let res = resource.clone();
    Operation::from_fn(description, move || {
        let fut = fetch();
        let judge = judge.clone();
        let res = res.clone();
        async move {
            match fut.await {
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(PollResult::Ready(())),
                Err(e) => Err(e),
                Ok(item) => match judge(&item) {
                    Step::Failed(m) => {
                        Err(Error::new(ErrorKind::OperationFailed, m).with_resource(res))
                    }
                    Step::Pending(s) => Ok(PollResult::Pending(Progress::status(s))),
                    Step::Done => Ok(PollResult::Pending(Progress::status("deleting"))),
                },
            }
        }
    })
    .with_resource(resource)
}

/// The lazy stream of a listing: [`paginate_prefetch`] on the consumer's task. The next
/// page's request goes out as soon as the current page arrives, so the service works on
/// it while the consumer takes the current page's items; its answer is read and decoded
/// on the consumer's task once they are used up, so that one page of decoded items is in
/// memory at a time and no memory moves between threads. Dropping the stream cancels
/// the fetch in flight. (Measured against fetching on a task of its own in
/// `benches/README.md`.)
pub(crate) fn listing<T, F, Fut>(fetch: F) -> hybrid_core::provider::ItemStream<T>
where
    T: Send + 'static,
    F: FnMut(Option<hybrid_core::PageToken>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<hybrid_core::Page<T>>> + Send + 'static,
{
    paginate_prefetch(fetch, None)
}

/// Name, tag and pass-through filters as a query, in each service's dialect.
#[derive(Clone, Copy)]
pub(crate) enum Dialect {
    /// Nova: `name` is a regular expression; `tags=a,b`.
    Nova,
    /// Neutron: exact `name`; `tags=a,b`.
    Neutron,
    /// Cinder: exact `name`; no tags.
    Cinder,
    /// Glance: exact `name`; `tag=a&tag=b`.
    Glance,
}

pub(crate) fn query(options: &ListOptions, dialect: Dialect) -> Query {
    let mut q: Query = Vec::new();
    if let Some(name) = &options.name {
        match dialect {
            Dialect::Nova => q.push(("name".into(), format!("^{}$", regex_escape(name)))),
            Dialect::Neutron | Dialect::Cinder | Dialect::Glance => {
                q.push(("name".into(), name.clone()))
            }
        }
    }
    if !options.tags.is_empty() {
        match dialect {
            Dialect::Nova | Dialect::Neutron => q.push(("tags".into(), options.tags.join(","))),
            Dialect::Glance => {
                for t in &options.tags {
                    q.push(("tag".into(), t.clone()));
                }
            }
            Dialect::Cinder => {}
        }
    }
    for (k, v) in &options.filters {
        q.push((k.clone(), v.clone()));
    }
    q
}

/// Escapes the characters a regular expression gives meaning to (Nova matches `name`
/// as a regular expression; the portable filter is an exact name).
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Decodes every raw item of a page with `convert`, keeping the page token.
pub(crate) fn convert_page<T>(
    page: hybrid_core::Page<Value>,
    mut convert: impl FnMut(Value) -> Result<T>,
) -> Result<hybrid_core::Page<T>> {
    let items = page
        .items
        .into_iter()
        .map(&mut convert)
        .collect::<Result<Vec<T>>>()?;
    Ok(hybrid_core::Page::new(items, page.next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nova_names_are_anchored_and_escaped() {
        let q = query(&ListOptions::new().with_name("web.1 (a)"), Dialect::Nova);
        assert_eq!(q, vec![("name".to_owned(), r"^web\.1 \(a\)$".to_owned())]);
    }

    #[test]
    fn tags_follow_each_dialect() {
        let o = ListOptions::new().with_tag("a").with_tag("b");
        assert_eq!(
            query(&o, Dialect::Neutron),
            vec![("tags".into(), "a,b".into())]
        );
        assert_eq!(
            query(&o, Dialect::Glance),
            vec![("tag".into(), "a".into()), ("tag".into(), "b".into())]
        );
        assert!(query(&o, Dialect::Cinder).is_empty());
        let o = ListOptions::new().with_filter("status", "ACTIVE");
        assert_eq!(
            query(&o, Dialect::Cinder),
            vec![("status".into(), "ACTIVE".into())]
        );
    }
}
