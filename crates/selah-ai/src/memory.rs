//! Memory figures and the fit rules.
//!
//! - **Fit (seed 2.3):** a model fits when its estimated runtime size (weights plus the KV cache
//!   for the configured context) is at most 50% of the memory available now. Imports are refused
//!   when it does not fit; [`check_fit`] answers `POST /api/v1/chat/models/check-fit`.
//! - **Hard budget:** everything loaded together stays within `ai.memory_budget_fraction` of
//!   total RAM (see `slots.rs`, which evicts before refusing).
//! - **Hot slots (seed 3.1):** the slots' models together stay within 75% of total RAM.
//!
//! [`MemoryProbe`] reads `/proc/meminfo` (through sysinfo elsewhere) and can be given synthetic
//! totals, so the rules can be tested as if on a smaller or larger machine.

use std::sync::RwLock;

use serde::Serialize;

/// Bytes in a (binary) gigabyte, as the seed's messages count them.
pub const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The share of available memory a model may need and still "fit".
pub const FIT_FRACTION: f64 = 0.5;

/// The share of total RAM the hot slots may use together.
pub const HOT_SLOT_FRACTION: f64 = 0.75;

/// Total and available RAM, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemoryFigures {
    /// Physical memory.
    pub total_bytes: u64,
    /// Memory the kernel says can be had without swapping (`MemAvailable`).
    pub available_bytes: u64,
}

/// Where RAM figures come from: the machine, or synthetic overrides for tests.
#[derive(Debug, Default)]
pub struct MemoryProbe {
    overrides: RwLock<Option<MemoryFigures>>,
}

impl MemoryProbe {
    /// A probe reading the machine.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pretends the machine has these figures (None: back to the real ones).
    pub fn set_override(&self, figures: Option<MemoryFigures>) {
        *self.overrides.write().unwrap_or_else(|p| p.into_inner()) = figures;
    }

    /// The current figures.
    pub fn figures(&self) -> MemoryFigures {
        if let Some(f) = *self.overrides.read().unwrap_or_else(|p| p.into_inner()) {
            return f;
        }
        read_meminfo().unwrap_or_else(|| {
            let mut sys = sysinfo::System::new();
            sys.refresh_memory();
            MemoryFigures {
                total_bytes: sys.total_memory(),
                available_bytes: sys.available_memory(),
            }
        })
    }
}

/// `MemTotal` and `MemAvailable` from `/proc/meminfo` (Linux); None elsewhere.
fn read_meminfo() -> Option<MemoryFigures> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&text)
}

fn parse_meminfo(text: &str) -> Option<MemoryFigures> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kb| kb * 1024)
    };
    Some(MemoryFigures {
        total_bytes: field("MemTotal:")?,
        available_bytes: field("MemAvailable:")?,
    })
}

/// The answer of a fit check.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FitReport {
    /// The estimate is at most 50% of available memory.
    pub fits: bool,
    /// The weights on disk.
    pub model_size_gb: f64,
    /// Weights plus KV cache for the configured context.
    pub estimated_runtime_gb: f64,
    /// Available memory now.
    pub available_gb: f64,
    /// What to do about it, in a sentence.
    pub recommendation: String,
}

/// Whether a model of `file_size` bytes needing `estimated_bytes` at runtime fits the memory
/// available now.
pub fn check_fit(file_size: u64, estimated_bytes: u64, figures: MemoryFigures) -> FitReport {
    let available = figures.available_bytes as f64;
    let estimate = estimated_bytes as f64;
    let fits = estimate <= available * FIT_FRACTION;
    let recommendation = if fits {
        "This model fits comfortably in the memory available now.".to_string()
    } else if estimate <= available {
        format!(
            "This model needs {:.1} GB, more than half of the {:.1} GB available: close other \
             programs or choose a smaller quantisation.",
            estimate / GB,
            available / GB
        )
    } else {
        format!(
            "This model needs {:.1} GB but only {:.1} GB is available: choose a smaller model \
             or quantisation, or a shorter context.",
            estimate / GB,
            available / GB
        )
    };
    FitReport {
        fits,
        model_size_gb: round2(file_size as f64 / GB),
        estimated_runtime_gb: round2(estimate / GB),
        available_gb: round2(available / GB),
        recommendation,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The seed's refusal when hot slots would use more than 75% of RAM, or None when they fit.
pub fn hot_slot_refusal(slots_bytes: u64, total_bytes: u64) -> Option<String> {
    let limit = total_bytes as f64 * HOT_SLOT_FRACTION;
    (slots_bytes as f64 > limit).then(|| {
        format!(
            "Hot slots would use {:.1} GB / {:.1} GB RAM. Limit: {:.1} GB",
            slots_bytes as f64 / GB,
            total_bytes as f64 / GB,
            limit / GB
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: u64 = 1 << 30;

    #[test]
    fn meminfo_is_parsed_in_bytes() {
        let f = parse_meminfo(
            "MemTotal:       16318412 kB\nMemFree: 1 kB\nMemAvailable:    8000000 kB\n",
        )
        .unwrap();
        assert_eq!(f.total_bytes, 16318412 * 1024);
        assert_eq!(f.available_bytes, 8000000 * 1024);
        assert!(parse_meminfo("MemTotal: 5 kB\n").is_none());
    }

    #[test]
    fn the_real_machine_reports_sane_figures() {
        let f = MemoryProbe::new().figures();
        assert!(f.total_bytes > 256 << 20);
        assert!(f.available_bytes <= f.total_bytes);
    }

    #[test]
    fn overrides_replace_the_machine_and_can_be_lifted() {
        let p = MemoryProbe::new();
        let fake = MemoryFigures {
            total_bytes: 8 * G,
            available_bytes: 4 * G,
        };
        p.set_override(Some(fake));
        assert_eq!(p.figures(), fake);
        p.set_override(None);
        assert_ne!(p.figures(), fake);
    }

    #[test]
    fn fits_at_exactly_half_of_available_and_not_a_byte_more() {
        let mem = MemoryFigures {
            total_bytes: 16 * G,
            available_bytes: 8 * G,
        };
        assert!(check_fit(3 * G, 4 * G, mem).fits);
        let over = check_fit(3 * G, 4 * G + 1, mem);
        assert!(!over.fits);
        assert!(over.recommendation.contains("more than half"));
        let way_over = check_fit(9 * G, 10 * G, mem);
        assert!(!way_over.fits);
        assert!(way_over.recommendation.contains("only 8.0 GB"));
        assert_eq!(way_over.model_size_gb, 9.0);
        assert_eq!(way_over.estimated_runtime_gb, 10.0);
        assert_eq!(way_over.available_gb, 8.0);
    }

    #[test]
    fn hot_slots_are_refused_over_three_quarters_with_the_seeds_message() {
        assert_eq!(hot_slot_refusal(12 * G, 16 * G), None);
        assert_eq!(
            hot_slot_refusal(13 * G, 16 * G).as_deref(),
            Some("Hot slots would use 13.0 GB / 16.0 GB RAM. Limit: 12.0 GB")
        );
    }
}
