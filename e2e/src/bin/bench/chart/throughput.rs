//! Requests per second of each endpoint through the ingress, beside the database's own rate for
//! the same work measured in the same round: the gap is what the service and the hop cost.

use plotters::style::RGBColor;

use super::{
    about,
    bars::{Axis, Bar, Figure, Group, Panel, Series},
    round_title,
};
use crate::{report::per_second, results::Results};

pub fn figure(results: &Results) -> Figure {
    let panels = results
        .rounds()
        .into_iter()
        .map(|round| Panel {
            title: round_title(results, round),
            groups: results
                .rows
                .iter()
                .filter(|row| row.round == round)
                .filter_map(|row| {
                    let compared = row.compared.as_ref()?;
                    let ratio = compared.ratio(row.per_second) * 100.0;
                    let target = compared.target.map_or_else(String::new, |target| {
                        format!(" (target ≥ {:.0} %)", target * 100.0)
                    });
                    Some(Group {
                        label: row.short_name().to_owned(),
                        bars: vec![
                            Some(Bar {
                                value: row.per_second,
                                label: format!(
                                    "{} req/s = {ratio:.0} % of {}{target}",
                                    per_second(row.per_second),
                                    compared.raw.name()
                                ),
                            }),
                            Some(Bar {
                                value: compared.raw_per_second,
                                label: format!(
                                    "{}/s raw {}",
                                    per_second(compared.raw_per_second),
                                    compared.raw.name()
                                ),
                            }),
                        ],
                    })
                })
                .collect(),
        })
        .collect();
    Figure {
        title: "Throughput: each endpoint beside the database's own rate".to_owned(),
        subtitle: about(results),
        axis: Axis {
            label: "requests per second (log scale)".to_owned(),
            log: true,
        },
        series: vec![
            Series {
                name: "endpoint through nginx and the service".to_owned(),
                color: RGBColor(31, 119, 180),
            },
            Series {
                name: "the same work straight to the database (mongodb driver)".to_owned(),
                color: RGBColor(170, 170, 170),
            },
        ],
        panels,
        marker: None,
    }
}
