use crate::error::{Error, Result};
use crate::tensor::element_count;

const OP: &str = "dense";

/// Checks a Dense layer's tensors — input `(.., in_features)`, kernel `(in_features, units)`
/// as Keras stores it, optional bias `(units,)` — and returns `(rows, in_features, units)`,
/// rows being the product of the input's leading axes.
pub fn check_dense(
    input: &[usize],
    kernel: &[usize],
    bias: Option<&[usize]>,
) -> Result<(usize, usize, usize)> {
    let mismatch = |what, expected: String, actual: &[usize]| Error::ShapeMismatch {
        op: OP,
        what,
        expected,
        actual: actual.to_vec(),
    };
    let features = match input.last() {
        Some(&f) if f > 0 => f,
        _ => return Err(mismatch("input", "(.., in_features ≥ 1)".into(), input)),
    };
    let units = match *kernel {
        [k_in, units] if k_in == features && units > 0 => units,
        _ => {
            return Err(mismatch(
                "kernel",
                format!("({features}, units ≥ 1)"),
                kernel,
            ))
        }
    };
    if let Some(b) = bias {
        if b != [units] {
            return Err(mismatch("bias", format!("({units},)"), b));
        }
    }
    let rows = element_count(&input[..input.len() - 1]).ok_or(Error::Overflow {
        op: OP,
        what: "rows",
    })?;
    Ok((rows, features, units))
}
