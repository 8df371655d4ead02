//! Keras 3's `model.summary()`: the same table, the same totals, as text or JSON.
//!
//! Keras prints a three-column table for Sequential models and for Functional models whose
//! graph is a chain, and a four-column one, with `Connected to`, for every other graph. A
//! nested model is one row (Keras's default `expand_nested=False`). The column widths follow
//! rich, which Keras renders the table with.

use serde_json::json;

use super::graph::{shape_text, LayerOp};
use super::Model;
use crate::error::{Error, Result};

/// One row of the summary: a layer with its output shape and parameter counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// Layer name.
    pub name: String,
    /// Keras class name.
    pub class_name: String,
    /// Output shape without the batch dimension (printed with a leading `None`); the first
    /// output's, for a layer with several.
    pub output_shape: Vec<usize>,
    /// The `Output Shape` cell as Keras prints it.
    pub output_text: String,
    /// Parameters of this layer (a nested model's: all of its weights).
    pub params: usize,
    /// Of which trainable.
    pub trainable_params: usize,
    /// False for a layer of a class wgcnn does not know when no weights file was read: its
    /// parameters are unknown (counted as 0, printed `?`).
    pub params_known: bool,
    /// The tensors each call reads, as `(layer, node index, tensor index)`.
    pub inbound: Vec<(String, usize, usize)>,
    /// The derivation of the shape and parameter count, with numbers filled in.
    pub explain: Vec<String>,
}

/// A model summary as Keras 3 prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Model name.
    pub name: String,
    /// One row per layer (a Sequential model's input layer is not listed, as in Keras).
    pub rows: Vec<SummaryRow>,
    /// Whether Keras prints the table without `Connected to` (Sequential, or a chain).
    pub sequential_like: bool,
    /// All parameters.
    pub total_params: usize,
    /// Trainable parameters.
    pub trainable_params: usize,
    /// Non-trainable parameters (BatchNormalization's moving statistics, frozen layers).
    pub non_trainable_params: usize,
    /// The model's inputs and outputs, as `(layer, node index, tensor index)`.
    pub inputs: Vec<(String, usize, usize)>,
    /// See [`Summary::inputs`].
    pub outputs: Vec<(String, usize, usize)>,
}

/// The table width Keras uses when printing to a non-terminal (80 columns): `min(88, 80 − 4)`
/// or `min(108, 80 − 4)`, the same for both kinds of model.
pub const KERAS_LINE_LENGTH: usize = 76;

/// Parameter counts of a model: `(total, trainable)`, saturating (a model whose count does not
/// fit in `usize` cannot be loaded anyway).
pub(crate) fn count_params(model: &Model, trainable_parent: bool) -> (usize, usize) {
    let mut total = 0usize;
    let mut trainable = 0usize;
    let parent = trainable_parent && model.trainable;
    for (i, entry) in model.graph.layers.iter().enumerate() {
        let (t, tr) = layer_params(model, i, parent && entry.trainable);
        total = total.saturating_add(t);
        trainable = trainable.saturating_add(tr);
    }
    (total, trainable)
}

/// `(params, trainable params)` of layer `i`, which is trainable if `trainable`.
/// The total parameter count with checked arithmetic, and an error naming the first layer
/// where it (or its size in bytes) overflows.
pub(crate) fn checked_param_count(model: &Model) -> Result<usize> {
    let mut total = 0usize;
    for (i, entry) in model.graph.layers.iter().enumerate() {
        let overflow = || Error::ModelConfig {
            layer: entry.label(),
            message: "the parameter count overflows".into(),
        };
        let n = match &entry.op {
            LayerOp::Model(m) => checked_param_count(m)?,
            LayerOp::Opaque(o) => o.params().unwrap_or(0),
            _ => model
                .graph
                .weight_specs(i)?
                .iter()
                .try_fold(0usize, |t, s| s.count().ok().and_then(|n| t.checked_add(n)))
                .ok_or_else(overflow)?,
        };
        total = total
            .checked_add(n)
            .filter(|t| t.checked_mul(4).is_some())
            .ok_or_else(overflow)?;
    }
    Ok(total)
}

fn layer_params(model: &Model, i: usize, trainable: bool) -> (usize, usize) {
    let entry = &model.graph.layers[i];
    match &entry.op {
        LayerOp::Model(m) => count_params(m, trainable),
        // Keras 3's weights file does not say which of them train: all count as the layer's.
        LayerOp::Opaque(o) => {
            let n = o.params().unwrap_or(0);
            (n, if trainable { n } else { 0 })
        }
        _ => {
            let specs = model.graph.weight_specs(i).unwrap_or_default();
            specs.iter().fold((0usize, 0usize), |(t, tr), s| {
                let n = s.count().unwrap_or(usize::MAX);
                (
                    t.saturating_add(n),
                    if s.trainable && trainable {
                        tr.saturating_add(n)
                    } else {
                        tr
                    },
                )
            })
        }
    }
}

/// Whether Keras treats a Functional model as sequential-like: every depth of its graph holds
/// one node reading at most one tensor, and no layer is called twice.
fn sequential_like(model: &Model) -> bool {
    if model.class_name == "Sequential" {
        return true;
    }
    let g = &model.graph;
    // Depth as Keras counts it: outputs at 0, every producer one deeper than its deepest
    // consumer, over the nodes the outputs depend on.
    let mut depth: Vec<Option<usize>> = vec![None; g.nodes.len()];
    for r in &g.outputs {
        depth[r.node] = Some(0);
    }
    for &i in g.order.iter().rev() {
        let Some(d) = depth[i] else { continue };
        for r in &g.nodes[i].inputs {
            let p = &mut depth[r.node];
            *p = Some(p.map_or(d + 1, |old| old.max(d + 1)));
        }
    }
    let mut per_depth = std::collections::HashMap::new();
    for (i, d) in depth.iter().enumerate() {
        if let Some(d) = d {
            *per_depth.entry(*d).or_insert(0) += 1;
            if g.nodes[i].inputs.len() > 1 {
                return false;
            }
        }
    }
    if per_depth.values().any(|&n| n > 1) {
        return false;
    }
    g.layers
        .iter()
        .all(|l| l.nodes.iter().filter(|&&n| depth[n].is_some()).count() <= 1)
}

/// `--explain` for a layer of a class wgcnn does not know: no formula, what the file says.
fn opaque_explain(o: &super::graph::Opaque, unknown_output: bool) -> Vec<String> {
    let shape = if unknown_output {
        "shape unknown: a class wgcnn does not know, and no layer reads its output".to_string()
    } else {
        "shape read from the file: no formula (a class wgcnn does not know); the layers \
         reading its output record this shape"
            .to_string()
    };
    let params = match &o.stored {
        None => "params unknown: no formula, and no weights file was read".to_string(),
        Some(shapes) if shapes.is_empty() => {
            "params = 0, read from the file (no weights stored)".into()
        }
        Some(shapes) => {
            let parts: Vec<String> = shapes
                .iter()
                .map(|s| {
                    let dims: Vec<String> = s.iter().map(usize::to_string).collect();
                    format!("({})", dims.join(" × "))
                })
                .collect();
            format!(
                "params = {} = {}, read from the file's weights (all counted as trainable: \
                 the file does not say which train)",
                parts.join(" + "),
                thousands(o.params().unwrap_or(0))
            )
        }
    };
    vec![shape, params]
}

impl Summary {
    pub(super) fn new(model: &Model) -> Self {
        let g = &model.graph;
        // Each node's call number within its layer, found once: a search per reference is
        // quadratic in the calls of a layer called thousands of times.
        let mut call_number: Vec<Option<usize>> = vec![None; g.nodes.len()];
        for layer in &g.layers {
            for (k, &n) in layer.nodes.iter().enumerate() {
                if let Some(slot @ None) = call_number.get_mut(n) {
                    *slot = Some(k);
                }
            }
        }
        let reference = |r: &super::TensorRef| {
            let layer = &g.layers[g.nodes[r.node].layer];
            let node_index = call_number.get(r.node).copied().flatten().unwrap_or(0);
            (layer.name.clone(), node_index, r.index)
        };
        let mut rows = Vec::new();
        for (i, entry) in g.layers.iter().enumerate() {
            if !entry.listed {
                continue;
            }
            let last = entry.nodes.last().map(|&n| &g.nodes[n]);
            let outputs: Vec<Vec<usize>> = last.map(|n| n.outputs.clone()).unwrap_or_default();
            let unknown_output = match &entry.op {
                LayerOp::Opaque(o) => entry
                    .nodes
                    .last()
                    .and_then(|n| o.outputs.get(n))
                    .and_then(|call| call.first())
                    .is_none_or(Option::is_none),
                _ => false,
            };
            let output_text = match outputs.as_slice() {
                _ if unknown_output => "unknown".to_string(),
                [] => "?".to_string(),
                [one] => shape_text(one),
                many => {
                    let texts: Vec<String> = many.iter().map(|s| shape_text(s)).collect();
                    format!("[{}]", texts.join(", "))
                }
            };
            let (params, trainable_params) =
                layer_params(model, i, model.trainable && entry.trainable);
            let inbound = entry
                .nodes
                .iter()
                .flat_map(|&n| g.nodes[n].inputs.iter().map(reference))
                .collect();
            let explain = match (&entry.op, entry.nodes.first()) {
                (LayerOp::Layer(layer), Some(&n)) => {
                    let inputs = g.input_shapes(n);
                    layer.explain(&inputs, &g.nodes[n].outputs[0])
                }
                (LayerOp::Model(_), _) => vec![format!(
                    "a nested {} model; params = its weights = {params}",
                    entry.class_name
                )],
                (LayerOp::Opaque(o), _) => opaque_explain(o, unknown_output),
                _ => vec!["the model's input; params = 0".into()],
            };
            rows.push(SummaryRow {
                name: entry.name.clone(),
                class_name: entry.class_name.clone(),
                output_shape: outputs.first().cloned().unwrap_or_default(),
                output_text,
                params,
                trainable_params,
                params_known: !matches!(&entry.op, LayerOp::Opaque(o) if o.stored.is_none()),
                inbound,
                explain,
            });
        }
        let (total_params, trainable_params) = count_params(model, true);
        Self {
            name: model.name.clone(),
            rows,
            sequential_like: sequential_like(model),
            total_params,
            trainable_params,
            non_trainable_params: total_params - trainable_params,
            inputs: g.inputs.iter().map(reference).collect(),
            outputs: g.outputs.iter().map(reference).collect(),
        }
    }

    /// The width Keras 3 draws this summary in a terminal `columns` wide (Python's
    /// `shutil.get_terminal_size`: `$COLUMNS`, else the terminal, else 80):
    /// `min(88, columns − 4)` for a sequential-like model (a Sequential, or a Functional whose
    /// every depth holds one call reading one tensor and no layer called twice), else
    /// `min(108, columns − 4)`.
    pub fn line_length_for(&self, columns: usize) -> usize {
        let widest = if self.sequential_like { 88 } else { 108 };
        widest.min(columns.saturating_sub(4))
    }

    /// The table exactly as Keras 3 prints it to a non-terminal (box drawing, 76 columns,
    /// wrapped cells).
    pub fn table(&self) -> String {
        self.table_with_line_length(KERAS_LINE_LENGTH)
    }

    /// The table as Keras 3 prints it with `line_length` ([`Summary::line_length_for`] gives
    /// the width Keras picks for a terminal). Widths under 20 are raised to 20.
    pub fn table_with_line_length(&self, line_length: usize) -> String {
        let line_length = line_length.max(20);
        let (positions, header, right): (&[f64], &[&str], usize) = if self.sequential_like {
            (
                &[0.45, 0.80, 1.0],
                &["Layer (type)", "Output Shape", "Param #"],
                2,
            )
        } else {
            (
                &[0.3, 0.56, 0.74, 1.0],
                &["Layer (type)", "Output Shape", "Param #", "Connected to"],
                2,
            )
        };
        let widths = column_widths(line_length, positions);
        let border = |l: &str, fill: &str, mid: &str, r: &str| {
            let parts: Vec<String> = widths.iter().map(|w| fill.repeat(w + 2)).collect();
            format!("{l}{}{r}\n", parts.join(mid))
        };
        let mut out = format!("Model: \"{}\"\n", self.name);
        out += &border("┏", "━", "┳", "┓");
        out += &row_lines("┃", header, &widths, right);
        out += &border("┡", "━", "╇", "┩");
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                out += &border("├", "─", "┼", "┤");
            }
            let name = format!("{} ({})", row.name, row.class_name);
            let params = if row.params_known {
                thousands(row.params)
            } else {
                "?".to_string()
            };
            let connected = if row.inbound.is_empty() {
                "-".to_string()
            } else {
                let refs: Vec<String> = row
                    .inbound
                    .iter()
                    .map(|(l, n, t)| format!("{l}[{n}][{t}]"))
                    .collect();
                refs.join(", ")
            };
            let cells = [
                name.as_str(),
                row.output_text.as_str(),
                params.as_str(),
                connected.as_str(),
            ];
            out += &row_lines("│", &cells[..header.len()], &widths, right);
        }
        out += &border("└", "─", "┴", "┘");
        out += &self.totals();
        out
    }

    /// Each layer with its derivation underneath, then the totals.
    pub fn explained(&self) -> String {
        let mut out = format!("Model: \"{}\"\n", self.name);
        for row in &self.rows {
            out += &format!(
                "{} ({}) -> {}, {} params\n",
                row.name,
                row.class_name,
                row.output_text,
                thousands(row.params)
            );
            for line in &row.explain {
                out += &format!("    {line}\n");
            }
        }
        out += &self.totals();
        out
    }

    fn totals(&self) -> String {
        let line = |label: &str, n: usize| {
            format!(
                " {label}: {} ({})\n",
                thousands(n),
                memory_size(n as f64 * 4.0)
            )
        };
        line("Total params", self.total_params)
            + &line("Trainable params", self.trainable_params)
            + &line("Non-trainable params", self.non_trainable_params)
    }

    /// The summary as JSON: name, layers (name, class_name, output_shape with `null` batch,
    /// params, trainable_params, inbound tensors), the model's inputs and outputs, and the
    /// three totals.
    pub fn to_json(&self) -> String {
        let refs = |r: &[(String, usize, usize)]| -> Vec<serde_json::Value> {
            r.iter().map(|(l, n, t)| json!([l, n, t])).collect()
        };
        let layers: Vec<_> = self
            .rows
            .iter()
            .map(|r| {
                let mut shape = vec![serde_json::Value::Null];
                shape.extend(r.output_shape.iter().map(|&d| json!(d)));
                json!({
                    "name": r.name,
                    "class_name": r.class_name,
                    "output_shape": shape,
                    "params": r.params,
                    "trainable_params": r.trainable_params,
                    "inbound": refs(&r.inbound),
                })
            })
            .collect();
        json!({
            "name": self.name,
            "layers": layers,
            "inputs": refs(&self.inputs),
            "outputs": refs(&self.outputs),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
        })
        .to_string()
    }
}

/// The content widths of Keras's columns for a table `line_length` wide. Keras asks rich for
/// columns at the given fractions of the line; rich then takes the borders and padding back
/// from them with its `ratio_reduce` over equal ratios (Python's round-half-to-even included).
fn column_widths(line_length: usize, positions: &[f64]) -> Vec<usize> {
    let mut widths = Vec::new();
    let mut current = 0usize;
    for &p in positions {
        let edge = (p * line_length as f64) as usize;
        widths.push(edge.saturating_sub(current));
        current = edge.max(current);
    }
    // Each column is its width plus 2 of padding; the table has n + 1 border characters.
    let padded: Vec<usize> = widths.iter().map(|w| w + 2).collect();
    let available = line_length.saturating_sub(widths.len() + 1);
    let excess = padded.iter().sum::<usize>().saturating_sub(available);
    let mut remaining = excess as f64;
    let mut ratio_left = padded.len() as f64;
    padded
        .iter()
        .map(|&w| {
            let distributed = ((remaining / ratio_left).round_ties_even() as usize).min(w);
            remaining -= distributed as f64;
            ratio_left -= 1.0;
            (w - distributed).saturating_sub(2).max(1)
        })
        .collect()
}

/// `1250858` → `1,250,858`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Keras's `readable_memory_size`: 1024-based units, two decimals.
fn memory_size(bytes: f64) -> String {
    let mut size = bytes;
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if size / 1024.0 < 1.0 {
            return format!("{size:.2} {unit}");
        }
        size /= 1024.0;
    }
    format!("{size:.2} PB")
}

/// Word-wraps `text` into `width` columns as rich does for Keras's table: greedy on spaces, a
/// word longer than the column cut to fit with an ellipsis.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let word: String = if word.chars().count() > width {
            word.chars()
                .take(width.saturating_sub(1))
                .chain(std::iter::once('…'))
                .collect()
        } else {
            word.to_string()
        };
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line += &word;
    }
    lines.push(line);
    lines
}

/// One table row: each cell wrapped to its column, column `right` right-aligned.
fn row_lines(bar: &str, cells: &[&str], widths: &[usize], right: usize) -> String {
    let wrapped: Vec<Vec<String>> = cells.iter().zip(widths).map(|(c, w)| wrap(c, *w)).collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    let mut out = String::new();
    for i in 0..height {
        out += bar;
        for (col, (lines, width)) in wrapped.iter().zip(widths).enumerate() {
            let text = lines.get(i).map(String::as_str).unwrap_or("");
            let pad = width.saturating_sub(text.chars().count());
            if col == right {
                out += &format!(" {}{text} {bar}", " ".repeat(pad));
            } else {
                out += &format!(" {text}{} {bar}", " ".repeat(pad));
            }
        }
        out.push('\n');
    }
    out
}
