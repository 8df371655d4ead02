//! Keras 3's `model.summary()`: the same table, the same totals, as text or JSON.

use serde_json::json;

use super::Model;

/// One row of the summary: a layer with its output shape and parameter counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// Layer name.
    pub name: String,
    /// Keras class name.
    pub class_name: String,
    /// Output shape without the batch dimension (printed with a leading `None`).
    pub output_shape: Vec<usize>,
    /// Parameters of this layer.
    pub params: usize,
    /// Of which trainable.
    pub trainable_params: usize,
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
    /// All parameters.
    pub total_params: usize,
    /// Trainable parameters.
    pub trainable_params: usize,
    /// Non-trainable parameters (BatchNormalization's moving statistics, frozen layers).
    pub non_trainable_params: usize,
}

/// The table width Keras uses when printing to a non-terminal: `min(88, 80 − 4)`.
pub const KERAS_LINE_LENGTH: usize = 76;

/// The content widths of Keras's three columns for a table `line_length` wide. Keras asks
/// rich for columns at 45%, 80% and 100% of the line; rich then takes the 10 characters of
/// borders and padding back from them, 3, 4 and 3 (its `ratio_reduce` over equal ratios).
fn column_widths(line_length: usize) -> [usize; 3] {
    let first = line_length * 45 / 100;
    let second = line_length * 80 / 100;
    [
        first.saturating_sub(3).max(1),
        (second - first).saturating_sub(4).max(1),
        (line_length - second).saturating_sub(3).max(1),
    ]
}

impl Summary {
    pub(super) fn new(model: &Model) -> Self {
        let mut rows = Vec::new();
        for (i, l) in model.layers.iter().enumerate() {
            if i == 0 && model.sequential {
                continue;
            }
            let input = model.input_of(i);
            let output = &model.shapes[i];
            let (mut params, mut trainable) = (0, 0);
            for (shape, trainable_by_nature) in l.layer.weight_shapes(input) {
                let n: usize = shape.iter().product();
                params += n;
                if trainable_by_nature && l.trainable {
                    trainable += n;
                }
            }
            rows.push(SummaryRow {
                name: l.name.clone(),
                class_name: l.class_name.clone(),
                output_shape: output.clone(),
                params,
                trainable_params: trainable,
                explain: l.layer.explain(input, output),
            });
        }
        let total_params = rows.iter().map(|r| r.params).sum();
        let trainable_params = rows.iter().map(|r| r.trainable_params).sum();
        Self {
            name: model.name.clone(),
            rows,
            total_params,
            trainable_params,
            non_trainable_params: total_params - trainable_params,
        }
    }

    /// The table exactly as Keras 3 prints it to a non-terminal (box drawing, 76 columns,
    /// wrapped cells).
    pub fn table(&self) -> String {
        self.table_with_line_length(KERAS_LINE_LENGTH)
    }

    /// The table as Keras 3 prints it with `line_length` (in a terminal Keras uses
    /// `min(88, columns − 4)`). Widths under 20 are raised to 20.
    pub fn table_with_line_length(&self, line_length: usize) -> String {
        let widths = column_widths(line_length.max(20));
        let border = |l: &str, fill: &str, mid: &str, r: &str| {
            let parts: Vec<String> = widths.iter().map(|w| fill.repeat(w + 2)).collect();
            format!("{l}{}{r}\n", parts.join(mid))
        };
        let mut out = format!("Model: \"{}\"\n", self.name);
        out += &border("┏", "━", "┳", "┓");
        out += &row_lines("┃", ["Layer (type)", "Output Shape", "Param #"], widths);
        out += &border("┡", "━", "╇", "┩");
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                out += &border("├", "─", "┼", "┤");
            }
            let name = format!("{} ({})", row.name, row.class_name);
            let (shape, params) = (shape_text(&row.output_shape), thousands(row.params));
            out += &row_lines("│", [&name, &shape, &params], widths);
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
                shape_text(&row.output_shape),
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
            format!(" {label}: {} ({})\n", thousands(n), memory_size(n * 4))
        };
        line("Total params", self.total_params)
            + &line("Trainable params", self.trainable_params)
            + &line("Non-trainable params", self.non_trainable_params)
    }

    /// The summary as JSON: name, layers (name, class_name, output_shape with `null` batch,
    /// params) and the three totals.
    pub fn to_json(&self) -> String {
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
                })
            })
            .collect();
        json!({
            "name": self.name,
            "layers": layers,
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
        })
        .to_string()
    }
}

/// `(None, 32, 32, 3)`.
fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = std::iter::once("None".to_string())
        .chain(shape.iter().map(usize::to_string))
        .collect();
    format!("({})", dims.join(", "))
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
fn memory_size(bytes: usize) -> String {
    let mut size = bytes as f64;
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
                .take(width - 1)
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

/// One table row: each cell wrapped to its column, the last (Param #) right-aligned.
fn row_lines(bar: &str, cells: [&str; 3], widths: [usize; 3]) -> String {
    let wrapped: Vec<Vec<String>> = cells.iter().zip(widths).map(|(c, w)| wrap(c, w)).collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    let mut out = String::new();
    for i in 0..height {
        out += bar;
        for (col, (lines, width)) in wrapped.iter().zip(widths).enumerate() {
            let text = lines.get(i).map(String::as_str).unwrap_or("");
            let pad = width.saturating_sub(text.chars().count());
            if col == 2 {
                out += &format!(" {}{text} {bar}", " ".repeat(pad));
            } else {
                out += &format!(" {text}{} {bar}", " ".repeat(pad));
            }
        }
        out.push('\n');
    }
    out
}
