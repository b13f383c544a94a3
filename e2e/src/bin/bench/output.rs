//! Where a run's figures go: `results.json` and the charts drawn from it, side by side.

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::Context;

use crate::{chart, results::Results};

/// Overrides where the figures go (and where `--render-only` reads them).
const DIR_VARIABLE: &str = "BENCH_OUTPUT_DIR";

/// `benchmarks/` at the top of the repository, linked from BENCHMARKS.md.
pub fn committed_dir() -> PathBuf {
    std::env::var_os(DIR_VARIABLE).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../benchmarks"),
        PathBuf::from,
    )
}

/// A full-scale run replaces the committed figures; a scaled-down one, a trial, goes to a
/// temporary directory so it cannot.
pub fn dir(scale: f64) -> PathBuf {
    if scale >= 1.0 || std::env::var_os(DIR_VARIABLE).is_some() {
        committed_dir()
    } else {
        std::env::temp_dir().join("ticketing-bench")
    }
}

/// Saves the figures and draws their charts; returns the files written.
pub fn save(results: &Results, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    results.save(dir)?;
    let mut written = vec![dir.join(crate::results::FILE)];
    written.extend(chart::draw_all(results, dir)?);
    Ok(written)
}

/// Draws the charts again from the figures saved in `dir`; returns the charts written.
pub fn render_again(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    chart::draw_all(&Results::load(dir)?, dir)
}
