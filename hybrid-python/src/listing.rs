//! Lists as Python iterators and async iterators that fetch one page at a time, and
//! single resumable pages.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use futures::future::BoxFuture;
use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;
use pyo3::types::PyList;

use hybrid::{Error, ErrorKind, ListOptions, Page, PageToken};

use crate::convert::ToPy;
use crate::errors::to_pyerr;
use crate::rt::block_on;

/// The filters of every `list_*` method.
pub(crate) fn list_options(
    name: Option<String>,
    tags: Option<Vec<String>>,
    page_size: Option<u32>,
    filters: Option<BTreeMap<String, String>>,
) -> ListOptions {
    ListOptions {
        name,
        tags: tags.unwrap_or_default(),
        page_size,
        filters: filters.unwrap_or_default(),
    }
}

/// Items of one fetched page, converted to Python one at a time.
pub(crate) trait PageItems: Send + Sync {
    /// The next item as a Python object, `None` when the page is used up.
    fn pop_py<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>>;
}

impl<T: ToPy + Send + Sync> PageItems for VecDeque<T> {
    fn pop_py<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.pop_front() {
            Some(item) => item.to_py(py).map(Some),
            None => Ok(None),
        }
    }
}

/// One fetched page, type-erased.
pub(crate) struct ErasedPage {
    items: Box<dyn PageItems>,
    next: Option<PageToken>,
}

/// Fetches the page at a token.
pub(crate) type Fetch =
    Arc<dyn Fn(Option<PageToken>) -> BoxFuture<'static, hybrid::Result<ErasedPage>> + Send + Sync>;

/// A [`Fetch`] from a function returning typed pages.
pub(crate) fn fetcher<T, F, Fut>(f: F) -> Fetch
where
    T: ToPy + Send + Sync + 'static,
    F: Fn(Option<PageToken>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = hybrid::Result<Page<T>>> + Send + 'static,
{
    Arc::new(move |token| {
        let fut = f(token);
        Box::pin(async move {
            let page = fut.await?;
            Ok(ErasedPage {
                items: Box::new(VecDeque::from(page.items)),
                next: page.next,
            })
        })
    })
}

/// Where a listing stands.
struct ListState {
    fetch: Fetch,
    buffer: Option<Box<dyn PageItems>>,
    /// The token of the next page; `None` before the first page and after the last.
    next: Option<PageToken>,
    started: bool,
    done: bool,
}

impl ListState {
    fn new(fetch: Fetch) -> ListState {
        ListState {
            fetch,
            buffer: None,
            next: None,
            started: false,
            done: false,
        }
    }

    /// The request for the next page (owning everything it needs).
    fn request(&self) -> BoxFuture<'static, hybrid::Result<ErasedPage>> {
        (self.fetch)(self.next.clone())
    }

    /// Takes a fetched page in; a page that hands back the token it was fetched with
    /// would loop forever, and ends the listing with `InvalidResponse`.
    fn accept(&mut self, result: hybrid::Result<ErasedPage>) -> hybrid::Result<()> {
        self.started = true;
        match result {
            Ok(page) => {
                if page.next.is_some() && page.next == self.next {
                    self.done = true;
                    self.buffer = None;
                    return Err(Error::new(
                        ErrorKind::InvalidResponse,
                        "pagination did not advance: the service returned the same page token again",
                    ));
                }
                self.done = page.next.is_none();
                self.next = page.next;
                self.buffer = Some(page.items);
                Ok(())
            }
            Err(e) => {
                self.done = true;
                self.buffer = None;
                Err(e)
            }
        }
    }

    fn pop<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.buffer.as_mut() {
            Some(b) => b.pop_py(py),
            None => Ok(None),
        }
    }

    fn exhausted(&self) -> bool {
        self.started && self.done
    }
}

/// An iterator over a listing: the first page is fetched on the first `next()`, each
/// further page only when the previous one is used up, with the GIL released while
/// the request runs. An error is raised once; the iterator then ends. One iterator
/// belongs to one thread at a time (another thread's `next()` during a fetch raises
/// `RuntimeError`).
#[pyclass(name = "ListIterator", module = "hybrid")]
pub(crate) struct PyListIterator {
    state: ListState,
}

impl PyListIterator {
    pub(crate) fn new(fetch: Fetch) -> PyListIterator {
        PyListIterator {
            state: ListState::new(fetch),
        }
    }
}

#[pymethods]
impl PyListIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loop {
            if let Some(item) = self.state.pop(py)? {
                return Ok(Some(item));
            }
            if self.state.exhausted() {
                return Ok(None);
            }
            let request = self.state.request();
            let result = block_on(py, async move { Ok(request.await) })?;
            self.state.accept(result).map_err(|e| to_pyerr(py, e))?;
        }
    }

    /// Whether the last page has been fetched (its items may still be pending).
    #[getter]
    fn exhausted(&self) -> bool {
        self.state.exhausted()
    }
}

/// An async iterator over a listing (`async for`): pages are fetched on the tokio
/// runtime one at a time, when the previous page is used up; items of a fetched page
/// are handed out without a round trip through the event loop.
#[pyclass(frozen, name = "AsyncListIterator", module = "hybrid")]
pub(crate) struct PyAsyncListIterator {
    state: Arc<tokio::sync::Mutex<ListState>>,
}

impl PyAsyncListIterator {
    pub(crate) fn new(fetch: Fetch) -> PyAsyncListIterator {
        PyAsyncListIterator {
            state: Arc::new(tokio::sync::Mutex::new(ListState::new(fetch))),
        }
    }
}

#[pymethods]
impl PyAsyncListIterator {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        // Fast path: an item of the current page, as an already finished awaitable.
        if let Ok(mut st) = self.state.try_lock() {
            if let Some(item) = st.pop(py)? {
                return Ok(Some(Bound::new(py, Ready(Some(item.unbind())))?.into_any()));
            }
            if st.exhausted() {
                return Ok(None);
            }
        }
        let state = self.state.clone();
        let fut = async move {
            let mut st = state.lock().await;
            loop {
                let item = Python::attach(|py| st.pop(py).map(|o| o.map(Bound::unbind)))?;
                if let Some(item) = item {
                    return Ok(item);
                }
                if st.exhausted() {
                    return Err(PyStopAsyncIteration::new_err(()));
                }
                let result = st.request().await;
                st.accept(result)
                    .map_err(|e| Python::attach(|py| to_pyerr(py, e)))?;
            }
        };
        pyo3_async_runtimes::tokio::future_into_py(py, fut).map(Some)
    }
}

/// An awaitable that is already done: `await` returns its value at once.
#[pyclass(name = "_Ready", module = "hybrid")]
pub(crate) struct Ready(Option<Py<PyAny>>);

impl Ready {
    /// An awaitable that returns `value`.
    pub(crate) fn new(value: Py<PyAny>) -> Ready {
        Ready(Some(value))
    }
}

#[pymethods]
impl Ready {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<()> {
        let value = self.0.take().unwrap_or_else(|| py.None());
        Err(PyStopIteration::new_err((value,)))
    }
}

/// One page of a listing: `items`, and `next_token` to pass back for the next page
/// (`None` on the last page). Tokens are plain strings and stay valid across processes
/// as long as the service keeps them.
#[pyclass(frozen, name = "Page", module = "hybrid")]
pub(crate) struct PyPage {
    items: Py<PyList>,
    next: Option<String>,
}

#[pymethods]
impl PyPage {
    /// The items, in the provider's order.
    #[getter]
    fn items(&self, py: Python<'_>) -> Py<PyList> {
        self.items.clone_ref(py)
    }

    /// The token of the next page, `None` on the last page.
    #[getter]
    fn next_token(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// Whether more pages follow.
    #[getter]
    fn has_next(&self) -> bool {
        self.next.is_some()
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.items.bind(py).len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.items.bind(py).try_iter().map(Bound::into_any)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Page(items=<{} items>, next_token={})",
            self.items.bind(py).len(),
            crate::convert::opt_pyq(self.next.as_deref())
        )
    }
}

/// A typed page on its way to Python.
pub(crate) struct PageOut<T>(pub(crate) Page<T>);

impl<'py, T: ToPy> IntoPyObject<'py> for PageOut<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let list = PyList::empty(py);
        for item in &self.0.items {
            list.append(item.to_py(py)?)?;
        }
        let page = PyPage {
            items: list.unbind(),
            next: self.0.next.map(|t| t.as_str().to_owned()),
        };
        Ok(Bound::new(py, page)?.into_any())
    }
}

/// A page token from its string form.
pub(crate) fn token(t: Option<String>) -> Option<PageToken> {
    t.map(PageToken::new)
}

/// Declares the [`Fetch`] builders of a domain class: `fn servers => compute.list_servers_page;`.
macro_rules! fetchers {
    (impl $ty:ty { $( fn $name:ident => $domain:ident . $page:ident; )* }) => {
        impl $ty {
            $(
                fn $name(&self, opts: hybrid::ListOptions) -> $crate::listing::Fetch {
                    let p = self.p.clone();
                    $crate::listing::fetcher(move |t| {
                        let p = p.clone();
                        let o = opts.clone();
                        async move { p.$domain().$page(&o, t).await }
                    })
                }
            )*
        }
    };
}
pub(crate) use fetchers;
