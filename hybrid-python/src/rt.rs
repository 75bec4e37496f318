//! Running hybrid's futures from Python: blocking with the thread detached from the
//! interpreter (sync methods), or as asyncio awaitables (the `a*` twins). Both run on
//! the one tokio runtime of pyo3-async-runtimes.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;

use crate::errors::to_pyerr;

/// How often a blocking call re-attaches to look for Ctrl-C.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// The shared tokio runtime.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Runs `fut` to completion with this thread detached from Python (other Python
/// threads run meanwhile). Every 100 ms it re-attaches to check for signals, so Ctrl-C
/// cancels the call (the future is dropped) and raises `KeyboardInterrupt`.
pub(crate) fn block_on<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    T: Send,
    F: Future<Output = hybrid::Result<T>> + Send,
{
    let out = py.detach(|| {
        runtime().block_on(async {
            let mut fut = std::pin::pin!(fut);
            loop {
                match tokio::time::timeout(SIGNAL_CHECK, fut.as_mut()).await {
                    Ok(result) => return Ok(result),
                    Err(_) => Python::attach(|py| py.check_signals())?,
                }
            }
        })
    });
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(py, e)),
        Err(interrupted) => Err(interrupted),
    }
}

/// `fut` as an asyncio awaitable running on the tokio runtime. Cancelling the
/// awaitable drops the future.
pub(crate) fn spawn<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    F: Future<Output = hybrid::Result<T>> + Send + 'static,
{
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        fut.await.map_err(|e| Python::attach(|py| to_pyerr(py, e)))
    })
}

/// Declares a `#[pymethods]` block in which every method has a blocking form and an
/// asyncio twin prefixed with `a`, from one body that builds the future (a `plain { }`
/// block at the end holds the class's other methods: PyO3 takes one `#[pymethods]`
/// block per class):
///
/// ```ignore
/// twins! {
///     impl PyCompute {
///         /// Gets one server.
///         #[pyo3(signature = (id))]
///         fn get_server / aget_server (&self, py, id: String) -> PyServer {
///             let p = self.provider();
///             async move { Ok(PyServer(p.compute().get_server(&id.into()).await?)) }
///         }
///     }
/// }
/// ```
macro_rules! twins {
    (
        impl $ty:ty {
            $(
                $(#[doc = $doc:literal])*
                #[pyo3(signature = ($($sig:tt)*))]
                fn $sync:ident / $async:ident (&$self:ident, $py:ident $(, $arg:ident : $argty:ty)* $(,)?) -> $out:ty $body:block
            )*
            $(lists { $( $(#[doc = $ldoc:literal])* fn $lsync:ident / $lasync:ident => $fetch:ident; )* })?
            $(plain { $($plain:tt)* })?
        }
    ) => {
        #[pymethods]
        impl $ty {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("Blocks until done, with the GIL released; `", stringify!($async), "` is the asyncio twin.")]
                #[pyo3(signature = ($($sig)*))]
                // Python keyword signatures: one Rust argument per keyword.
                #[allow(clippy::too_many_arguments)]
                fn $sync(&$self, $py: Python<'_> $(, $arg: $argty)*) -> PyResult<$out> {
                    let fut = $body;
                    $crate::rt::block_on($py, fut)
                }

                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("The asyncio twin of `", stringify!($sync), "`: returns an awaitable.")]
                #[pyo3(signature = ($($sig)*))]
                #[allow(clippy::too_many_arguments)]
                fn $async<'py>(&$self, $py: Python<'py> $(, $arg: $argty)*) -> PyResult<Bound<'py, PyAny>> {
                    let fut = $body;
                    $crate::rt::spawn::<$out, _>($py, fut)
                }
            )*
            $($(
                $(#[doc = $ldoc])*
                #[doc = ""]
                #[doc = "Lazy: an iterator that fetches one page at a time when the previous one is used"]
                #[doc = "up, with the GIL released during each request. Filters: `name` (exact), `tags`"]
                #[doc = "(every one of them), `page_size` (a request; the service may cap it), `filters`"]
                #[doc = "(backend-specific query parameters)."]
                #[doc = concat!("`", stringify!($lasync), "` is the asyncio twin (an async iterator).")]
                #[pyo3(signature = (*, name=None, tags=None, page_size=None, filters=None))]
                fn $lsync(
                    &self,
                    name: Option<String>,
                    tags: Option<Vec<String>>,
                    page_size: Option<u32>,
                    filters: Option<std::collections::BTreeMap<String, String>>,
                ) -> $crate::listing::PyListIterator {
                    $crate::listing::PyListIterator::new(
                        self.$fetch($crate::listing::list_options(name, tags, page_size, filters)),
                    )
                }

                $(#[doc = $ldoc])*
                #[doc = ""]
                #[doc = concat!("The asyncio twin of `", stringify!($lsync), "`: an async iterator (`async for`)")]
                #[doc = "that fetches one page at a time on the tokio runtime."]
                #[pyo3(signature = (*, name=None, tags=None, page_size=None, filters=None))]
                fn $lasync(
                    &self,
                    name: Option<String>,
                    tags: Option<Vec<String>>,
                    page_size: Option<u32>,
                    filters: Option<std::collections::BTreeMap<String, String>>,
                ) -> $crate::listing::PyAsyncListIterator {
                    $crate::listing::PyAsyncListIterator::new(
                        self.$fetch($crate::listing::list_options(name, tags, page_size, filters)),
                    )
                }
            )*)?
            $($($plain)*)?
        }
    };
}
pub(crate) use twins;
