//! Reading a figure back from the rendered text, for tests (feature `testing`): the recorder is
//! shared by every test of a process, so a test reads the series of its own labels.

/// The value of the series `name` whose labels include every pair of `labels`, or `None` if no
/// such series has been recorded. Histograms are read by their series: `<name>_count`,
/// `<name>_sum`, `<name>_bucket` (with `le`).
pub fn sample(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let text = super::render();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(Sample::parse)
        .find(|sample| {
            sample.name == name
                && labels
                    .iter()
                    .all(|(key, value)| sample.labels.iter().any(|(k, v)| k == key && v == value))
        })
        .map(|sample| sample.value)
}

/// One line of the text format.
#[derive(Debug, PartialEq)]
struct Sample<'a> {
    name: &'a str,
    labels: Vec<(&'a str, &'a str)>,
    value: f64,
}

impl<'a> Sample<'a> {
    /// `name{k="v",…} value` (or `name value`). Label values here never hold quotes or commas
    /// (templates, subjects, names), so the split is plain.
    fn parse(line: &'a str) -> Option<Self> {
        let (series, value) = line.rsplit_once(' ')?;
        let value = value.parse().ok()?;
        let Some((name, labels)) = series.split_once('{') else {
            return Some(Self {
                name: series,
                labels: Vec::new(),
                value,
            });
        };
        let labels = labels
            .strip_suffix('}')?
            .split(',')
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                Some((key, value.strip_prefix('"')?.strip_suffix('"')?))
            })
            .collect();
        Some(Self {
            name,
            labels,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_gives_its_name_labels_and_value() {
        assert_eq!(
            Sample::parse(
                r#"http_requests_total{method="GET",route="/api/tickets/{id}",status="200"} 3"#
            ),
            Some(Sample {
                name: "http_requests_total",
                labels: vec![
                    ("method", "GET"),
                    ("route", "/api/tickets/{id}"),
                    ("status", "200")
                ],
                value: 3.0
            })
        );
        assert_eq!(
            Sample::parse("up 1"),
            Some(Sample {
                name: "up",
                labels: vec![],
                value: 1.0
            })
        );
        assert_eq!(Sample::parse("garbage"), None);
    }
}
