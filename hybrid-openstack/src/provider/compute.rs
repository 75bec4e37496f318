//! `Compute` over Nova.

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use hybrid_core::model::{
    CreateKeyPair, CreateServer, Flavor, FlavorId, KeyPair, Metadata, RawDocument, RawJson,
    RebootKind, Server, ServerId, ServerStatus,
};
use hybrid_core::operation::{PollResult, Poller, Progress};
use hybrid_core::provider::{Compute, ItemStream};
use hybrid_core::{Error, ErrorKind, ListOptions, Operation, Page, PageToken, Result};
use serde::Deserialize;
use serde_json::Value;

use super::{
    convert_page, listing, poll_until, poll_until_gone, query, Dialect, Inner, OpenStackProvider,
    Step,
};
use crate::api::{self, compute as nova};
use crate::capabilities::Microversion;
use crate::protocol::nova::{NovaFlavor, NovaKeyPair, NovaServerRef};
use crate::protocol::requests;

/// Waits for a resize: confirms it once at `VERIFY_RESIZE`, then waits for `ACTIVE` on
/// the target flavor. `ACTIVE` on another flavor after the resize was seen under way
/// means Nova reverted it.
struct ResizePoller {
    inner: std::sync::Arc<Inner>,
    id: ServerId,
    target: FlavorId,
    confirmed: bool,
    moved: bool,
}

#[async_trait]
impl Poller<Server> for ResizePoller {
    async fn poll(&mut self) -> Result<PollResult<Server>> {
        let (s, task) = self.inner.server(self.id.as_str()).await?;
        let failed = |m: String| {
            Err(Error::new(ErrorKind::OperationFailed, m).with_resource(self.id.to_string()))
        };
        match &s.status {
            ServerStatus::Error => failed(format!(
                "server {} went to ERROR while resizing{}",
                self.id,
                s.fault
                    .as_deref()
                    .map(|f| format!(": {f}"))
                    .unwrap_or_default()
            )),
            ServerStatus::VerifyResize if !self.confirmed => {
                let confirmed = nova::server_action(
                    &self.inner.api,
                    self.id.as_str(),
                    &requests::confirm_resize(),
                    "confirm_resize",
                )
                .await;
                match confirmed {
                    // Nova's resize_confirm_window may confirm it first: the state
                    // moved on, and the next check sees where to.
                    Err(e) if e.kind() == ErrorKind::Conflict => {
                        tracing::debug!(server = %self.id, error = %e, "resize confirmed by Nova already")
                    }
                    other => other?,
                }
                self.confirmed = true;
                self.moved = true;
                Ok(PollResult::Pending(Progress::status(
                    "VERIFY_RESIZE (confirmed)",
                )))
            }
            ServerStatus::Active if task.is_none() && s.flavor.as_ref() == Some(&self.target) => {
                Ok(PollResult::Ready(s))
            }
            ServerStatus::Active if task.is_none() && self.moved => failed(format!(
                "server {} is ACTIVE again on flavor {:?}, not {}: Nova reverted the resize",
                self.id, s.flavor, self.target
            )),
            st => {
                self.moved |= *st != ServerStatus::Active || task.is_some();
                Ok(PollResult::Pending(Progress::status(match &task {
                    Some(t) => format!("{st} ({t})"),
                    None => st.to_string(),
                })))
            }
        }
    }
}

/// A server and Nova's task state (`None` when no task runs).
pub(crate) type Observed = (Server, Option<String>);

impl Inner {
    /// The server a document describes, its task state, and the flavor name to
    /// resolve to an id when the document names its flavor (Nova 2.47+) instead of
    /// linking it. Reads the document once, borrowing what it only transforms.
    fn decode_server(v: Value) -> Result<(Server, Option<String>, Option<String>)> {
        let (mut s, task, by_name) = {
            let ns = NovaServerRef::deserialize(&v)
                .map_err(|e| Error::invalid_response("a server is not the expected JSON", e))?;
            let by_name = ns.flavor_name_only().map(str::to_owned);
            let task = ns.task_state();
            (ns.into_core(None), task, by_name)
        };
        s.raw = Some(RawDocument::from_value(&v));
        Ok((s, task, by_name))
    }

    /// [`decode_server`](Self::decode_server) for a listed server kept as JSON text:
    /// decoded once from the text, which becomes the raw document as it is.
    fn decode_listed_server(i: usize, doc: RawJson) -> Result<(Server, Option<String>)> {
        let (mut s, by_name) = {
            let ns: NovaServerRef<'_> = doc.deserialize().map_err(|e| {
                Error::invalid_response(
                    format!("item {i} of the `servers` listing is not the expected JSON"),
                    e,
                )
            })?;
            let by_name = ns.flavor_name_only().map(str::to_owned);
            (ns.into_core(None), by_name)
        };
        s.raw = Some(RawDocument::Json(doc));
        Ok((s, by_name))
    }

    pub(crate) async fn to_server(&self, v: Value) -> Result<Observed> {
        let (mut s, task, by_name) = Self::decode_server(v)?;
        if let Some(name) = by_name {
            s.flavor = Some(self.flavor_id_by_name(&name).await?);
        }
        Ok((s, task))
    }

    pub(crate) async fn server(&self, id: &str) -> Result<Observed> {
        let v = nova::get_server(&self.api, id).await?;
        self.to_server(v).await
    }

    pub(crate) async fn servers_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Server>> {
        let page = self.raw_servers_page(options, token).await?;
        let items = self.decode_servers(page.items, options).await?;
        Ok(Page::new(items, page.next))
    }

    /// One page of servers as JSON texts, not decoded yet.
    async fn raw_servers_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<RawJson>> {
        nova::list_servers_raw(
            &self.api,
            query(options, Dialect::Nova),
            options.page_size,
            token,
        )
        .await
    }

    /// A page's servers decoded, filtered by `options`, flavor names resolved.
    async fn decode_servers(
        &self,
        docs: Vec<RawJson>,
        options: &ListOptions,
    ) -> Result<Vec<Server>> {
        let mut items = Vec::with_capacity(docs.len());
        let mut by_name = Vec::new();
        for (i, doc) in docs.into_iter().enumerate() {
            let (s, name) = Self::decode_listed_server(i, doc)?;
            if options.matches(&s.name, &s.tags) {
                if let Some(name) = name {
                    by_name.push((items.len(), name));
                }
                items.push(s);
            }
        }
        // Flavor names to ids: one look at the table for the whole page.
        for (i, id) in self.flavor_ids_by_name(by_name).await? {
            items[i].flavor = Some(id);
        }
        Ok(items)
    }

    async fn flavors_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<Flavor>> {
        let page = nova::list_flavors(&self.api, Vec::new(), options.page_size, token).await?;
        let page = convert_page(page, |v| {
            let f: NovaFlavor = api::decode(&v, "a flavor")?;
            Ok(f.into_core(Some(v)))
        })?;
        Ok(Page::new(
            page.items
                .into_iter()
                .filter(|f| options.matches(&f.name, &[]))
                .collect(),
            page.next,
        ))
    }

    async fn key_pairs_page(
        &self,
        options: &ListOptions,
        token: Option<PageToken>,
    ) -> Result<Page<KeyPair>> {
        let page = nova::list_key_pairs(&self.api, options.page_size, token).await?;
        let page = convert_page(page, |v| {
            let inner = v.get("keypair").unwrap_or(&v);
            let k: NovaKeyPair = api::decode(inner, "a key pair")?;
            Ok(k.into_core())
        })?;
        Ok(Page::new(
            page.items
                .into_iter()
                .filter(|k| options.matches(&k.name, &[]))
                .collect(),
            page.next,
        ))
    }
}

/// Done when the server is in `want` with no task running; failed in `ERROR`.
fn settled(want: ServerStatus) -> impl Fn(&Observed) -> Step + Send + Sync + 'static {
    move |(s, task): &Observed| match &s.status {
        ServerStatus::Error => Step::Failed(format!(
            "server {} went to ERROR{}",
            s.id,
            s.fault
                .as_deref()
                .map(|f| format!(": {f}"))
                .unwrap_or_default()
        )),
        st if *st == want && task.is_none() => Step::Done,
        st => Step::Pending(match task {
            Some(t) => format!("{st} ({t})"),
            None => st.to_string(),
        }),
    }
}

impl OpenStackProvider {
    fn server_op(&self, what: &str, id: &ServerId, want: ServerStatus) -> Operation<Server> {
        let inner = self.inner.clone();
        let sid = id.as_str().to_owned();
        poll_until(
            format!("{what} server {id}"),
            id.to_string(),
            move || {
                let inner = inner.clone();
                let sid = sid.clone();
                async move { inner.server(&sid).await }
            },
            settled(want),
        )
        .map(|(s, _)| s)
    }

    async fn action(&self, id: &ServerId, body: Value, op: &str) -> Result<()> {
        nova::server_action(&self.inner.api, id.as_str(), &body, op).await
    }
}

#[async_trait]
impl Compute for OpenStackProvider {
    /// Pages are fetched one ahead as JSON texts and decoded as the consumer reaches
    /// them: the next page's round trip overlaps this page's decoding and consumption.
    fn list_servers(&self, options: ListOptions) -> ItemStream<Server> {
        let fetching = self.inner.clone();
        let fetch_options = options.clone();
        let pages = listing(move |token| {
            let inner = fetching.clone();
            let options = fetch_options.clone();
            async move {
                let page = inner.raw_servers_page(&options, token).await?;
                // The whole page is one item of the prefetching stream.
                Ok(Page::new(vec![page.items], page.next))
            }
        });
        let inner = self.inner.clone();
        pages
            .and_then(move |docs| {
                let inner = inner.clone();
                let options = options.clone();
                async move { inner.decode_servers(docs, &options).await }
            })
            .map_ok(|servers| futures::stream::iter(servers.into_iter().map(Ok)))
            .try_flatten()
            // As every listing: an error (a page that does not decode) ends the stream.
            .scan(false, |failed, item| {
                let go = !*failed;
                *failed |= item.is_err();
                futures::future::ready(go.then_some(item))
            })
            .boxed()
    }

    async fn list_servers_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Server>> {
        self.inner.servers_page(options, page).await
    }

    async fn get_server(&self, id: &ServerId) -> Result<Server> {
        Ok(self.inner.server(id.as_str()).await?.0)
    }

    async fn create_server(&self, spec: &CreateServer) -> Result<Operation<Server>> {
        let mv = self.inner.api.negotiated().nova;
        let body = requests::create_server(spec, mv);
        let created = nova::create_server(&self.inner.api, &body).await?;
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .map(ServerId::new)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    "Nova accepted the server but sent no id",
                )
                .with_operation("create_server")
            })?;
        if !spec.tags.is_empty() && mv < Microversion::new(2, 52) {
            // Tags join the create body only from 2.52; before that they are set
            // once the server exists (2.26+).
            nova::replace_server_tags(&self.inner.api, id.as_str(), &spec.tags)
                .await
                .map_err(|e| e.with_resource(id.to_string()))?;
        }
        Ok(self.server_op("create", &id, ServerStatus::Active))
    }

    async fn delete_server(&self, id: &ServerId) -> Result<Operation<()>> {
        nova::delete_server(&self.inner.api, id.as_str()).await?;
        let inner = self.inner.clone();
        let sid = id.as_str().to_owned();
        Ok(poll_until_gone(
            format!("delete server {id}"),
            id.to_string(),
            move || {
                let inner = inner.clone();
                let sid = sid.clone();
                async move { inner.server(&sid).await }
            },
            |(s, task): &Observed| match &s.status {
                ServerStatus::Deleted => Step::Pending("DELETED".into()),
                ServerStatus::Error if task.is_none() => {
                    Step::Failed(format!("server {} went to ERROR while being deleted", s.id))
                }
                st => Step::Pending(st.to_string()),
            },
        ))
    }

    async fn start_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        self.action(id, requests::start(), "start_server").await?;
        Ok(self.server_op("start", id, ServerStatus::Active))
    }

    async fn stop_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        self.action(id, requests::stop(), "stop_server").await?;
        Ok(self.server_op("stop", id, ServerStatus::Stopped))
    }

    async fn reboot_server(&self, id: &ServerId, kind: RebootKind) -> Result<Operation<Server>> {
        self.action(id, requests::reboot(kind), "reboot_server")
            .await?;
        Ok(self.server_op("reboot", id, ServerStatus::Active))
    }

    /// Resizes and, once Nova reaches `VERIFY_RESIZE`, confirms: the operation ends
    /// with the server `ACTIVE` on the new flavor.
    async fn resize_server(&self, id: &ServerId, flavor: &FlavorId) -> Result<Operation<Server>> {
        self.action(id, requests::resize(flavor), "resize_server")
            .await?;
        let poller = ResizePoller {
            inner: self.inner.clone(),
            id: id.clone(),
            target: flavor.clone(),
            confirmed: false,
            moved: false,
        };
        Ok(
            Operation::from_poller(format!("resize server {id} to {flavor}"), poller)
                .with_resource(id.to_string()),
        )
    }

    fn list_flavors(&self, options: ListOptions) -> ItemStream<Flavor> {
        let inner = self.inner.clone();
        listing(move |token| {
            let inner = inner.clone();
            let options = options.clone();
            async move { inner.flavors_page(&options, token).await }
        })
    }

    async fn list_flavors_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Flavor>> {
        self.inner.flavors_page(options, page).await
    }

    async fn get_flavor(&self, id: &FlavorId) -> Result<Flavor> {
        let v = nova::get_flavor(&self.inner.api, id.as_str()).await?;
        let f: NovaFlavor = api::decode(&v, "a flavor")?;
        Ok(f.into_core(Some(v)))
    }

    fn list_key_pairs(&self, options: ListOptions) -> ItemStream<KeyPair> {
        let inner = self.inner.clone();
        listing(move |token| {
            let inner = inner.clone();
            let options = options.clone();
            async move { inner.key_pairs_page(&options, token).await }
        })
    }

    async fn list_key_pairs_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<KeyPair>> {
        self.inner.key_pairs_page(options, page).await
    }

    async fn get_key_pair(&self, name: &str) -> Result<KeyPair> {
        let v = nova::get_key_pair(&self.inner.api, name).await?;
        let k: NovaKeyPair = api::decode(&v, "a key pair")?;
        Ok(k.into_core())
    }

    async fn create_key_pair(&self, spec: &CreateKeyPair) -> Result<KeyPair> {
        let v = nova::create_key_pair(&self.inner.api, &requests::import_key_pair(spec)).await?;
        let k: NovaKeyPair = api::decode(&v, "a key pair")?;
        let mut k = k.into_core();
        if k.public_key.is_empty() {
            k.public_key = spec.public_key.trim_end().to_owned();
        }
        Ok(k)
    }

    async fn delete_key_pair(&self, name: &str) -> Result<()> {
        nova::delete_key_pair(&self.inner.api, name).await
    }

    async fn set_server_tags(&self, id: &ServerId, tags: &[String]) -> Result<Vec<String>> {
        nova::replace_server_tags(&self.inner.api, id.as_str(), tags).await
    }

    async fn add_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        nova::add_server_tag(&self.inner.api, id.as_str(), tag).await
    }

    async fn remove_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        nova::delete_server_tag(&self.inner.api, id.as_str(), tag).await
    }

    async fn set_server_metadata(&self, id: &ServerId, metadata: &Metadata) -> Result<Metadata> {
        nova::merge_server_metadata(&self.inner.api, id.as_str(), metadata).await
    }

    async fn delete_server_metadata(&self, id: &ServerId, key: &str) -> Result<()> {
        nova::delete_server_metadata_item(&self.inner.api, id.as_str(), key).await
    }
}
