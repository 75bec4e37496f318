//! Mock compute: servers with clock-driven lifecycles, flavors, key pairs, tags, metadata.

use async_trait::async_trait;

use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::operation::{Operation, PollResult, Progress};
use crate::paging::{ListOptions, Page, PageToken};
use crate::provider::{Compute, ItemStream};

use super::state::{checksum, ip_for, page_of, Transition};
use super::{mock_stream, poll_until, MockProvider};

impl MockProvider {
    /// An operation that ends when server `id` reaches `target`.
    pub(crate) fn server_reaches(
        &self,
        description: String,
        id: &ServerId,
        target: ServerStatus,
    ) -> Operation<Server> {
        let me = self.clone();
        let id = id.clone();
        poll_until(description, id.to_string(), move || {
            let me = me.clone();
            let id = id.clone();
            let target = target.clone();
            async move {
                let s = me.get_server(&id).await?;
                if s.status == target {
                    Ok(PollResult::Ready(s))
                } else if s.status == ServerStatus::Error {
                    Err(Error::new(
                        ErrorKind::OperationFailed,
                        format!("server {id} went to ERROR: {}", s.fault.unwrap_or_default()),
                    )
                    .with_resource(id.to_string()))
                } else {
                    let mut p = Progress::status(s.status.as_str());
                    p.percent = s.progress;
                    Ok(PollResult::Pending(p))
                }
            }
        })
    }

    fn server_gone(&self, id: &ServerId) -> Operation<()> {
        let me = self.clone();
        let id = id.clone();
        poll_until(format!("delete server {id}"), id.to_string(), move || {
            let me = me.clone();
            let id = id.clone();
            async move {
                match me.get_server(&id).await {
                    Ok(s) => Ok(PollResult::Pending(Progress::status(s.status.as_str()))),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(PollResult::Ready(())),
                    Err(e) => Err(e),
                }
            }
        })
    }

    fn with_server<T>(
        &self,
        op: &'static str,
        id: &ServerId,
        f: impl FnOnce(&mut Server) -> Result<T>,
    ) -> Result<T> {
        let mut st = self.state();
        let s = st
            .servers
            .get_mut(id.as_str())
            .ok_or_else(|| Error::not_found(format!("server {id}")))
            .map_err(|e| self.context(e, op))?;
        f(s).map_err(|e| self.context(e, op))
    }

    /// Moves a server from one of `from` to `during`, then to `to` after the action delay.
    async fn transition(
        &self,
        op: &'static str,
        id: &ServerId,
        from: &[ServerStatus],
        during: ServerStatus,
        to: ServerStatus,
    ) -> Result<Operation<Server>> {
        self.enter(op).await?;
        let at = self.after(self.delays().action_ms);
        let mut st = self.state();
        let s = st
            .servers
            .get_mut(id.as_str())
            .ok_or_else(|| self.context(Error::not_found(format!("server {id}")), op))?;
        if !from.contains(&s.status) {
            return Err(self.context(
                Error::new(
                    ErrorKind::Conflict,
                    format!("server {id} is {}; {op} needs {}", s.status, names(from)),
                )
                .with_http_status(409),
                op,
            ));
        }
        s.status = during;
        st.schedule(at, Transition::Server(id.to_string(), to.clone()));
        drop(st);
        Ok(self.server_reaches(format!("{op} {id}"), id, to))
    }
}

fn names(s: &[ServerStatus]) -> String {
    s.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

fn validate_tag(tag: &str) -> Result<()> {
    if tag.is_empty() || tag.len() > 60 || tag.contains(['/', ',']) {
        return Err(Error::invalid_input(format!(
            "invalid tag {tag:?}: tags are 1-60 characters without '/' or ','"
        )));
    }
    Ok(())
}

#[async_trait]
impl Compute for MockProvider {
    fn list_servers(&self, options: ListOptions) -> ItemStream<Server> {
        mock_stream!(self, options, list_servers_page)
    }

    async fn list_servers_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Server>> {
        self.enter("list_servers").await?;
        let status = options
            .filters
            .get("status")
            .map(|s| ServerStatus::parse(s));
        let st = self.state();
        let (items, next) = page_of(
            &st.servers,
            options,
            page.as_ref(),
            |s| options.matches(&s.name, &s.tags) && status.as_ref().is_none_or(|w| *w == s.status),
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_server(&self, id: &ServerId) -> Result<Server> {
        self.enter("get_server").await?;
        self.with_server("get_server", id, |s| Ok(s.clone()))
    }

    async fn create_server(&self, spec: &CreateServer) -> Result<Operation<Server>> {
        const OP: &str = "create_server";
        self.enter(OP).await?;
        let at = self.after(self.delays().build_ms);
        let mut st = self.state();
        let fail = |e: Error| self.context(e, OP);
        if spec.name.trim().is_empty() {
            return Err(fail(Error::invalid_input("a server needs a name")));
        }
        if !st.flavors.contains_key(spec.flavor.as_str()) {
            return Err(fail(Error::not_found(format!("flavor {}", spec.flavor))));
        }
        match (&spec.image, &spec.boot_volume) {
            (None, None) => {
                return Err(fail(Error::invalid_input(
                    "a server needs an image or a boot volume",
                )))
            }
            (Some(i), _) => match st.images.get(i.as_str()) {
                None => return Err(fail(Error::not_found(format!("image {i}")))),
                Some(img) if img.image.status != ImageStatus::Active => {
                    return Err(fail(Error::new(
                        ErrorKind::Conflict,
                        format!("image {i} is {}, not active", img.image.status),
                    )))
                }
                Some(_) => {}
            },
            (None, Some(v)) => {
                if !st.volumes.contains_key(v.as_str()) {
                    return Err(fail(Error::not_found(format!("volume {v}"))));
                }
            }
        }
        if let Some(k) = &spec.key_name {
            if !st.key_pairs.contains_key(k) {
                return Err(fail(Error::not_found(format!("key pair {k}"))));
            }
        }
        for g in &spec.security_groups {
            if !st
                .security_groups
                .values()
                .any(|sg| sg.id.as_str() == g || sg.name == *g)
            {
                return Err(fail(Error::not_found(format!("security group {g}"))));
            }
        }
        for t in &spec.tags {
            validate_tag(t).map_err(fail)?;
        }
        let id = st.next_id("srv");
        let mut addresses = Vec::new();
        for (n, att) in spec.networks.iter().enumerate() {
            match att {
                NetworkAttachment::Network { network, fixed_ip } => {
                    let net = st
                        .networks
                        .get(network.as_str())
                        .ok_or_else(|| fail(Error::not_found(format!("network {network}"))))?;
                    addresses.push(ServerAddress {
                        network: net.name.clone(),
                        address: fixed_ip
                            .clone()
                            .unwrap_or_else(|| ip_for(10_000 + n as u64)),
                        kind: AddressKind::Fixed,
                    });
                }
                NetworkAttachment::Port { port } => {
                    let p = st
                        .ports
                        .get(port.as_str())
                        .ok_or_else(|| fail(Error::not_found(format!("port {port}"))))?;
                    if p.device_id.is_some() {
                        return Err(fail(Error::new(
                            ErrorKind::Conflict,
                            format!("port {port} is in use"),
                        )));
                    }
                }
            }
        }
        for att in &spec.networks {
            if let NetworkAttachment::Port { port } = att {
                let net_names: Vec<(String, String)> = st
                    .ports
                    .get(port.as_str())
                    .map(|p| {
                        p.fixed_ips
                            .iter()
                            .map(|f| (p.network_id.to_string(), f.ip_address.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                for (net, ip) in net_names {
                    let name = st.networks.get(&net).map(|n| n.name.clone()).unwrap_or(net);
                    addresses.push(ServerAddress {
                        network: name,
                        address: ip,
                        kind: AddressKind::Fixed,
                    });
                }
                if let Some(p) = st.ports.get_mut(port.as_str()) {
                    p.device_id = Some(ServerId::new(id.clone()));
                }
            }
        }
        let server = Server {
            id: ServerId::new(id.clone()),
            name: spec.name.clone(),
            status: ServerStatus::Building,
            flavor: Some(spec.flavor.clone()),
            image: spec.image.clone(),
            addresses,
            key_name: spec.key_name.clone(),
            availability_zone: spec.availability_zone.clone(),
            tags: spec.tags.clone(),
            metadata: spec.metadata.clone(),
            created_at: None,
            progress: Some(0),
            fault: None,
            raw: None,
        };
        st.servers.insert(id.clone(), server);
        st.schedule(at, Transition::Server(id.clone(), ServerStatus::Active));
        drop(st);
        let sid = ServerId::new(id);
        Ok(self.server_reaches(
            format!("create server {}", spec.name),
            &sid,
            ServerStatus::Active,
        ))
    }

    async fn delete_server(&self, id: &ServerId) -> Result<Operation<()>> {
        const OP: &str = "delete_server";
        self.enter(OP).await?;
        let at = self.after(self.delays().delete_ms);
        let mut st = self.state();
        let s = st
            .servers
            .get_mut(id.as_str())
            .ok_or_else(|| self.context(Error::not_found(format!("server {id}")), OP))?;
        if s.status != ServerStatus::Deleting {
            s.status = ServerStatus::Deleting;
            st.schedule(at, Transition::ServerGone(id.to_string()));
        }
        drop(st);
        Ok(self.server_gone(id))
    }

    async fn start_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        self.transition(
            "start_server",
            id,
            &[ServerStatus::Stopped],
            ServerStatus::Stopped,
            ServerStatus::Active,
        )
        .await
    }

    async fn stop_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        self.transition(
            "stop_server",
            id,
            &[ServerStatus::Active],
            ServerStatus::Active,
            ServerStatus::Stopped,
        )
        .await
    }

    async fn reboot_server(&self, id: &ServerId, kind: RebootKind) -> Result<Operation<Server>> {
        let from: &[ServerStatus] = match kind {
            RebootKind::Soft => &[ServerStatus::Active],
            RebootKind::Hard => &[
                ServerStatus::Active,
                ServerStatus::Stopped,
                ServerStatus::Error,
            ],
        };
        self.transition(
            "reboot_server",
            id,
            from,
            ServerStatus::Rebooting,
            ServerStatus::Active,
        )
        .await
    }

    async fn resize_server(&self, id: &ServerId, flavor: &FlavorId) -> Result<Operation<Server>> {
        const OP: &str = "resize_server";
        self.enter(OP).await?;
        let at = self.after(self.delays().action_ms);
        let mut st = self.state();
        if !st.flavors.contains_key(flavor.as_str()) {
            return Err(self.context(Error::not_found(format!("flavor {flavor}")), OP));
        }
        let s = st
            .servers
            .get_mut(id.as_str())
            .ok_or_else(|| self.context(Error::not_found(format!("server {id}")), OP))?;
        if s.status != ServerStatus::Active {
            return Err(self.context(
                Error::new(
                    ErrorKind::Conflict,
                    format!("server {id} is {}; resize needs ACTIVE", s.status),
                ),
                OP,
            ));
        }
        if s.flavor.as_ref() == Some(flavor) {
            return Err(self.context(
                Error::invalid_input(format!("server {id} already has flavor {flavor}")),
                OP,
            ));
        }
        s.status = ServerStatus::Resizing;
        st.schedule(
            at,
            Transition::ServerResized(id.to_string(), flavor.clone()),
        );
        drop(st);
        Ok(self.server_reaches(format!("resize server {id}"), id, ServerStatus::Active))
    }

    fn list_flavors(&self, options: ListOptions) -> ItemStream<Flavor> {
        mock_stream!(self, options, list_flavors_page)
    }

    async fn list_flavors_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Flavor>> {
        self.enter("list_flavors").await?;
        let st = self.state();
        let (items, next) = page_of(
            &st.flavors,
            options,
            page.as_ref(),
            |f| options.matches(&f.name, &[]),
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_flavor(&self, id: &FlavorId) -> Result<Flavor> {
        self.enter("get_flavor").await?;
        self.state()
            .flavors
            .get(id.as_str())
            .cloned()
            .ok_or_else(|| self.context(Error::not_found(format!("flavor {id}")), "get_flavor"))
    }

    fn list_key_pairs(&self, options: ListOptions) -> ItemStream<KeyPair> {
        mock_stream!(self, options, list_key_pairs_page)
    }

    async fn list_key_pairs_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<KeyPair>> {
        self.enter("list_key_pairs").await?;
        let st = self.state();
        let (items, next) = page_of(
            &st.key_pairs,
            options,
            page.as_ref(),
            |k| options.matches(&k.name, &[]),
            Clone::clone,
        );
        Ok(Page::new(items, next))
    }

    async fn get_key_pair(&self, name: &str) -> Result<KeyPair> {
        self.enter("get_key_pair").await?;
        self.state().key_pairs.get(name).cloned().ok_or_else(|| {
            self.context(Error::not_found(format!("key pair {name}")), "get_key_pair")
        })
    }

    async fn create_key_pair(&self, spec: &CreateKeyPair) -> Result<KeyPair> {
        const OP: &str = "create_key_pair";
        self.enter(OP).await?;
        if spec.name.trim().is_empty() {
            return Err(self.context(Error::invalid_input("a key pair needs a name"), OP));
        }
        let key = spec.public_key.trim();
        if !(key.starts_with("ssh-") || key.starts_with("ecdsa-"))
            || key.split_whitespace().count() < 2
        {
            return Err(self.context(
                Error::invalid_input(
                    "the public key is not in OpenSSH format (type and base64 data)",
                ),
                OP,
            ));
        }
        let mut st = self.state();
        if st.key_pairs.contains_key(&spec.name) {
            return Err(self.context(
                Error::new(
                    ErrorKind::AlreadyExists,
                    format!("key pair {} already exists", spec.name),
                )
                .with_http_status(409),
                OP,
            ));
        }
        let kp = KeyPair {
            name: spec.name.clone(),
            fingerprint: Some(checksum(key.as_bytes())),
            public_key: key.to_owned(),
        };
        st.key_pairs.insert(spec.name.clone(), kp.clone());
        Ok(kp)
    }

    async fn delete_key_pair(&self, name: &str) -> Result<()> {
        self.enter("delete_key_pair").await?;
        self.state()
            .key_pairs
            .remove(name)
            .map(drop)
            .ok_or_else(|| {
                self.context(
                    Error::not_found(format!("key pair {name}")),
                    "delete_key_pair",
                )
            })
    }

    async fn set_server_tags(&self, id: &ServerId, tags: &[String]) -> Result<Vec<String>> {
        self.enter("set_server_tags").await?;
        for t in tags {
            validate_tag(t).map_err(|e| self.context(e, "set_server_tags"))?;
        }
        self.with_server("set_server_tags", id, |s| {
            let mut out: Vec<String> = Vec::with_capacity(tags.len());
            for t in tags {
                if !out.contains(t) {
                    out.push(t.clone());
                }
            }
            s.tags = out.clone();
            Ok(out)
        })
    }

    async fn add_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        self.enter("add_server_tag").await?;
        validate_tag(tag).map_err(|e| self.context(e, "add_server_tag"))?;
        self.with_server("add_server_tag", id, |s| {
            if !s.tags.iter().any(|t| t == tag) {
                s.tags.push(tag.to_owned());
            }
            Ok(())
        })
    }

    async fn remove_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        self.enter("remove_server_tag").await?;
        self.with_server("remove_server_tag", id, |s| {
            let before = s.tags.len();
            s.tags.retain(|t| t != tag);
            if before == s.tags.len() {
                return Err(Error::not_found(format!("tag {tag} on server {id}")));
            }
            Ok(())
        })
    }

    async fn set_server_metadata(&self, id: &ServerId, metadata: &Metadata) -> Result<Metadata> {
        self.enter("set_server_metadata").await?;
        self.with_server("set_server_metadata", id, |s| {
            if metadata.keys().any(|k| k.is_empty() || k.len() > 255) {
                return Err(Error::invalid_input("metadata keys are 1-255 characters"));
            }
            s.metadata
                .extend(metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
            Ok(s.metadata.clone())
        })
    }

    async fn delete_server_metadata(&self, id: &ServerId, key: &str) -> Result<()> {
        self.enter("delete_server_metadata").await?;
        self.with_server("delete_server_metadata", id, |s| {
            s.metadata
                .remove(key)
                .map(drop)
                .ok_or_else(|| Error::not_found(format!("metadata key {key} on server {id}")))
        })
    }
}
