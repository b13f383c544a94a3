//! `trace_id` and `span_id` on every log line written inside a traced span, so a line found in
//! one service's log leads to the whole trace (and to the other services' lines of it). The
//! ids are those of the innermost OpenTelemetry span around the event; a line outside every
//! span, or any line with traces off, is written exactly as the wrapped format writes it.

use std::fmt;

use opentelemetry::trace::{SpanId, TraceId};
use tracing::{Event, Subscriber};
use tracing_opentelemetry::OtelData;
use tracing_subscriber::{
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    registry::LookupSpan,
};

/// The compact human format, ids appended: `… message fields trace_id=… span_id=…`.
pub struct Compact<F>(pub F);

/// One JSON object per line, ids as its first two members.
pub struct Json<F>(pub F);

impl<S, N, F> FormatEvent<S, N> for Compact<F>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    N: for<'writer> FormatFields<'writer> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some((trace_id, span_id)) = ids(ctx) else {
            return self.0.format_event(ctx, writer, event);
        };
        let line = formatted(&self.0, ctx, event)?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        writeln!(writer, "{line} trace_id={trace_id} span_id={span_id}")
    }
}

impl<S, N, F> FormatEvent<S, N> for Json<F>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    N: for<'writer> FormatFields<'writer> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some((trace_id, span_id)) = ids(ctx) else {
            return self.0.format_event(ctx, writer, event);
        };
        let line = formatted(&self.0, ctx, event)?;
        match line.strip_prefix('{') {
            Some(members) => write!(
                writer,
                r#"{{"trace_id":"{trace_id}","span_id":"{span_id}",{members}"#
            ),
            None => writer.write_str(&line),
        }
    }
}

/// The line as the wrapped format writes it (without colours: it goes to a string first).
fn formatted<S, N, F>(
    format: &F,
    ctx: &FmtContext<'_, S, N>,
    event: &Event<'_>,
) -> Result<String, fmt::Error>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    N: for<'writer> FormatFields<'writer> + 'static,
    F: FormatEvent<S, N>,
{
    let mut line = String::with_capacity(256);
    format.format_event(ctx, Writer::new(&mut line), event)?;
    Ok(line)
}

/// The ids of the innermost span around the event that has become an OpenTelemetry span.
fn ids<S, N>(ctx: &FmtContext<'_, S, N>) -> Option<(TraceId, SpanId)>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    ctx.event_scope()?.find_map(|span| {
        let extensions = span.extensions();
        let data = extensions.get::<OtelData>()?;
        let trace_id = data.trace_id().filter(|id| *id != TraceId::INVALID)?;
        Some((trace_id, data.span_id()?))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::{
        fmt::{self, MakeWriter, format::JsonFields},
        layer::SubscriberExt,
    };

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lines").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Self;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Lines {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("lines").clone()).expect("utf-8")
        }
    }

    fn tracer() -> opentelemetry_sdk::trace::SdkTracer {
        SdkTracerProvider::builder().build().tracer("test")
    }

    #[test]
    fn compact_lines_inside_a_span_end_with_its_ids_and_others_are_unchanged() {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer()))
            .with(
                fmt::layer()
                    .with_writer(lines.clone())
                    .with_ansi(false)
                    .event_format(Compact(
                        fmt::format().compact().with_target(false).without_time(),
                    )),
            );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside");
            tracing::info_span!("request", id = 7).in_scope(|| tracing::info!(n = 1, "inside"));
        });
        let text = lines.text();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(" INFO outside"));
        let inside = lines.next().expect("a second line");
        let (start, ids) = inside.split_once(" trace_id=").expect("ids appended");
        assert_eq!(start, " INFO request: inside n=1 id=7");
        let (trace_id, span_id) = ids.split_once(" span_id=").expect("a span id");
        assert_eq!((trace_id.len(), span_id.len()), (32, 16), "{inside}");
    }

    #[test]
    fn json_lines_inside_a_span_start_with_its_ids() {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer()))
            .with(
                fmt::layer()
                    .with_writer(lines.clone())
                    .fmt_fields(JsonFields::new())
                    .event_format(Json(
                        fmt::format().json().with_current_span(true).without_time(),
                    )),
            );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside");
            tracing::info_span!("request").in_scope(|| tracing::info!("inside"));
        });
        let text = lines.text();
        let parsed: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is JSON"))
            .collect();
        assert_eq!(parsed.len(), 2, "{text}");
        assert!(parsed[0].get("trace_id").is_none());
        assert_eq!(parsed[1]["fields"]["message"], "inside");
        let trace_id = parsed[1]["trace_id"].as_str().expect("a trace id");
        let span_id = parsed[1]["span_id"].as_str().expect("a span id");
        assert_eq!((trace_id.len(), span_id.len()), (32, 16), "{text}");
    }
}
