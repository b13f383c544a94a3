//! Each service's resident memory once the load is over.

use plotters::style::RGBColor;

use super::{
    about,
    bars::{Axis, Bar, Figure, Group, Panel, Series},
};
use crate::results::Results;

pub fn figure(results: &Results) -> Figure {
    Figure {
        title: "Memory: each service after the load".to_owned(),
        subtitle: about(results),
        axis: Axis {
            label: "resident memory, MiB".to_owned(),
            log: false,
        },
        series: vec![Series {
            name: "resident set size (RSS)".to_owned(),
            color: RGBColor(26, 152, 130),
        }],
        panels: vec![Panel {
            title: "Every service, once the last request answered".to_owned(),
            groups: results
                .memory
                .iter()
                .map(|memory| Group {
                    label: memory.service.clone(),
                    bars: vec![memory.mib.map(|mib| Bar {
                        value: mib,
                        label: format!("{mib:.1} MiB"),
                    })],
                })
                .collect(),
        }],
        marker: None,
    }
}
