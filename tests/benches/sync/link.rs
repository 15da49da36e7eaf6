//! (b) attachments through a 4 Mbit/s link with a TCP reset every 3 MB.

use super::measure::*;
use super::*;

pub(crate) struct UploadRun {
    pub(crate) useful: u64,
    pub(crate) timed: Timed,
    pub(crate) upload: Span,
}

/// Captures `k` records with one 2 MB scan each and syncs them under `faults`.
pub(crate) fn upload_run(s: &Scenario, k: usize, faults: Faults) -> UploadRun {
    let mut session = s.kit.session();
    let ids = capture_in(&mut session, k, SCAN_BYTES);
    let useful: u64 = ids
        .iter()
        .flat_map(|id| session.record_attachments(id).expect("attachments"))
        .map(|a| a.ciphertext_size)
        .sum();
    s.proxy.set_faults(faults);
    s.proxy.reset_stats();
    let timed = timed_sync(&mut session, &s.proxy, backend_pid(s.backend.data_dir()));
    s.proxy.set_faults(Faults::default());
    drop(session);
    let r = &timed.report;
    assert_eq!(r.delivered, k as u64, "{r:?}");
    assert_eq!((r.pending, r.uploads_open), (0, 0), "{r:?}");
    let upload = timed.span(Phase::Upload).expect("an upload phase");
    UploadRun {
        useful,
        timed,
        upload,
    }
}

pub(crate) fn bench_b(k: usize) {
    let load_before = load();
    let s = Scenario::new();
    let paced = Faults {
        bandwidth_bytes_per_sec: Some(LINK_RATE),
        ..Faults::default()
    };
    let clean = upload_run(&s, k, paced.clone());
    let faulted = upload_run(
        &s,
        k,
        Faults {
            reset_every_upstream_bytes: Some(RESET_EVERY),
            ..paced
        },
    );
    let settled = assert_exactly_once(
        &s.kit,
        &fieldkit_backend::config::DatabaseUrl::embedded(s.backend.data_dir()),
        s.backend.data_dir(),
    );
    let chunk = SyncOptions::default().chunk_size as u64;
    let rate = LINK_RATE as f64;
    let goodput = |u: &UploadRun| u.useful as f64 / secs(u.upload.wall) / rate;
    // Upstream bytes of the upload phase that were neither attachment bytes nor request
    // overhead of a clean run: partial chunks cut by a reset, and the extra requests.
    let clean_overhead = clean.upload.proxy_up.saturating_sub(clean.useful);
    let resets = faulted.upload.resets;
    let resent = faulted
        .upload
        .proxy_up
        .saturating_sub(faulted.useful + clean_overhead);
    let per_reset = resent / resets.max(1);
    // The brief's simplest method: everything above the acknowledged bytes outside
    // handshake and push, headers included.
    let before_upload: u64 = [Phase::Handshake, Phase::Push]
        .into_iter()
        .filter_map(|p| faulted.timed.span(p))
        .map(|s| s.proxy_up)
        .sum();
    let total_up =
        faulted.timed.end.proxy.upstream_bytes - faulted.timed.start.proxy.upstream_bytes;
    let total_resets = faulted.timed.end.proxy.resets - faulted.timed.start.proxy.resets;
    let simple = total_up.saturating_sub(faulted.timed.report.bytes_uploaded + before_upload)
        / total_resets.max(1);
    let ideal = Duration::from_secs_f64(faulted.useful as f64 / rate);
    let lost = faulted.upload.wall.saturating_sub(ideal);
    let resend_time = Duration::from_secs_f64(resent as f64 / rate);
    let clean_lost = clean
        .upload
        .wall
        .saturating_sub(Duration::from_secs_f64(clean.useful as f64 / rate));
    println!();
    println!("== (b) attachments through a bad link: {k} x {SCAN_BYTES}-byte scans at {LINK_RATE} B/s, a TCP reset every {RESET_EVERY} upstream bytes (in-process sync, default options: {chunk}-byte chunks, backoff base 1 s) ==");
    println!(
        "  reference (same rate, no resets): {:.2} MB of attachments in {:.2} s -> goodput {:.3} of the link; request overhead {} bytes; {:.2} s above the ideal",
        mb(clean.useful),
        secs(clean.upload.wall),
        goodput(&clean),
        clean_overhead,
        secs(clean_lost)
    );
    println!(
        "  with resets: {:.2} MB of attachments (ciphertext; {} bytes acknowledged) in {:.2} s -> goodput {:.3} of the link (target >= 0.85): {}",
        mb(faulted.useful),
        faulted.timed.report.bytes_uploaded,
        secs(faulted.upload.wall),
        goodput(&faulted),
        verdict(goodput(&faulted) >= 0.85)
    );
    println!(
        "  resent per reset: {per_reset} bytes = {:.2} chunks (target <= 1 chunk = {chunk} bytes): {}  [{resets} resets in the upload phase; resent = upload-phase upstream {} - attachment bytes {} - the clean run's request overhead {}]",
        per_reset as f64 / chunk as f64,
        verdict(per_reset <= chunk),
        faulted.upload.proxy_up,
        faulted.useful,
        clean_overhead
    );
    println!(
        "  (cross-check, headers included: (whole-run upstream {total_up} - bytes_uploaded {} - handshake+push upstream {before_upload}) / {total_resets} resets = {simple} bytes per reset)",
        faulted.timed.report.bytes_uploaded
    );
    println!(
        "  time above the ideal {:.2} s: {:.2} s = backoff sleeps {:.2} s ({} retries) + resent bytes at link rate {:.2} s + the rest (requests, reconnects, as in the clean run: {:.2} s) {:.2} s",
        secs(ideal),
        secs(lost),
        secs(faulted.timed.backoff),
        faulted.timed.report.retries,
        secs(resend_time),
        secs(clean_lost),
        secs(lost.saturating_sub(faulted.timed.backoff + resend_time)),
    );
    println!("  clean run:");
    clean.timed.print_phases();
    println!("  with resets:");
    faulted.timed.print_phases();
    println!(
        "  end state checked: {} records, {} attachments on the backend exactly once",
        settled.records, settled.attachments
    );
    println!(
        "  load average (1/5/15 min) before / after: {load_before} / {}",
        load()
    );
    println!("  command: {COMMAND}");
}
