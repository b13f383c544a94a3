//! The run's figures as SVG charts, one file per chart, drawn from [`Results`] alone so that
//! `--render-only` can draw them again from a saved `results.json`.

mod bars;
mod latency;
mod memory;
mod replication;
mod throughput;

use std::path::{Path, PathBuf};

use crate::{report::thousands, results::Results};

/// Draws every chart into `dir`; returns the files written.
pub fn draw_all(results: &Results, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let charts = [
        ("throughput.svg", throughput::figure(results)),
        ("latency.svg", latency::figure(results)),
        ("replication.svg", replication::figure(results)),
        ("memory.svg", memory::figure(results)),
    ];
    let mut written = Vec::with_capacity(charts.len());
    for (name, figure) in charts {
        let path = dir.join(name);
        bars::draw(&figure, &path)?;
        written.push(path);
    }
    Ok(written)
}

/// The lines under every chart's title: which run drew it, and anything to know about it.
fn about(results: &Results) -> Vec<String> {
    let run = &results.run;
    let mut lines = vec![format!(
        "Run of {}{}, {} cores, {} requests in flight{}",
        run.date,
        run.commit
            .as_ref()
            .map_or_else(String::new, |commit| format!(", commit {commit}")),
        run.cores,
        run.in_flight,
        if run.scale < 1.0 {
            format!(", every count × {} (a trial run)", run.scale)
        } else {
            String::new()
        },
    )];
    lines.extend(run.note.clone());
    lines.extend(
        run.stopped
            .as_ref()
            .map(|stopped| format!("The run stopped early: {stopped}")),
    );
    lines
}

/// A panel's title for the round that seeds to `round` tickets.
fn round_title(results: &Results, round: usize) -> String {
    let title = if round == 0 {
        "A fresh fleet".to_owned()
    } else {
        format!("After seeding {} tickets", thousands(round))
    };
    let last = results.rounds().last() == Some(&round);
    if last && results.run.stopped.is_some() {
        format!("{title} (the run stopped in this round: its later rows are missing)")
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed figures draw into four SVGs whose words are SVG text (no font files).
    #[test]
    fn the_committed_results_draw_every_chart_with_its_words_as_text() -> anyhow::Result<()> {
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benchmarks");
        let results = Results::load(&committed)?;
        let dir = std::env::temp_dir().join(format!("bench-charts-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        let written = draw_all(&results, &dir)?;
        for (path, words) in written.iter().zip([
            "requests per second",
            "milliseconds from request to answer",
            "seconds (log scale)",
            "resident memory, MiB",
        ]) {
            let svg = std::fs::read_to_string(path)?;
            assert!(svg.starts_with("<svg"), "{} is no SVG", path.display());
            assert!(svg.contains("<text"), "{} has no text", path.display());
            assert!(svg.contains(words), "{} lacks {words:?}", path.display());
            assert!(
                svg.contains(&results.run.date),
                "{} does not say which run it shows",
                path.display()
            );
        }
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
