//! How long the orders service took to hold every new ticket in its replica, against the target.

use plotters::style::RGBColor;

use super::{
    about,
    bars::{Axis, Bar, Figure, Group, Marker, Panel, Series},
};
use crate::{
    report::{seconds, thousands},
    results::Results,
};

pub fn figure(results: &Results) -> Figure {
    let panels = vec![Panel {
        title: "Tickets replicated into orders".to_owned(),
        groups: results
            .replication
            .iter()
            .map(|row| Group {
                label: format!(
                    "{} tickets, {}, from {}",
                    thousands(row.tickets),
                    row.how,
                    thousands(row.size)
                ),
                bars: vec![
                    Some(Bar {
                        value: row.after_last_s,
                        label: seconds(row.after_last_s),
                    }),
                    Some(Bar {
                        value: row.from_first_s,
                        label: seconds(row.from_first_s),
                    }),
                ],
            })
            .collect(),
    }];
    Figure {
        title: "Replication: new tickets until the orders service holds them all".to_owned(),
        subtitle: about(results),
        axis: Axis {
            label: "seconds (log scale)".to_owned(),
            log: true,
        },
        series: vec![
            Series {
                name: "after the last write".to_owned(),
                color: RGBColor(230, 126, 34),
            },
            Series {
                name: "from the first request".to_owned(),
                color: RGBColor(245, 196, 140),
            },
        ],
        panels,
        marker: results
            .replication
            .iter()
            .find_map(|row| row.target_s)
            .map(|target| Marker {
                value: target,
                label: format!("target: ≤ {target:.0} s after the last write"),
            }),
    }
}
