//! `wgcnn bench MODEL --plot`: per-layer times as an SVG bar chart.

use wgcnn::model::Model;

use super::model::{layer_cell, ModelTiming};

/// A horizontal bar chart of per-layer median time, one bar per backend, as SVG. Times span
/// orders of magnitude (a 1×1 convolution next to a 3×3 one, the reference next to the GPU),
/// so the time axis is logarithmic, with a tick and grid line per decade. A layer a backend
/// does not time on its own says why in place of its bar (fused into another layer, or no
/// work: a reshape on the GPU is a view).
pub(super) fn svg(model: &Model, batch: usize, results: &[ModelTiming]) -> String {
    const COLORS: [&str; 4] = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1"];
    // Layer names longer than the label column are cut (the whole name is the tooltip), so
    // they never run into the bars; 11-px sans-serif averages under 6.5 px a character.
    const LABEL_CHARS: usize = 44;
    let rows: Vec<usize> = model
        .layers()
        .iter()
        .enumerate()
        .filter(|(_, l)| l.class_name != "InputLayer")
        .map(|(i, _)| i)
        .collect();
    let times = || {
        rows.iter()
            .flat_map(|&i| results.iter().filter_map(move |r| r.layers[i]))
            .filter(|&v| v > 0.0)
    };
    // Whole decades around every time measured.
    let lo = times().fold(f64::INFINITY, f64::min);
    let hi = times().fold(0.0, f64::max);
    let (lo_exp, hi_exp) = if lo.is_finite() {
        let lo_exp = lo.log10().floor() as i32;
        (lo_exp, (hi.log10().ceil() as i32).max(lo_exp + 1))
    } else {
        (-2, 0)
    };
    let (label_w, bar_w, bar_h, top) = (300.0, 520.0, 12.0, 56.0);
    let x_of = |ms: f64| {
        let decades = f64::from(hi_exp - lo_exp);
        label_w + (ms.max(1e-12).log10() - f64::from(lo_exp)) / decades * bar_w
    };
    let row_h = bar_h * results.len() as f64 + 8.0;
    let plot_bottom = top + row_h * rows.len() as f64;
    let height = plot_bottom + 50.0 + 20.0 * results.len() as f64;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\">{} (batch {batch}): median ms per layer, each timed alone</text>\n",
        label_w + bar_w + 120.0,
        escape(model.name())
    );
    // Axis, decade ticks and grid lines; a tall chart repeats the tick labels at the top.
    let tall = rows.len() > 25;
    for exp in lo_exp..=hi_exp {
        let ms = 10f64.powi(exp);
        let x = x_of(ms);
        let tick = if exp < 0 {
            format!("{ms:.*}", exp.unsigned_abs() as usize)
        } else {
            format!("{ms:.0}")
        };
        svg += &format!(
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#ddd\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{tick}</text>\n",
            top - 6.0,
            plot_bottom + 4.0,
            plot_bottom + 18.0
        );
        if tall {
            svg += &format!(
                "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{tick}</text>\n",
                top - 10.0
            );
        }
    }
    svg += &format!(
        "<line x1=\"{label_w}\" y1=\"{plot_bottom}\" x2=\"{}\" y2=\"{plot_bottom}\" stroke=\"black\"/>\
         <line x1=\"{label_w}\" y1=\"{}\" x2=\"{label_w}\" y2=\"{plot_bottom}\" stroke=\"black\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">milliseconds (log scale)</text>\n",
        label_w + bar_w,
        top - 6.0,
        label_w + bar_w / 2.0,
        plot_bottom + 34.0
    );
    for (r, &i) in rows.iter().enumerate() {
        let y0 = top + r as f64 * row_h;
        let label = model.layers()[i].label();
        let shown: String = if label.chars().count() > LABEL_CHARS {
            label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
        } else {
            label.clone()
        };
        svg += &format!(
            "<text x=\"10\" y=\"{}\"><title>{}</title>{}</text>\n",
            y0 + bar_h,
            escape(&label),
            escape(&shown)
        );
        for (b, result) in results.iter().enumerate() {
            let y = y0 + b as f64 * bar_h;
            let color = COLORS[b % COLORS.len()];
            match result.layers[i] {
                Some(ms) => {
                    let w = (x_of(ms) - label_w).max(1.0);
                    svg += &format!(
                        "<rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{color}\"/>\
                         <text x=\"{:.1}\" y=\"{}\">{ms:.3}</text>\n",
                        bar_h - 2.0,
                        label_w + w + 4.0,
                        y + bar_h - 3.0
                    );
                }
                None => {
                    svg += &format!(
                        "<text x=\"{}\" y=\"{}\" fill=\"{color}\" font-style=\"italic\">{}: {}</text>\n",
                        label_w + 4.0,
                        y + bar_h - 3.0,
                        result.whole.label(),
                        escape(&layer_cell(model, result, i))
                    );
                }
            }
        }
    }
    let legend_y = plot_bottom + 46.0;
    for (b, r) in results.iter().enumerate() {
        let y = legend_y + 20.0 * b as f64;
        svg += &format!(
            "<rect x=\"10\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"28\" y=\"{}\">{}: {}, whole pass {:.2} ms</text>\n",
            COLORS[b % COLORS.len()],
            y + 10.0,
            r.whole.label(),
            escape(r.whole.device.trim_start_matches(&format!("{}: ", r.whole.backend))),
            r.whole.stats().0
        );
    }
    svg + "</svg>\n"
}
