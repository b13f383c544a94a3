//! Latency percentiles of every measurement (endpoints, the database's own calls, the seeding).

use plotters::style::RGBColor;

use super::{
    about,
    bars::{Axis, Bar, Figure, Group, Panel, Series},
    round_title,
};
use crate::results::{Percentiles, Results};

type Percentile = fn(&Percentiles) -> Option<f64>;

pub fn figure(results: &Results) -> Figure {
    let percentiles: [(&str, RGBColor, Percentile); 3] = [
        ("p50", RGBColor(158, 202, 225), |p| Some(p.p50)),
        ("p95", RGBColor(66, 146, 198), |p| p.p95),
        ("p99", RGBColor(8, 69, 148), |p| Some(p.p99)),
    ];
    // Runs transcribed from older tables have no p95: leave its bars out, not empty.
    let shown: Vec<&(&str, RGBColor, Percentile)> = percentiles
        .iter()
        .filter(|(_, _, of)| results.rows.iter().any(|row| of(&row.latency_ms).is_some()))
        .collect();
    let panels = results
        .rounds()
        .into_iter()
        .map(|round| Panel {
            title: round_title(results, round),
            groups: results
                .rows
                .iter()
                .filter(|row| row.round == round)
                .map(|row| Group {
                    label: row.short_name().to_owned(),
                    bars: shown
                        .iter()
                        .map(|(name, _, of)| {
                            of(&row.latency_ms).map(|millis| Bar {
                                value: millis,
                                label: format!("{name} {}", duration(millis)),
                            })
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Figure {
        title: "Latency percentiles of each measurement".to_owned(),
        subtitle: about(results),
        axis: Axis {
            label: "milliseconds from request to answer (log scale)".to_owned(),
            log: true,
        },
        series: shown
            .iter()
            .map(|(name, color, _)| Series {
                name: (*name).to_owned(),
                color: *color,
            })
            .collect(),
        panels,
        marker: None,
    }
}

fn duration(millis: f64) -> String {
    if millis >= 1000.0 {
        format!("{:.2} s", millis / 1000.0)
    } else {
        format!("{millis:.1} ms")
    }
}
