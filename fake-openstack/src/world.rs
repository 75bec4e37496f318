//! The state of all services, behind one lock.

use std::time::Instant;

use crate::cinder::CinderState;
use crate::config::{Config, Lifecycle};
use crate::glance::GlanceState;
use crate::keystone::Keystone;
use crate::neutron::NeutronState;
use crate::nova::NovaState;
use crate::util::{stable_hex_id, Rng};

/// A transition in progress: the state a resource reaches when it completes.
#[derive(Debug, Clone)]
pub(crate) struct Pending<T> {
    started: Instant,
    polls: u32,
    rule: Lifecycle,
    pub(crate) next: T,
}

impl<T> Pending<T> {
    pub(crate) fn new(rule: Lifecycle, next: T) -> Self {
        Pending {
            started: Instant::now(),
            polls: 0,
            rule,
            next,
        }
    }

    /// Whether the transition is complete. A read that still sees the transitional
    /// state counts as a poll when `observe` is set.
    pub(crate) fn check(&mut self, observe: bool) -> bool {
        let ready = self.polls >= self.rule.polls && self.started.elapsed() >= self.rule.delay;
        if !ready && observe {
            self.polls += 1;
        }
        ready
    }
}

/// Everything the services hold.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) rng: Rng,
    pub(crate) project_id: String,
    pub(crate) user_id: String,
    pub(crate) host_id: String,
    pub(crate) nova: NovaState,
    pub(crate) neutron: NeutronState,
    pub(crate) cinder: CinderState,
    pub(crate) glance: GlanceState,
    pub(crate) server_build: Lifecycle,
    pub(crate) server_action: Lifecycle,
    pub(crate) server_delete: Lifecycle,
    pub(crate) volume: Lifecycle,
}

impl World {
    pub(crate) fn new(cfg: &Config, keystone: &Keystone) -> World {
        let project_id = keystone
            .default_project()
            .map(|p| p.id.clone())
            .unwrap_or_else(|| stable_hex_id("project", "admin"));
        let user_id = keystone
            .default_user()
            .map(|u| u.id.clone())
            .unwrap_or_else(|| stable_hex_id("user", "admin"));
        let host_id = format!(
            "{}{}",
            stable_hex_id("host", &project_id),
            &stable_hex_id("host2", &project_id)[..24]
        );
        let mut w = World {
            rng: Rng::new(),
            project_id,
            user_id,
            host_id,
            nova: NovaState::new(cfg),
            neutron: NeutronState::default(),
            cinder: CinderState::default(),
            glance: GlanceState::default(),
            server_build: cfg.server_build,
            server_action: cfg.server_action,
            server_delete: cfg.server_delete,
            volume: cfg.volume,
        };
        crate::glance::seed(&mut w);
        crate::neutron::seed(&mut w, cfg);
        crate::cinder::seed(&mut w);
        crate::nova::seed_servers(&mut w, cfg.servers);
        w
    }
}
