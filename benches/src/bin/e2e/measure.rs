//! What a run costs: wall time, CPU time of this process, peak RSS; and the small
//! statistics the report needs.

use std::time::{Duration, Instant};

/// CPU time (user + system, every thread) this process has used so far.
pub(crate) fn cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// A field of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`).
pub(crate) fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    field_kib(&status, field)
}

/// A field in KiB of the text of a `/proc/<pid>/status`.
fn field_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// Peak resident set size of this process so far, in KiB.
pub(crate) fn peak_rss_kib() -> u64 {
    status_kib("VmHWM").unwrap_or(0)
}

/// Resets the peak RSS to the current RSS (`/proc/self/clear_refs`, Linux 4.0+), so that
/// [`peak_rss_kib`] then reports the peak of what follows. Returns whether it worked.
pub(crate) fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Resident set size now, in KiB.
pub(crate) fn rss_kib() -> u64 {
    status_kib("VmRSS").unwrap_or(0)
}

/// Wall and CPU time of one run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cost {
    pub(crate) wall: Duration,
    pub(crate) cpu: Duration,
}

/// Measures `f` (an async run) in wall and process CPU time.
pub(crate) async fn measure<F, T>(f: F) -> (Cost, T)
where
    F: std::future::Future<Output = T>,
{
    let c0 = cpu_time();
    let t0 = Instant::now();
    let out = f.await;
    let wall = t0.elapsed();
    let cpu = cpu_time().saturating_sub(c0);
    (Cost { wall, cpu }, out)
}

/// The median of `xs` (the mean of the middle two for an even count).
pub(crate) fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Milliseconds of a duration.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn cpu_time_advances_with_work_and_rss_is_read() {
        let c0 = cpu_time();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_time() > c0);
        assert!(peak_rss_kib() > 0);
        assert!(rss_kib() > 0);
        // From one read: other tests allocate between two reads.
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let (hwm, rss) = (
            field_kib(&status, "VmHWM").unwrap(),
            field_kib(&status, "VmRSS").unwrap(),
        );
        assert!(hwm >= rss && rss > 0, "VmHWM {hwm} < VmRSS {rss}");
        assert_eq!(field_kib("VmRSS:\t  1234 kB\n", "VmRSS"), Some(1234));
        assert_eq!(field_kib("VmRSSX:\t1 kB\n", "VmRSS"), None);
    }
}
