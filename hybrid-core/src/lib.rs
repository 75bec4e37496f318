//! # hybrid-core
//!
//! The provider-neutral contract of hybrid: one async API for compute, network, block
//! storage and images across VMware vSphere (through vCenter), OpenStack and Azure.
//!
//! - [`Provider`] and the domain traits [`Compute`], [`Network`], [`Storage`] and
//!   [`Images`]: object-safe, used as `Arc<dyn Provider>`.
//! - [`Capabilities`]: what a provider can and cannot do, with a [`Reason`] for every
//!   gap. A call that needs a false capability fails with [`ErrorKind::Unsupported`]
//!   and makes no request; [`gate`](gate::gate) enforces it for every provider.
//! - [`Error`]: one opaque error with a [`kind`](Error::kind), context, HTTP facts, a
//!   retry hint and a source chain.
//! - [`Operation`]: long-running work (Azure LROs, vSphere tasks, OpenStack polling)
//!   awaited with a timeout, backoff and progress.
//! - Lists as lazy `'static` streams with a resumable `*_page` twin, both on
//!   [`paginate`](paging::paginate).
//! - The [`fleet`]: many environments as one — concurrent inventory with a deadline
//!   per environment, portable workload specs, placement with explanations.
//! - The [`mock`] provider (feature `mock`) and the conformance suite
//!   ([`testkit`], feature `testkit`).
//!
//! This crate has no HTTP dependency; backends live in their own crates.

pub mod capabilities;
pub mod error;
pub mod ext;
pub mod fleet;
pub mod gate;
pub mod model;
pub mod operation;
pub mod paging;
pub mod provider;

#[cfg(feature = "mock")]
pub mod mock;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use capabilities::{Capabilities, Capability, Feature, Reason, ReasonKind};
pub use error::{Error, ErrorContext, ErrorKind, Result};
pub use ext::{ComputeExt, ImagesExt, NetworkExt, StorageExt};
pub use operation::{Operation, PollResult, Poller, Progress, WaitOptions};
pub use paging::{ListOptions, Page, PageToken};
pub use provider::{
    ByteStream, Compute, ImageData, Images, ItemStream, Network, Provider, ProviderInfo,
    ProviderKind, Storage,
};

/// Re-exported so backends and test harnesses use the same versions.
pub use async_trait::async_trait;
pub use bytes;
pub use futures;
