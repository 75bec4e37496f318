//! Conveniences over the domain traits: find by name, collect, wait for a state.
//!
//! Implemented for every `Compute`, `Network`, `Storage` and `Images` (including
//! `dyn` ones), so `provider.compute().find_server("web-1")` just works.

use std::time::Duration;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};

use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::operation::{poll_until_done, PollResult, Poller, Progress, WaitOptions};
use crate::paging::ListOptions;
use crate::provider::{Compute, Images, Network, Storage};

fn one<T>(mut found: Vec<T>, what: &str, name: &str) -> Result<Option<T>> {
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        n => Err(Error::new(
            ErrorKind::Conflict,
            format!("{n} {what}s are named {name:?}; use the id"),
        )),
    }
}

/// A poller over a borrowed `get`: ready when `done` accepts the value.
struct Until<G, D> {
    get: G,
    done: D,
}

#[async_trait]
impl<T, G, Fut, D> Poller<T> for Until<G, D>
where
    T: Send,
    G: FnMut() -> Fut + Send,
    Fut: std::future::Future<Output = Result<T>> + Send,
    D: Fn(&T) -> bool + Send,
{
    async fn poll(&mut self) -> Result<PollResult<T>> {
        let v = (self.get)().await?;
        Ok(if (self.done)(&v) {
            PollResult::Ready(v)
        } else {
            PollResult::Pending(Progress::default())
        })
    }
}

/// Polls `get` until `done` accepts the value, on the same loop as [`Operation`](crate::Operation)s.
async fn wait_until<T, G, Fut>(
    what: String,
    opts: WaitOptions,
    get: G,
    done: impl Fn(&T) -> bool + Send,
) -> Result<T>
where
    T: Send,
    G: FnMut() -> Fut + Send,
    Fut: std::future::Future<Output = Result<T>> + Send,
{
    let mut until = Until { get, done };
    poll_until_done(&what, None, opts, None, &mut until).await
}

/// Compute conveniences.
#[async_trait]
pub trait ComputeExt: Compute {
    /// The server named exactly `name`, if there is one.
    ///
    /// # Errors
    /// `Conflict` when several servers share the name; list errors.
    async fn find_server(&self, name: &str) -> Result<Option<Server>> {
        let found: Vec<Server> = self
            .list_servers(ListOptions::new().with_name(name))
            .try_filter(|s| futures::future::ready(s.name == name))
            .try_collect()
            .await?;
        one(found, "server", name)
    }

    /// Every server matching `options`, collected.
    ///
    /// # Errors
    /// The first list error.
    async fn collect_servers(&self, options: ListOptions) -> Result<Vec<Server>> {
        self.list_servers(options).try_collect().await
    }

    /// The number of servers matching `options`, counted without keeping them.
    ///
    /// # Errors
    /// The first list error.
    async fn count_servers(&self, options: ListOptions) -> Result<usize> {
        self.list_servers(options)
            .try_fold(0usize, |n, _| futures::future::ready(Ok(n + 1)))
            .await
    }

    /// Waits until server `id` has `status`.
    ///
    /// # Errors
    /// `Timeout`; `OperationFailed` when it goes to `ERROR` instead; `get_server` errors.
    async fn wait_for_server(
        &self,
        id: &ServerId,
        status: ServerStatus,
        timeout: Duration,
    ) -> Result<Server> {
        let opts = WaitOptions {
            timeout,
            ..WaitOptions::default()
        };
        let s = wait_until(
            format!("server {id} to be {status}"),
            opts,
            || self.get_server(id),
            |s: &Server| s.status == status || s.status == ServerStatus::Error,
        )
        .await?;
        if s.status != status {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                format!("server {id} went to ERROR"),
            ));
        }
        Ok(s)
    }

    /// The flavor named exactly `name`.
    ///
    /// # Errors
    /// `Conflict` when ambiguous; list errors.
    async fn find_flavor(&self, name: &str) -> Result<Option<Flavor>> {
        let found: Vec<Flavor> = self
            .list_flavors(ListOptions::new().with_name(name))
            .try_filter(|f| futures::future::ready(f.name == name))
            .try_collect()
            .await?;
        one(found, "flavor", name)
    }

    /// The smallest flavor (fewest vCPUs, then least memory, then smallest disk) with at
    /// least the given resources.
    ///
    /// # Errors
    /// List errors.
    async fn smallest_flavor(
        &self,
        vcpus: u32,
        ram_mib: u64,
        disk_gib: u64,
    ) -> Result<Option<Flavor>> {
        let fits: Vec<Flavor> = self
            .list_flavors(ListOptions::new())
            .try_filter(|f| {
                futures::future::ready(
                    f.vcpus >= vcpus
                        && f.ram_mib >= ram_mib
                        && (f.disk_gib == 0 || f.disk_gib >= disk_gib),
                )
            })
            .try_collect()
            .await?;
        Ok(fits
            .into_iter()
            .min_by_key(|f| (f.vcpus, f.ram_mib, f.disk_gib)))
    }
}

impl<T: Compute + ?Sized> ComputeExt for T {}

/// Network conveniences.
#[async_trait]
pub trait NetworkExt: Network {
    /// The network named exactly `name`.
    ///
    /// # Errors
    /// `Conflict` when ambiguous; list errors.
    async fn find_network(&self, name: &str) -> Result<Option<crate::model::Network>> {
        let found: Vec<crate::model::Network> = self
            .list_networks(ListOptions::new().with_name(name))
            .try_filter(|n| futures::future::ready(n.name == name))
            .try_collect()
            .await?;
        one(found, "network", name)
    }

    /// The security group named exactly `name`.
    ///
    /// # Errors
    /// `Conflict` when ambiguous; list errors (`Unsupported` where there are none).
    async fn find_security_group(&self, name: &str) -> Result<Option<SecurityGroup>> {
        let found: Vec<SecurityGroup> = self
            .list_security_groups(ListOptions::new().with_name(name))
            .try_filter(|g| futures::future::ready(g.name == name))
            .try_collect()
            .await?;
        one(found, "security group", name)
    }
}

impl<T: Network + ?Sized> NetworkExt for T {}

/// Storage conveniences.
#[async_trait]
pub trait StorageExt: Storage {
    /// The volume named exactly `name`.
    ///
    /// # Errors
    /// `Conflict` when ambiguous; list errors.
    async fn find_volume(&self, name: &str) -> Result<Option<Volume>> {
        let found: Vec<Volume> = self
            .list_volumes(ListOptions::new().with_name(name))
            .try_filter(|v| futures::future::ready(v.name == name))
            .try_collect()
            .await?;
        one(found, "volume", name)
    }

    /// Waits until volume `id` has `status`.
    ///
    /// # Errors
    /// `Timeout`; `OperationFailed` when it goes to `error` instead; `get_volume` errors.
    async fn wait_for_volume(
        &self,
        id: &VolumeId,
        status: VolumeStatus,
        timeout: Duration,
    ) -> Result<Volume> {
        let opts = WaitOptions {
            timeout,
            ..WaitOptions::default()
        };
        let v = wait_until(
            format!("volume {id} to be {status}"),
            opts,
            || self.get_volume(id),
            |v: &Volume| v.status == status || v.status == VolumeStatus::Error,
        )
        .await?;
        if v.status != status {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                format!("volume {id} went to error"),
            ));
        }
        Ok(v)
    }
}

impl<T: Storage + ?Sized> StorageExt for T {}

/// Image conveniences.
#[async_trait]
pub trait ImagesExt: Images {
    /// The image named exactly `name`.
    ///
    /// # Errors
    /// `Conflict` when ambiguous; list errors.
    async fn find_image(&self, name: &str) -> Result<Option<Image>> {
        let found: Vec<Image> = self
            .list_images(ListOptions::new().with_name(name))
            .try_filter(|i| futures::future::ready(i.name == name))
            .try_collect()
            .await?;
        one(found, "image", name)
    }

    /// Downloads an image into memory, refusing more than `max_bytes`.
    ///
    /// # Errors
    /// `download_image` errors; `InvalidResponse` when the data exceeds `max_bytes`.
    async fn download_image_to_vec(&self, id: &ImageId, max_bytes: u64) -> Result<Vec<u8>> {
        let mut stream = self.download_image(id).await?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if (out.len() + chunk.len()) as u64 > max_bytes {
                return Err(Error::new(
                    ErrorKind::InvalidResponse,
                    format!("image {id} is larger than the {max_bytes} bytes allowed"),
                ));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

impl<T: Images + ?Sized> ImagesExt for T {}
