//! Processes: fakes served from a child process (so that their CPU and memory are not
//! counted as the client's), and one-shot measured clients in child processes (so that
//! the peak RSS of one run is not polluted by the fake or by another run).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A fake served by a child process of this binary; killed when dropped.
pub(crate) struct FakeProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
    http: reqwest::Client,
}

impl FakeProcess {
    /// Starts `e2e serve <args>` and waits for the address it prints.
    pub(crate) fn start(args: &[String]) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .arg("serve")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the fake: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let url = line
            .trim()
            .strip_prefix("LISTEN ")
            .ok_or_else(|| format!("the fake said {line:?}"))?
            .to_owned();
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(FakeProcess { child, url, http })
    }

    /// The fake's counters (`GET /_bench/stats`).
    pub(crate) async fn stats(&self) -> Result<Value, String> {
        let r = self
            .http
            .get(format!("{}/_bench/stats", self.url))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let b = r.bytes().await.map_err(|e| e.to_string())?;
        serde_json::from_slice(&b).map_err(|e| e.to_string())
    }

    /// Zeroes the fake's counters (`POST /_bench/reset`).
    pub(crate) async fn reset(&self) -> Result<(), String> {
        self.http
            .post(format!("{}/_bench/reset", self.url))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl Drop for FakeProcess {
    fn drop(&mut self) {
        // Closing its standard input ends it; kill it in case it does not listen.
        drop(self.child.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `e2e child <args>` and returns the `key=value` pairs of its last line.
pub(crate) fn run_child(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg("child")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start the child: {e}"))?;
    if !out.status.success() {
        return Err(format!("child {args:?} failed: {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("");
    Ok(last
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// The value of `key` among `pairs`, parsed.
pub(crate) fn get<T: std::str::FromStr>(
    pairs: &[(String, String)],
    key: &str,
) -> Result<T, String> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| format!("the child reported no {key}"))
}

/// `--name value` from `args`.
pub(crate) fn flag<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// `e2e serve KIND ...`: serves a fake, prints `LISTEN <url>`, and stops when standard
/// input closes.
pub(crate) fn serve_main(args: &[String]) -> Result<(), String> {
    let kind = args.first().ok_or("serve what?")?.clone();
    let latency = Duration::from_millis(flag(args, "--latency-ms").unwrap_or(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let running = match kind.as_str() {
            "openstack" => {
                let cfg = crate::fake_os::Config {
                    servers: flag(args, "--servers").unwrap_or(0),
                    max_limit: flag(args, "--max-limit").unwrap_or(1000),
                    build_time: Duration::from_millis(flag(args, "--build-ms").unwrap_or(2000)),
                    delete_time: Duration::from_millis(flag(args, "--delete-ms").unwrap_or(1000)),
                };
                crate::fake_os::start(cfg, 0, latency)
                    .await
                    .map_err(|e| e.to_string())?
                    .0
            }
            "azure" => {
                crate::fake_arm::start(flag(args, "--servers").unwrap_or(0), latency)
                    .await
                    .map_err(|e| e.to_string())?
                    .0
            }
            other => return Err(format!("no fake called {other:?}")),
        };
        println!("LISTEN {}", running.url());
        // Until the parent closes our standard input.
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await
        .map_err(|e| e.to_string())?;
        drop(running);
        Ok(())
    })
}

/// `e2e child TASK ...`: one measured client run; prints `key=value` pairs.
pub(crate) fn child_main(args: &[String]) -> Result<(), String> {
    let task = args.first().ok_or("child what?")?.clone();
    let rt = crate::runtime();
    rt.block_on(async move {
        match task.as_str() {
            "list-openstack" => crate::scen_list::child(args).await,
            "image-openstack" => crate::scen_image::child(args).await,
            "list-azure" => crate::scen_azure::child(args).await,
            other => Err(format!("no child task {other:?}")),
        }
    })
}
