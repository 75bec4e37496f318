//! Scenario `image`: a Glance image upload and download of S MiB (1 GiB by default),
//! streamed in 64 KiB chunks, each side in its own child process (the fake in another),
//! reporting the peak RSS above what the process held before the transfer, CPU and
//! throughput.

use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use hybrid_core::model::{CreateImage, ImageId};
use hybrid_core::provider::ImageData;

use crate::measure::{self, cpu_time, median, ms};
use crate::os_client;
use crate::procs::{self, FakeProcess};
use crate::raw_os::RawOs;
use crate::Settings;

/// The size of the chunks the caller streams.
pub(crate) const CHUNK: usize = 64 * 1024;

/// `size` bytes in chunks of [`CHUNK`], all slices of one shared buffer (no allocation
/// per chunk, as a reader from a file or another stream would hand them over).
fn data(
    size: u64,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static {
    let chunk = Bytes::from(vec![0xa5_u8; CHUNK]);
    futures::stream::unfold(0u64, move |sent| {
        let chunk = chunk.clone();
        async move {
            if sent >= size {
                return None;
            }
            let take = (size - sent).min(CHUNK as u64) as usize;
            Some((Ok(chunk.slice(..take)), sent + take as u64))
        }
    })
}

/// `e2e child image-openstack --impl hybrid|raw --url URL --bytes N`: uploads, then
/// downloads, reporting the peak RSS over each phase.
pub(crate) async fn child(args: &[String]) -> Result<(), String> {
    let side: String = procs::flag(args, "--impl").ok_or("--impl")?;
    let url: String = procs::flag(args, "--url").ok_or("--url")?;
    let size: u64 = procs::flag(args, "--bytes").ok_or("--bytes")?;
    let before;
    let (up_ms, up_cpu, up_peak, down_ms, down_cpu, down_peak, got);
    match side.as_str() {
        "hybrid" => {
            let p = os_client::connect(&url).await?;
            before = measure::rss_kib();
            measure::reset_peak_rss();
            let (t, c) = (Instant::now(), cpu_time());
            let spec = CreateImage::new("bench-image", "raw", "bare");
            let stream = data(size)
                .map(|c| {
                    c.map_err(|e| {
                        hybrid_core::Error::new(hybrid_core::ErrorKind::Transport, e.to_string())
                    })
                })
                .boxed();
            let op = p
                .images()
                .create_image(
                    &spec,
                    ImageData::Upload {
                        stream,
                        size: Some(size),
                    },
                )
                .await
                .map_err(|e| e.to_string())?;
            let image = op.await.map_err(|e| e.to_string())?;
            up_ms = ms(t.elapsed());
            up_cpu = ms(cpu_time() - c);
            up_peak = measure::peak_rss_kib();
            measure::reset_peak_rss();
            let (t, c) = (Instant::now(), cpu_time());
            let mut s = p
                .images()
                .download_image(&image.id)
                .await
                .map_err(|e| e.to_string())?;
            let mut n = 0u64;
            while let Some(chunk) = s.next().await {
                n += chunk.map_err(|e| e.to_string())?.len() as u64;
            }
            down_ms = ms(t.elapsed());
            down_cpu = ms(cpu_time() - c);
            down_peak = measure::peak_rss_kib();
            got = n;
            let _ = p
                .images()
                .delete_image(&ImageId::new(image.id.as_str()))
                .await;
        }
        "raw" => {
            let raw = RawOs::connect(&format!("{url}/identity/v3")).await?;
            before = measure::rss_kib();
            measure::reset_peak_rss();
            let (t, c) = (Instant::now(), cpu_time());
            let id = raw.upload_image("bench-image", data(size), size).await?;
            up_ms = ms(t.elapsed());
            up_cpu = ms(cpu_time() - c);
            up_peak = measure::peak_rss_kib();
            measure::reset_peak_rss();
            let (t, c) = (Instant::now(), cpu_time());
            got = raw.download_image(&id, |_| {}).await?;
            down_ms = ms(t.elapsed());
            down_cpu = ms(cpu_time() - c);
            down_peak = measure::peak_rss_kib();
            raw.delete_image(&id).await?;
        }
        other => return Err(format!("--impl {other:?}")),
    }
    if got != size {
        return Err(format!("downloaded {got} bytes of {size}"));
    }
    println!(
        "before_kib={before} up_ms={up_ms:.1} up_cpu_ms={up_cpu:.1} up_peak_kib={up_peak} down_ms={down_ms:.1} down_cpu_ms={down_cpu:.1} down_peak_kib={down_peak}"
    );
    Ok(())
}

pub(crate) async fn run(settings: &Settings) -> Result<(), String> {
    let size = settings.image_mib * 1024 * 1024;
    let fake = FakeProcess::start(&["openstack".into()])?;
    let reps = settings.reps.min(3);
    let mut rows = Vec::new();
    for side in ["hybrid", "raw"] {
        let mut runs = Vec::new();
        for _ in 0..reps {
            let kv = procs::run_child(&[
                "image-openstack".into(),
                "--impl".into(),
                side.into(),
                "--url".into(),
                fake.url.clone(),
                "--bytes".into(),
                size.to_string(),
            ])?;
            runs.push(kv);
        }
        let m = |key: &str| -> Result<f64, String> {
            let xs = runs
                .iter()
                .map(|kv| procs::get::<f64>(kv, key))
                .collect::<Result<Vec<f64>, String>>()?;
            Ok(median(&xs))
        };
        rows.push((
            side,
            m("before_kib")?,
            m("up_ms")?,
            m("up_cpu_ms")?,
            m("up_peak_kib")?,
            m("down_ms")?,
            m("down_cpu_ms")?,
            m("down_peak_kib")?,
        ));
    }
    let stats = fake.stats().await?;
    println!(
        "## image: {} MiB uploaded to Glance and downloaded, streamed in {} KiB chunks (medians of {reps} runs, each in its own process)\n",
        settings.image_mib,
        CHUNK / 1024
    );
    println!("| side | RSS before | upload: time, CPU, MiB/s | upload: peak RSS above before | download: time, CPU, MiB/s | download: peak RSS above before |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mib = settings.image_mib as f64;
    for (side, before, up, upc, upp, down, downc, downp) in &rows {
        println!(
            "| {side} | {:.1} MiB | {:.0} ms, {:.0} ms, {:.0} | {:.2} MiB | {:.0} ms, {:.0} ms, {:.0} | {:.2} MiB |",
            before / 1024.0,
            up,
            upc,
            mib / (up / 1e3),
            (upp - before) / 1024.0,
            down,
            downc,
            mib / (down / 1e3),
            (downp - before) / 1024.0,
        );
    }
    println!(
        "\nThe fake received {} MiB and sent {} MiB in all.\n",
        stats["uploaded"].as_u64().unwrap_or(0) / (1024 * 1024),
        stats["downloaded"].as_u64().unwrap_or(0) / (1024 * 1024)
    );
    Ok(())
}
