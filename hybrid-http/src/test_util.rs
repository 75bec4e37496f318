//! Helpers for tests of hybrid-http and of the backends built on it (feature
//! `test-util`): a [`LogCapture`] that records every `tracing` line, for asserting
//! what is and is not logged (secret hygiene, warnings).

use std::sync::{Arc, Mutex, PoisonError};

/// Records everything logged through `tracing` while its guard is installed.
///
/// ```
/// use hybrid_http::test_util::LogCapture;
/// let logs = LogCapture::default();
/// {
///     let _guard = logs.install(tracing::Level::TRACE);
///     tracing::warn!(target: "demo", "careful");
/// }
/// assert!(logs.text().contains("careful"));
/// ```
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::fmt::Debug for LogCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogCapture")
            .field("bytes", &self.lock().len())
            .finish()
    }
}

impl LogCapture {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // A test that panicked while logging leaves the lines it wrote: keep them.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything captured so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// Installs a subscriber that writes every event up to `level` (without colours)
    /// into this capture, as the default for the current thread until the returned
    /// guard drops. Use a current-thread runtime so that every task logs here.
    pub fn install(&self, level: tracing::Level) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(self.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
