//! The `Provider` implementation: `hybrid-core`'s portable traits over the [`api`](crate::api)
//! stratum.

mod compute;
mod images;
mod network;
mod storage;

use std::fmt;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hybrid_core::gate::gate;
use hybrid_core::paging::paginate_prefetch;
use hybrid_core::provider::{Compute, Images, Network, Storage};
use hybrid_core::{
    Capabilities, Error, ErrorKind, ListOptions, Operation, Page, PageToken, Provider,
    ProviderInfo, ProviderKind, Reason, ReasonKind, Result, WaitOptions,
};
use hybrid_http::{HttpClient, TokenCache, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::api;
use crate::client::{ArmClient, RawPage};
use crate::config::AzureConfig;
use crate::credential::{self, Credential};
use crate::ids::Scope;
use crate::lro::Lro;
use crate::throttle::ThrottleStats;

/// The settings the provider keeps from its configuration (no secret).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub name: String,
    pub cloud: String,
    pub admin_username: String,
    pub stop_deallocates: bool,
    pub vnet_address_space: Vec<String>,
    pub public_ip_sku: String,
    pub disk_sku: String,
}

/// How long the VM sizes of the location are reused before being listed again.
const SIZES_TTL: Duration = Duration::from_secs(600);

pub(crate) struct Inner {
    pub arm: ArmClient,
    pub settings: Settings,
    pub caps: Arc<Capabilities>,
    pub credential: Arc<dyn Credential>,
    pub sizes: Mutex<Option<(tokio::time::Instant, Arc<Vec<Value>>)>>,
    pub wait: WaitOptions,
    /// Set once ARM has refused `$expand=instanceView` on a VM listing (`400`): VM
    /// listings are then made without it.
    pub vm_list_expand_refused: AtomicBool,
}

/// An Azure subscription's resource group in one location, as a hybrid [`Provider`].
/// Cheap to clone.
///
/// Build it with [`AzureProvider::connect`] (checks the credentials and the resource
/// group) or [`AzureProvider::new`] (no request yet), and hand it out gated with
/// [`into_provider`](Self::into_provider) or [`crate::connect`].
#[derive(Clone)]
pub struct AzureProvider {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for AzureProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureProvider")
            .field("name", &self.inner.settings.name)
            .field("cloud", &self.inner.settings.cloud)
            .field("arm", &self.inner.arm)
            .field("credential", &self.inner.credential.describe())
            .finish_non_exhaustive()
    }
}

impl AzureProvider {
    /// A provider for `config`, without any request yet (the first call gets a token).
    ///
    /// # Errors
    /// `Config` for an invalid configuration or an unusable certificate file.
    pub fn new(config: AzureConfig) -> Result<Self> {
        config.validate()?;
        let http = HttpClient::new(config.http.clone())?.with_provider(config.name.clone());
        let credential = credential::from_config(&config, &http)?;
        Self::with_credential(config, http, credential)
    }

    /// As [`new`](Self::new), with a credential built by the caller (a custom chain).
    ///
    /// # Errors
    /// `Config` for an invalid configuration.
    pub fn with_credential(
        config: AzureConfig,
        http: HttpClient,
        credential: Arc<dyn Credential>,
    ) -> Result<Self> {
        let endpoint = config.cloud.resource_manager_url()?;
        let tokens = Arc::new(TokenCache::new(credential.clone()));
        let scope = Scope {
            subscription_id: config.subscription_id.clone(),
            resource_group: config.resource_group.clone(),
            location: config.location.clone(),
        };
        let arm = ArmClient::new(http, tokens, endpoint, scope, config.throttle.clone());
        let cloud = match endpoint_host(&config.cloud.resource_manager).as_deref() {
            Some("management.azure.com") => "AzureCloud".to_owned(),
            Some("management.chinacloudapi.cn") => "AzureChinaCloud".to_owned(),
            Some("management.usgovcloudapi.net") => "AzureUSGovernment".to_owned(),
            Some(h) => h.to_owned(),
            None => "custom".to_owned(),
        };
        Ok(AzureProvider {
            inner: Arc::new(Inner {
                arm,
                settings: Settings {
                    name: config.name.clone(),
                    cloud,
                    admin_username: config.admin_username.clone(),
                    stop_deallocates: config.stop_deallocates,
                    vnet_address_space: config.vnet_address_space.clone(),
                    public_ip_sku: config.public_ip_sku.clone(),
                    disk_sku: config.disk_sku.clone(),
                },
                caps: Arc::new(crate::capabilities::azure_capabilities()),
                credential,
                sizes: Mutex::new(None),
                wait: WaitOptions::default(),
                vm_list_expand_refused: AtomicBool::new(false),
            }),
        })
    }

    /// Builds the provider and checks that the credentials work and the resource group
    /// exists (`GET` of the resource group).
    ///
    /// # Errors
    /// `Config`; `Unauthenticated` when no credential of the chain gets a token (the
    /// error lists each one's failure); `NotFound` when the resource group does not
    /// exist; `PermissionDenied`; transport errors.
    pub async fn connect(config: AzureConfig) -> Result<Self> {
        let p = Self::new(config)?;
        p.check().await?;
        Ok(p)
    }

    /// The provider behind the capability gate, as callers use it.
    pub fn into_provider(self) -> Arc<dyn Provider> {
        gate(Arc::new(self))
    }

    /// The ARM client, for calls of the [`api`](crate::api) stratum.
    pub fn arm(&self) -> &ArmClient {
        &self.inner.arm
    }

    /// The credential (for example a [`ChainedCredential`](crate::credential::ChainedCredential)
    /// to inspect).
    pub fn credential(&self) -> &Arc<dyn Credential> {
        &self.inner.credential
    }

    /// ARM requests sent so far (retries by the HTTP layer not counted).
    pub fn request_count(&self) -> u64 {
        self.inner.arm.requests_sent()
    }

    /// What the throttle has done: requests delayed because ARM's remaining-request
    /// counts ran low, and the delays added up.
    pub fn throttle_stats(&self) -> ThrottleStats {
        self.inner.arm.throttle_stats()
    }

    pub(crate) fn arm_client(&self) -> &ArmClient {
        &self.inner.arm
    }

    pub(crate) fn scope(&self) -> &Scope {
        self.inner.arm.scope()
    }

    /// An operation that follows `lro` and ends with the resource's model: from the
    /// operation's final document, or read again with `get` when it gave none.
    pub(crate) fn resource_operation<T, G, GFut>(
        &self,
        what: String,
        id: &crate::ids::ResourceId,
        lro: Lro,
        get: G,
        convert: fn(Value) -> Result<T>,
    ) -> Operation<T>
    where
        T: Send + 'static,
        G: Fn(ArmClient, crate::ids::ResourceId) -> GFut + Send + Sync + Clone + 'static,
        GFut: Future<Output = Result<Value>> + Send + 'static,
    {
        let arm = self.inner.arm.clone();
        let rid = id.clone();
        crate::lro::operation(what, id.to_string(), lro, move |v| {
            let arm = arm.clone();
            let rid = rid.clone();
            let get = get.clone();
            async move {
                let doc = match v {
                    Some(d) if d.get("id").is_some() => d,
                    _ => get(arm, rid).await?,
                };
                convert(doc)
            }
        })
        .with_options(self.inner.wait)
    }

    /// Waits for an LRO inside a call that returns no `Operation`.
    pub(crate) async fn wait_lro(&self, description: String, lro: Lro) -> Result<Option<Value>> {
        crate::lro::operation(description, String::new(), lro, |v| async move { Ok(v) })
            .with_options(self.inner.wait)
            .await
    }
}

fn endpoint_host(s: &str) -> Option<String> {
    Url::parse(s).ok()?.host_str().map(str::to_ascii_lowercase)
}

/// Connects with the `AZURE_*` variables ([`AzureConfig::from_env`]) and returns the
/// gated provider.
///
/// # Errors
/// `Config` for missing or invalid variables; as [`AzureProvider::connect`].
pub async fn connect_from_env() -> Result<Arc<dyn Provider>> {
    connect(AzureConfig::from_env()?).await
}

/// Connects with `config` (see [`AzureProvider::connect`]) and returns the gated
/// provider.
///
/// # Errors
/// As [`AzureProvider::connect`].
pub async fn connect(config: AzureConfig) -> Result<Arc<dyn Provider>> {
    Ok(AzureProvider::connect(config).await?.into_provider())
}

#[async_trait]
impl Provider for AzureProvider {
    fn info(&self) -> ProviderInfo {
        let s = self.scope();
        ProviderInfo {
            kind: ProviderKind::Azure,
            name: self.inner.settings.name.clone(),
            region: Some(s.location.clone()),
            variant: Some(format!(
                "azure ({}, resource group {})",
                self.inner.settings.cloud, s.resource_group
            )),
            simulated: false,
        }
    }

    fn capabilities(&self) -> Arc<Capabilities> {
        self.inner.caps.clone()
    }

    async fn check(&self) -> Result<()> {
        api::resources::get_resource_group(&self.inner.arm)
            .await
            .map(drop)
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

/// A position in a listing: the ARM page's URL (none: the first page), the offset of
/// the next item in it, and, for listings over several sources, which source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(rename = "s", default, skip_serializing_if = "is_zero")]
    pub source: u8,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(rename = "o", default, skip_serializing_if = "is_zero_usize")]
    pub offset: usize,
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

fn is_zero_usize(v: &usize) -> bool {
    *v == 0
}

impl Cursor {
    pub(crate) fn decode(token: Option<&PageToken>) -> Result<Cursor> {
        match token {
            None => Ok(Cursor::default()),
            Some(t) => serde_json::from_str(t.as_str()).map_err(|e| {
                Error::invalid_input("the page token is not one of this provider's").with_source(e)
            }),
        }
    }

    pub(crate) fn encode(&self) -> PageToken {
        PageToken::new(serde_json::to_string(self).unwrap_or_default())
    }

    pub(crate) fn page_url(&self) -> Result<Option<Url>> {
        self.url
            .as_deref()
            .map(|u| {
                Url::parse(u).map_err(|e| {
                    Error::invalid_input("the page token holds no valid next link").with_source(e)
                })
            })
            .transpose()
    }
}

/// One page of at most `page_size` items of an ARM listing, from `cursor`: the ARM page
/// is fetched (again, when resuming inside it) and sliced; the token says where the
/// next slice starts. ARM lists take no page size, so this is how `page_size` holds.
pub(crate) async fn sliced<T, F, Fut>(
    cursor: Cursor,
    page_size: Option<u32>,
    fetch: F,
) -> Result<(Vec<T>, Option<Cursor>)>
where
    F: FnOnce(Option<Url>) -> Fut,
    Fut: Future<Output = Result<RawPage<T>>>,
{
    let page = fetch(cursor.page_url()?).await?;
    let len = page.items.len();
    let start = cursor.offset.min(len);
    let end = match page_size {
        Some(n) if n > 0 => (start + n as usize).min(len),
        _ => len,
    };
    let items: Vec<T> = page.items.into_iter().take(end).skip(start).collect();
    let next = if end < len {
        Some(Cursor {
            source: cursor.source,
            url: cursor.url.clone(),
            offset: end,
        })
    } else {
        page.next.map(|u| Cursor {
            source: cursor.source,
            url: Some(u.to_string()),
            offset: 0,
        })
    };
    Ok((items, next))
}

/// Converts raw items, keeps those `keep` accepts, and makes the page.
pub(crate) fn make_page<I, T>(
    items: Vec<I>,
    next: Option<Cursor>,
    mut convert: impl FnMut(I) -> Result<T>,
    keep: impl Fn(&T) -> bool,
) -> Result<Page<T>> {
    let mut out = Vec::with_capacity(items.len());
    for v in items {
        let t = convert(v)?;
        if keep(&t) {
            out.push(t);
        }
    }
    Ok(Page::new(out, next.map(|c| c.encode())))
}

/// The lazy stream of a listing: [`paginate_prefetch`] on the consumer's task. The
/// next page's request goes out as soon as the current page arrives, so ARM works on it
/// while the consumer takes the current page's items; its answer is read and decoded on
/// the consumer's task once they are used up (one page of decoded items in memory at a
/// time). Dropping the stream cancels the fetch in flight; a consumer that stops early
/// may cause one request more than it takes.
pub(crate) fn listing<T, F, Fut>(fetch: F) -> hybrid_core::provider::ItemStream<T>
where
    T: Send + 'static,
    F: FnMut(Option<PageToken>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T>>> + Send + 'static,
{
    paginate_prefetch(fetch, None)
}

/// Checks that `options.filters` only holds keys this listing understands.
pub(crate) fn check_filters(options: &ListOptions, known: &[&str], what: &str) -> Result<()> {
    if let Some(k) = options
        .filters
        .keys()
        .find(|k| !known.contains(&k.as_str()))
    {
        let list = if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        };
        return Err(Error::invalid_input(format!(
            "{what} on Azure take no filter {k:?} (filters: {list})"
        )));
    }
    Ok(())
}

/// The `Unsupported` error of a capability Azure lacks.
impl AzureProvider {
    /// The `Unsupported` error for `operation`, with the reason and this provider's
    /// name and location, as the gate gives it (reached only by ungated callers).
    pub(crate) fn unsupported(&self, operation: &str, kind: ReasonKind, message: &str) -> Error {
        let e = Error::unsupported(Reason::new(kind, message))
            .with_operation(operation)
            .with_provider(self.inner.settings.name.clone());
        e.with_region(self.scope().location.clone())
    }
}

/// Checks a name for a new resource: 1–80 letters, digits, `-`, `_`, `.`; starting with
/// a letter or digit, not ending in `.` (the strictest of the types hybrid creates).
pub(crate) fn check_name(name: &str, what: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{name:?} is not a valid Azure {what} name (1-80 letters, digits, '-', '_', '.'; starting with a letter or digit, not ending in '.')"
        )))
    }
}

/// A short random suffix for names hybrid makes up.
pub(crate) fn short_id() -> String {
    credential::uuid_v4()[..8].to_owned()
}

/// Fails with `AlreadyExists` when `get` finds the resource, passes on `NotFound`.
pub(crate) async fn ensure_absent<F>(get: F, what: String) -> Result<()>
where
    F: Future<Output = Result<Value>>,
{
    match get.await {
        Ok(_) => Err(Error::new(
            ErrorKind::AlreadyExists,
            format!("{what} already exists"),
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// An operation that is complete already.
pub(crate) fn done<T: Send + 'static>(what: &str, v: T) -> Operation<T> {
    Operation::ready(what.to_owned(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor {
            source: 1,
            url: Some("https://management.azure.com/x?api-version=1&$skiptoken=a".into()),
            offset: 3,
        };
        assert_eq!(Cursor::decode(Some(&c.encode())).unwrap(), c);
        assert_eq!(Cursor::default().encode().as_str(), "{}");
        let e = Cursor::decode(Some(&PageToken::new("not json"))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn slices_pages() {
        let raw = |n: usize, next: Option<&str>| RawPage {
            items: (0..n).map(|i| serde_json::json!(i)).collect(),
            next: next.map(|u| Url::parse(u).unwrap()),
        };
        let (items, next) = sliced(Cursor::default(), Some(2), |_| async {
            Ok(raw(3, Some("https://h/p2")))
        })
        .await
        .unwrap();
        assert_eq!(items.len(), 2);
        let next = next.unwrap();
        assert_eq!((next.url.as_deref(), next.offset), (None, 2));
        let (items, next) = sliced(next, Some(2), |_| async {
            Ok(raw(3, Some("https://h/p2")))
        })
        .await
        .unwrap();
        assert_eq!(items, vec![serde_json::json!(2)]);
        assert_eq!(next.unwrap().url.as_deref(), Some("https://h/p2"));
        let (items, next) = sliced(Cursor::default(), None, |_| async { Ok(raw(3, None)) })
            .await
            .unwrap();
        assert_eq!(items.len(), 3);
        assert!(next.is_none());
    }

    #[test]
    fn names() {
        assert!(check_name("web-1.a_b", "x").is_ok());
        for bad in ["", "-x", "x.", "a/b", "a b", &"x".repeat(81)] {
            assert!(check_name(bad, "x").is_err(), "{bad}");
        }
    }
}
