//! Sessions and edits per day as an inline SVG bar chart, drawn on the server: no chart
//! library, no script, nothing but numbers and day stamps in the markup.

use crate::store::browse::DayRow;
use maud::{Markup, html};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 120.0;

/// Two rows of bars, oldest day on the left: edits above, sessions below.
pub fn activity(days: &[DayRow]) -> Markup {
    let days: Vec<&DayRow> = days.iter().rev().collect();
    let step = WIDTH / days.len().max(1) as f64;
    let bars = |value: fn(&DayRow) -> i64, class: &'static str| {
        let top = days.iter().map(|d| value(d)).max().unwrap_or(0).max(1) as f64;
        html! {
            @for (i, d) in days.iter().enumerate() {
                @let h = (value(d) as f64 / top * (HEIGHT - 14.0)).max(1.0);
                rect class=(class) x=(format!("{:.1}", i as f64 * step + 1.0))
                    y=(format!("{:.1}", HEIGHT - h)) width=(format!("{:.1}", (step - 2.0).max(1.0)))
                    height=(format!("{h:.1}")) {
                    title { (d.day) ": " (value(d)) " " (class) }
                }
            }
            text x="2" y="11" { (class) " (max " (top as i64) ")" }
        }
    };
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label="edits per day" {
                (bars(|d| d.edits, "edits"))
            }
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label="sessions per day" {
                (bars(|d| d.sessions, "sessions"))
            }
            @if let (Some(first), Some(last)) = (days.first(), days.last()) {
                figcaption { (first.day) " … " (last.day) }
            }
        }
    }
}
