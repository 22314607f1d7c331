//! The picture: QPS and p99 latency against concurrency, one line per system; for a sweep
//! over payload sizes, throughput in MB/s and p99 against payload size instead, and for one
//! over connection counts, QPS and p99 against connections (each system at its highest
//! measured concurrency).

use std::path::Path;

use plotters::prelude::*;

use crate::report::Point;
use crate::systems::System;

const COLOURS: [RGBColor; System::ALL.len()] = [
    RGBColor(80, 80, 80),
    RGBColor(214, 39, 40),
    RGBColor(240, 128, 128),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 152, 150),
    RGBColor(197, 176, 213),
    RGBColor(152, 223, 138),
];

/// What the x axis shows.
#[derive(Clone, Copy)]
struct Axis {
    name: &'static str,
    of: fn(&Point) -> f64,
    label: fn(f64) -> String,
}

const CONCURRENCY: Axis = Axis { name: "concurrency", of: |p| p.concurrency as f64, label: |x| format!("{x:.0}") };

const CONNECTIONS: Axis = Axis { name: "connections", of: |p| p.connections as f64, label: |x| format!("{x:.0}") };

const PAYLOAD: Axis = Axis {
    name: "payload (bytes)",
    of: |p| p.payload_bytes as f64,
    label: |x| match x {
        x if x >= 1024.0 * 1024.0 => format!("{:.0} MiB", x / (1024.0 * 1024.0)),
        x if x >= 1024.0 => format!("{:.0} KiB", x / 1024.0),
        x => format!("{x:.0}"),
    },
};

pub fn write_svg(path: &Path, points: &[Point]) -> Result<(), String> {
    let root = SVGBackend::new(path, (1100, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(550);
    let busiest: Vec<Point> = points
        .iter()
        .filter(|p| points.iter().filter(|q| q.system == p.system).all(|q| q.concurrency <= p.concurrency))
        .cloned()
        .collect();
    if distinct(points, |p| p.payload_bytes) > 1 {
        panel(&left, &busiest, PAYLOAD, "Throughput (MB/s each way)", Point::megabytes_per_second, false)?;
        panel(&right, &busiest, PAYLOAD, "p99 latency (µs, log scale)", |p| p.p99_us, true)?;
    } else if distinct(points, |p| p.connections) > 1 {
        panel(&left, &busiest, CONNECTIONS, "Throughput (calls/s)", |p| p.qps, false)?;
        panel(&right, &busiest, CONNECTIONS, "p99 latency (µs, log scale)", |p| p.p99_us, true)?;
    } else {
        panel(&left, points, CONCURRENCY, "Throughput (calls/s)", |p| p.qps, false)?;
        panel(&right, points, CONCURRENCY, "p99 latency (µs, log scale)", |p| p.p99_us, true)?;
    }
    root.present().map_err(|e| e.to_string())
}

fn distinct(points: &[Point], of: fn(&Point) -> usize) -> usize {
    let mut values: Vec<usize> = points.iter().map(of).collect();
    values.sort_unstable();
    values.dedup();
    values.len()
}

fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    points: &[Point],
    x: Axis,
    title: &str,
    value: fn(&Point) -> f64,
    log_y: bool,
) -> Result<(), String> {
    let max = points.iter().map(value).fold(0.0, f64::max).max(1.0);
    if log_y {
        let min = points.iter().map(value).fold(f64::MAX, f64::min).max(1.0) * 0.8;
        draw!(area, points, x, title, value, (min..max * 1.5).log_scale())
    } else {
        draw!(area, points, x, title, value, 0.0..max * 1.1)
    }
}

/// Draws one panel; a macro because linear and log axes are different types to plotters.
macro_rules! draw {
    ($area:expr, $points:expr, $x:expr, $title:expr, $value:expr, $y_range:expr) => {{
        let x_max = $points.iter().map($x.of).fold(1.0, f64::max);
        let x_min = $points.iter().map($x.of).fold(x_max, f64::min);
        let mut chart = ChartBuilder::on($area)
            .caption($title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d((x_min * 0.8..x_max * 1.25).log_scale(), $y_range)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc($x.name)
            .x_label_formatter(&|x| ($x.label)(*x))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(|e| e.to_string())?;
        for (system, colour) in System::ALL.into_iter().zip(COLOURS) {
            let series: Vec<(f64, f64)> =
                $points.iter().filter(|p| p.system == system).map(|p| (($x.of)(p), $value(p))).collect();
            if series.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(system.name())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
            chart
                .draw_series(series.into_iter().map(|xy| Circle::new(xy, 3, colour.filled())))
                .map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        Ok(())
    }};
}
use draw;
