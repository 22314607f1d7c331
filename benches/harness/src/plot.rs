//! The picture: QPS and p99 latency against concurrency, one line per system.

use std::path::Path;

use plotters::prelude::*;

use crate::report::Point;
use crate::systems::System;

const COLOURS: [RGBColor; System::ALL.len()] = [
    RGBColor(80, 80, 80),
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 152, 150),
    RGBColor(197, 176, 213),
    RGBColor(152, 223, 138),
];

pub fn write_svg(path: &Path, points: &[Point]) -> Result<(), String> {
    let root = SVGBackend::new(path, (1100, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(550);
    panel(&left, points, "Throughput (calls/s)", |p| p.qps, false)?;
    panel(&right, points, "p99 latency (µs, log scale)", |p| p.p99_us, true)?;
    root.present().map_err(|e| e.to_string())
}

fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    points: &[Point],
    title: &str,
    value: fn(&Point) -> f64,
    log_y: bool,
) -> Result<(), String> {
    let max = points.iter().map(value).fold(0.0, f64::max).max(1.0);
    if log_y {
        let min = points.iter().map(value).fold(f64::MAX, f64::min).max(1.0) * 0.8;
        draw!(area, points, title, value, (min..max * 1.5).log_scale())
    } else {
        draw!(area, points, title, value, 0.0..max * 1.1)
    }
}

/// Draws one panel; a macro because linear and log axes are different types to plotters.
macro_rules! draw {
    ($area:expr, $points:expr, $title:expr, $value:expr, $y_range:expr) => {{
        let max_concurrency = $points.iter().map(|p| p.concurrency).max().unwrap_or(1) as f64;
        let mut chart = ChartBuilder::on($area)
            .caption($title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d((0.8f64..max_concurrency * 1.25).log_scale(), $y_range)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("concurrency")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(|e| e.to_string())?;
        for (system, colour) in System::ALL.into_iter().zip(COLOURS) {
            let series: Vec<(f64, f64)> =
                $points.iter().filter(|p| p.system == system).map(|p| (p.concurrency as f64, $value(p))).collect();
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
