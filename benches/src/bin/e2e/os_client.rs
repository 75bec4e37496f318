//! The hybrid side against the OpenStack fake, and the consumer both sides feed.

use std::fmt::Write as _;
use std::sync::Arc;

use hybrid_core::model::Server;
use hybrid_core::Provider;
use hybrid_http::{ClientOptions, SecretString};
use hybrid_openstack::config::{AuthConfig, AuthType, CloudConfig};
use hybrid_openstack::OpenStackProvider;

use crate::fake_os::{PASSWORD, PROJECT, USER};
use crate::raw_os::{RawServer, RawServerRef};

/// The cloud entry of the fake at `url` (`http://127.0.0.1:<port>`).
pub(crate) fn cloud(url: &str) -> CloudConfig {
    CloudConfig {
        name: "bench".into(),
        auth: AuthConfig {
            auth_url: Some(format!("{url}/identity/v3")),
            username: Some(USER.into()),
            password: Some(SecretString::from(PASSWORD)),
            project_name: Some(PROJECT.into()),
            user_domain_name: Some("Default".into()),
            project_domain_name: Some("Default".into()),
            ..AuthConfig::default()
        },
        auth_type: AuthType::Password,
        region_name: None,
        regions: Vec::new(),
        interface: "public".into(),
        cacert: None,
        insecure: false,
    }
}

/// The gated provider users get, connected to the fake at `url`.
pub(crate) async fn connect(url: &str) -> Result<Arc<dyn Provider>, String> {
    OpenStackProvider::connect_with(&cloud(url), ClientOptions::default())
        .await
        .map_err(|e| e.to_string())
}

/// What the consumer does with each listed server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Work {
    /// Nothing but counting it.
    None,
    /// An inventory line: id, name, status, flavor and first address formatted as CSV
    /// and checksummed (what writing an inventory file costs, without the disk).
    Csv,
}

impl Work {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Work::None => "none",
            Work::Csv => "csv",
        }
    }
}

/// The consumer: counts servers and, for [`Work::Csv`], formats and checksums a line.
#[derive(Debug)]
pub(crate) struct Sink {
    work: Work,
    line: String,
    pub(crate) hash: u64,
    pub(crate) count: usize,
}

impl Sink {
    pub(crate) fn new(work: Work) -> Self {
        Sink {
            work,
            line: String::with_capacity(256),
            hash: 0xcbf2_9ce4_8422_2325,
            count: 0,
        }
    }

    /// Consumes one row: id, name, status, flavor and first address.
    pub(crate) fn row_of(&mut self, id: &str, name: &str, status: &str, flavor: &str, addr: &str) {
        self.count += 1;
        if self.work == Work::None {
            return;
        }
        self.line.clear();
        let _ = writeln!(self.line, "{id},{name},{status},{flavor},{addr}");
        for b in self.line.bytes() {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Consumes a hybrid server.
    pub(crate) fn server(&mut self, s: &Server) {
        let flavor = s.flavor.as_ref().map_or("", |f| f.as_str());
        let addr = s.addresses.first().map_or("", |a| a.address.as_str());
        self.row_of(s.id.as_str(), &s.name, s.status.as_str(), flavor, addr);
    }

    /// Consumes a raw server.
    pub(crate) fn raw(&mut self, s: &RawServer, flavor: &str) {
        let addr = s
            .addresses
            .values()
            .flatten()
            .next()
            .map_or("", |a| a.addr.as_str());
        self.row_of(&s.id, &s.name, &s.status, flavor, addr);
    }

    /// Consumes a raw server read from its document.
    pub(crate) fn raw_ref(&mut self, s: &RawServerRef<'_>, flavor: &str) {
        let addr = s.addresses.values().flatten().next().map_or("", |a| a.addr);
        self.row_of(s.id, s.name, s.status, flavor, addr);
    }
}
