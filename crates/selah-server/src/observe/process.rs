//! Figures about the Selah process itself.

/// Resident memory of this process in bytes (0 when it cannot be read).
///
/// On Linux this reads `VmRSS` from `/proc/self/status` (kB, so no page-size lookup is needed):
/// one small file, cheap enough for every scrape. Elsewhere, or if `/proc` is not mounted,
/// it asks `sysinfo`.
pub fn resident_memory_bytes() -> u64 {
    proc_status_rss().unwrap_or_else(sysinfo_rss)
}

fn proc_status_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

/// The `VmRSS:` line of a `/proc/<pid>/status` file, in bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn sysinfo_rss() -> u64 {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};
    let Ok(pid) = sysinfo::get_current_pid() else {
        return 0;
    };
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        false,
        ProcessRefreshKind::nothing().with_memory(),
    );
    sys.process(pid).map_or(0, |p| p.memory())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_rss_and_reads_a_plausible_figure() {
        assert_eq!(
            parse_vm_rss("Name:\tselah\nVmRSS:\t   12345 kB\nThreads: 4\n"),
            Some(12345 * 1024)
        );
        assert_eq!(parse_vm_rss("Name: x\n"), None);
        let rss = resident_memory_bytes();
        assert!(rss > 1024 * 1024, "{rss}");
        assert!(sysinfo_rss() > 1024 * 1024);
    }
}
