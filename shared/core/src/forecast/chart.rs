//! The forecast as an SVG chart: one stacked bar a day, emails by stage and the
//! letters to print on top, so that a peak of letters shows weeks ahead.

use plotters::prelude::*;

use super::Forecast;
use crate::ports::Cause;

/// Why the chart could not be drawn (unexpected: it is drawn into a string).
#[derive(Debug, thiserror::Error)]
#[error("drawing the forecast chart: {source}")]
pub struct ChartError {
    /// The plotting library's error.
    #[source]
    source: Cause,
}

/// Emails, one colour per email stage in ladder order.
const EMAIL_COLOURS: [RGBColor; 6] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
];

/// Letters to print stand out.
const LETTER_COLOUR: RGBColor = RGBColor(0xc0, 0x1f, 0x2f);

/// The chart's size in pixels.
const SIZE: (u32, u32) = (960, 360);

/// Draws the forecast: `email_stages` are the ladder's email stages, in order.
pub fn forecast_svg(forecast: &Forecast, email_stages: &[String]) -> Result<String, ChartError> {
    let err = |source: Cause| ChartError { source };
    let days = forecast.days.len().max(1);
    let top = forecast
        .days
        .iter()
        .map(|d| d.emails.values().sum::<usize>() + d.letters)
        .max()
        .unwrap_or(0)
        .max(1);
    // Headroom for the legend.
    let y_max = top + top / 2 + 1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.into()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0..days, 0..y_max)
            .map_err(|e| err(e.into()))?;
        let first = forecast.days.first().map(|d| d.day);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(days.min(16))
            .x_label_formatter(&|i| {
                first
                    .and_then(|f| crate::calendar::shift(f, *i as i64))
                    .map(|d| d.format("%d/%m").to_string())
                    .unwrap_or_default()
            })
            .y_desc("notices")
            .draw()
            .map_err(|e| err(e.into()))?;

        let mut series: Vec<(String, RGBColor, Vec<usize>)> = email_stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let counts = forecast
                    .days
                    .iter()
                    .map(|d| d.emails.get(stage).copied().unwrap_or(0))
                    .collect();
                (
                    format!("{stage} (email)"),
                    EMAIL_COLOURS[i % EMAIL_COLOURS.len()],
                    counts,
                )
            })
            .collect();
        series.push((
            "letters to print".to_owned(),
            LETTER_COLOUR,
            forecast.days.iter().map(|d| d.letters).collect(),
        ));

        let mut base = vec![0usize; forecast.days.len()];
        for (label, colour, counts) in &series {
            let bars: Vec<_> = counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| {
                    let bottom = base[i];
                    Rectangle::new([(i, bottom), (i + 1, bottom + n)], colour.filled())
                })
                .collect();
            for (i, n) in counts.iter().enumerate() {
                base[i] += n;
            }
            let colour = *colour;
            chart
                .draw_series(bars)
                .map_err(|e| err(e.into()))?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(e.into()))?;
        root.present().map_err(|e| err(e.into()))?;
    }
    Ok(svg)
}
