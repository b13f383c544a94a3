//! One kind of figure serves every chart: horizontal bars in groups (one group per endpoint or
//! service, one bar per series), a panel per round of the run, values written at the bars' ends.
//! Horizontal, because the labels are endpoint names; log scale where the figures span decades.

use std::path::Path;

use anyhow::Context;
use plotters::{
    coord::{
        Shift,
        combinators::LogCoord,
        ranged1d::{DefaultFormatting, KeyPointHint, ValueFormatter},
        types::RangedCoordf64,
    },
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};

pub struct Figure {
    pub title: String,
    /// Lines under the title: which run, and how to read the chart.
    pub subtitle: Vec<String>,
    pub axis: Axis,
    pub series: Vec<Series>,
    pub panels: Vec<Panel>,
    /// A vertical line across every panel (a target), named in the legend.
    pub marker: Option<Marker>,
}

pub struct Axis {
    /// With its unit, e.g. "requests per second".
    pub label: String,
    pub log: bool,
}

pub struct Series {
    pub name: String,
    pub color: RGBColor,
}

pub struct Panel {
    pub title: String,
    pub groups: Vec<Group>,
}

pub struct Group {
    pub label: String,
    /// One per series, in the figure's series order; `None` where that series has no figure.
    pub bars: Vec<Option<Bar>>,
}

pub struct Bar {
    pub value: f64,
    /// Written just right of the bar's end.
    pub label: String,
}

pub struct Marker {
    pub value: f64,
    pub label: String,
}

const WIDTH: u32 = 1100;
const FONT: &str = "sans-serif";
const MARGIN: u32 = 12;
const BAR_HEIGHT: u32 = 18;
const GROUP_GAP: u32 = 14;
const PANEL_CAPTION: u32 = 34;
const X_AXIS: u32 = 52;
const LINE: u32 = 20;
/// Pixels a character takes at the label size, generously: SVG leaves the font to the viewer.
const CHAR_WIDTH: f64 = 7.0;
const MARKER_COLOR: RGBColor = RGBColor(200, 30, 30);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

pub fn draw(figure: &Figure, path: &Path) -> anyhow::Result<()> {
    let panels: Vec<&Panel> = figure
        .panels
        .iter()
        .filter(|panel| !panel.groups.is_empty())
        .collect();
    let header = 48 + LINE * figure.subtitle.len() as u32 + 30;
    let heights: Vec<u32> = panels
        .iter()
        .map(|panel| panel_height(figure, panel))
        .collect();
    let height = header + heights.iter().sum::<u32>() + MARGIN;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, mut rest) = root.split_vertically(header);
    draw_header(figure, &top)?;
    let label_area = figure
        .panels
        .iter()
        .flat_map(|panel| &panel.groups)
        .map(|group| text_width(&group.label))
        .fold(0.0, f64::max) as u32
        + 24;
    // One scale for every panel, so the rounds compare at a glance.
    let plot_width = f64::from(WIDTH - label_area - 3 * MARGIN);
    let all_bars = || {
        panels
            .iter()
            .flat_map(|panel| &panel.groups)
            .flat_map(|group| group.bars.iter().flatten())
    };
    let marker = figure.marker.as_ref().map(|marker| marker.value);
    let scale = if figure.axis.log {
        let (low, high) = log_bounds(all_bars(), marker, plot_width);
        Scale::Log(low, high)
    } else {
        Scale::Linear(linear_bound(all_bars(), marker, plot_width))
    };
    for (panel, height) in panels.iter().zip(heights) {
        let (area, below) = rest.split_vertically(height);
        match scale {
            Scale::Log(low, high) => {
                let x = LogCoord::from((low..high).log_scale());
                draw_panel(figure, panel, &area, label_area, x, low)?;
            }
            Scale::Linear(high) => {
                let x = RangedCoordf64::from(0.0..high);
                draw_panel(figure, panel, &area, label_area, x, 0.0)?;
            }
        }
        rest = below;
    }
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn panel_height(figure: &Figure, panel: &Panel) -> u32 {
    let bars = figure.series.len() as u32 * BAR_HEIGHT + GROUP_GAP;
    PANEL_CAPTION + X_AXIS + bars * panel.groups.len() as u32
}

fn draw_header(figure: &Figure, area: &Area) -> anyhow::Result<()> {
    let x = MARGIN as i32;
    area.draw(&Text::new(
        figure.title.clone(),
        (x, 14),
        (FONT, 24).into_font().style(FontStyle::Bold),
    ))?;
    let mut y = 48;
    for line in &figure.subtitle {
        area.draw(&Text::new(
            line.clone(),
            (x, y),
            (FONT, 14).into_font().color(&BLACK.mix(0.75)),
        ))?;
        y += LINE as i32;
    }
    // The legend, in one row under the subtitle: it never covers a bar.
    y += 6;
    let mut left = x;
    let legend = (FONT, 14).into_font();
    for series in &figure.series {
        area.draw(&Rectangle::new(
            [(left, y), (left + 14, y + 14)],
            series.color.filled(),
        ))?;
        area.draw(&Text::new(
            series.name.clone(),
            (left + 20, y),
            legend.clone(),
        ))?;
        left += 20 + text_width(&series.name) as i32 + 24;
    }
    if let Some(marker) = &figure.marker {
        area.draw(&PathElement::new(
            [(left, y + 7), (left + 18, y + 7)],
            MARKER_COLOR.stroke_width(3),
        ))?;
        area.draw(&Text::new(marker.label.clone(), (left + 24, y), legend))?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Scale {
    Log(f64, f64),
    Linear(f64),
}

/// `floor` is where the bars start: the axis's low end (a log axis has no zero).
fn draw_panel<X>(
    figure: &Figure,
    panel: &Panel,
    area: &Area,
    label_area: u32,
    x: X,
    floor: f64,
) -> anyhow::Result<()>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let rows = panel.groups.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 18).into_font().style(FontStyle::Bold))
        .margin(MARGIN)
        .x_label_area_size(X_AXIS - 8)
        .y_label_area_size(label_area)
        .build_cartesian_2d(x, Rows(panel.groups.len()))?;
    let group_label = |y: &f64| {
        let i = (rows - y - 0.5).round();
        panel
            .groups
            .get(i as usize)
            .filter(|_| i >= 0.0)
            .map_or_else(String::new, |group| group.label.clone())
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_max_light_lines(4)
        .x_desc(figure.axis.label.as_str())
        .x_label_formatter(&|value| number(*value))
        .y_label_formatter(&group_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;

    let series = figure.series.len().max(1) as f64;
    let band = 0.8;
    let height = band / series;
    let value_style =
        TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, group) in panel.groups.iter().enumerate() {
        let top = rows - i as f64 - 0.5 + band / 2.0;
        for (j, (bar, series)) in group.bars.iter().zip(&figure.series).enumerate() {
            let Some(bar) = bar else { continue };
            let upper = top - j as f64 * height;
            let lower = upper - height * 0.85;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(floor, upper), (bar.value, lower)],
                series.color.filled(),
            )))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((bar.value, (upper + lower) / 2.0))
                    + Text::new(bar.label.clone(), (5, 0), value_style.clone()),
            ))?;
        }
    }
    if let Some(marker) = &figure.marker {
        chart.draw_series(std::iter::once(PathElement::new(
            [(marker.value, 0.0), (marker.value, rows)],
            MARKER_COLOR.stroke_width(2),
        )))?;
    }
    Ok(())
}

/// The vertical axis: one unit per group, the first at the top (group i spans
/// rows − i − 1 to rows − i), with a tick, and so a label, at the middle of each.
struct Rows(usize);

impl Ranged for Rows {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = value / self.0.max(1) as f64;
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        (0..self.0).map(|i| i as f64 + 0.5).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.0 as f64
    }
}

/// A log axis from the decade under the smallest figure to far enough right that every bar's
/// label fits after its end: for a bar of value v whose label takes a share s of the plot,
/// ln(high) ≥ (ln v − s·ln low) / (1 − s).
fn log_bounds<'b>(
    bars: impl Iterator<Item = &'b Bar>,
    marker: Option<f64>,
    plot_width: f64,
) -> (f64, f64) {
    let bars: Vec<&Bar> = bars.filter(|bar| bar.value > 0.0).collect();
    let smallest = bars
        .iter()
        .map(|bar| bar.value)
        .chain(marker)
        .fold(f64::INFINITY, f64::min);
    let low = if smallest.is_finite() {
        10f64.powf(smallest.log10().floor())
    } else {
        1.0
    };
    let mut high = marker.unwrap_or(low * 10.0).max(low * 10.0);
    for bar in bars {
        let share = ((text_width(&bar.label) + 12.0) / plot_width).min(0.6);
        let needed = ((bar.value.ln() - share * low.ln()) / (1.0 - share)).exp();
        high = high.max(needed);
    }
    (low, high)
}

/// A linear axis from zero, far enough right that every bar's label fits after its end.
fn linear_bound<'b>(
    bars: impl Iterator<Item = &'b Bar>,
    marker: Option<f64>,
    plot_width: f64,
) -> f64 {
    let mut high = marker.unwrap_or(0.0);
    for bar in bars {
        let share = ((text_width(&bar.label) + 12.0) / plot_width).min(0.6);
        high = high.max(bar.value / (1.0 - share));
    }
    if high > 0.0 { high } else { 1.0 }
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH
}

/// Axis figures: "0.1", "10", "1,000".
fn number(value: f64) -> String {
    if value >= 1000.0 {
        crate::report::thousands(value.round() as usize)
    } else if value >= 1.0 {
        format!("{}", (value * 10.0).round() / 10.0)
    } else {
        format!("{value:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}
