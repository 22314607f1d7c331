//! W3C Trace Context (`traceparent`, `tracestate`) in a call's attachments: on the binary
//! protocol and dubbo2 they are attachments, on gRPC and Triple metadata, which arrive as
//! attachments too.

use std::str::FromStr;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

use crate::Attachments;

pub(super) const TRACEPARENT: &str = "traceparent";
pub(super) const TRACESTATE: &str = "tracestate";

/// Writes `context`'s span, if it has a valid one, as `traceparent` (and `tracestate`).
pub(super) fn inject(context: &Context, attachments: &mut Attachments) {
    let span = context.span();
    let span = span.span_context();
    if !span.is_valid() {
        return;
    }
    let flags = span.trace_flags() & TraceFlags::SAMPLED;
    attachments
        .insert(TRACEPARENT, format!("00-{:032x}-{:016x}-{:02x}", span.trace_id(), span.span_id(), flags.to_u8()));
    let state = span.trace_state().header();
    if !state.is_empty() {
        attachments.insert(TRACESTATE, state);
    }
}

/// The caller's span from `traceparent` (and `tracestate`), if the attachments carry a
/// valid one; anything else starts a new trace, as the W3C recommendation asks.
pub(super) fn extract(attachments: &Attachments) -> Option<Context> {
    let span = parse(attachments.get(TRACEPARENT)?, attachments.get(TRACESTATE))?;
    Some(Context::new().with_remote_span_context(span))
}

fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<SpanContext> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace_id, span_id, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    // Version 00 has exactly four fields; a later version may add more after them.
    let hex =
        |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex(version, 2) || version == "ff" || (version == "00" && parts.next().is_some()) {
        return None;
    }
    if !hex(trace_id, 32) || !hex(span_id, 16) || !hex(flags, 2) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(span_id).ok()?;
    let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()?) & TraceFlags::SAMPLED;
    let state = tracestate.and_then(|s| TraceState::from_str(s).ok()).unwrap_or_default();
    let span = SpanContext::new(trace_id, span_id, flags, true, state);
    span.is_valid().then_some(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_round_trips_through_the_attachments() {
        let span = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::from_str("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE").unwrap(),
        );
        let mut attachments = Attachments::new();
        inject(&Context::new().with_remote_span_context(span.clone()), &mut attachments);
        assert_eq!(attachments.get(TRACEPARENT), Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert_eq!(attachments.get(TRACESTATE), Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
        let read = extract(&attachments).expect("a parent");
        let read = read.span().span_context().clone();
        assert_eq!((read.trace_id(), read.span_id(), read.is_sampled()), (span.trace_id(), span.span_id(), true));
        assert!(read.is_remote());
        assert_eq!(read.trace_state().header(), span.trace_state().header());
    }

    #[test]
    fn malformed_traceparents_start_a_new_trace() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(parse(bad, None).is_none(), "{bad:?}");
        }
        // A later version keeps the fields it shares with 00.
        assert!(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more", None).is_some());
        // A bad tracestate is dropped, the parent kept.
        assert!(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", Some("=,=")).is_some());
    }
}
