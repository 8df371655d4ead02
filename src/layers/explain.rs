//! `--explain` lines shared by several layers: the derivation of an output size or a parameter
//! count with the numbers filled in, as the seed documents write them.

use crate::shape::{plan_axis, Padding};

/// One line per spatial axis of a sliding window (Conv2D, DepthwiseConv2D, pooling).
pub(crate) fn window(
    input: &[usize],
    output: &[usize],
    kernel: [usize; 2],
    strides: [usize; 2],
    dilation: [usize; 2],
    padding: Padding,
) -> Vec<String> {
    window_axes(
        &["height", "width"],
        input,
        output,
        &kernel,
        &strides,
        &dilation,
        padding,
    )
}

/// One line per named spatial axis of a sliding window, any number of axes (the 1D and 3D
/// layers name theirs `steps` and `depth`, `height`, `width`).
pub(crate) fn window_axes(
    axes: &[&str],
    input: &[usize],
    output: &[usize],
    kernel: &[usize],
    strides: &[usize],
    dilation: &[usize],
    padding: Padding,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, axis) in axes.iter().enumerate() {
        let (Some(&inp), Some(&out), Some(&k), Some(&s), Some(&d)) = (
            input.get(i),
            output.get(i),
            kernel.get(i),
            strides.get(i),
            dilation.get(i),
        ) else {
            continue;
        };
        let e = d * (k.max(1) - 1) + 1;
        lines.push(match padding {
            Padding::Same => {
                let (before, after) = plan_axis("explain", "axis", inp, k, s, d, padding)
                    .map(|p| (p.pad_before, p.pad_after))
                    .unwrap_or((0, 0));
                format!("{axis}: out = ceil({inp} / {s}) = {out}  (same: pad {before} before, {after} after)")
            }
            Padding::Valid if d > 1 => format!(
                "{axis}: out = ceil(({inp} − {e} + 1) / {s}) = {out}  (valid; effective window {d} × ({k} − 1) + 1 = {e})"
            ),
            Padding::Valid => {
                format!("{axis}: out = ceil(({inp} − {e} + 1) / {s}) = {out}  (valid)")
            }
        });
    }
    lines
}

/// `params = units × (a × b × … + 1) = n` with a bias, `units × a × b × … = n` without, as
/// the seed documents write it.
pub(crate) fn params(units: usize, inner: &[usize], bias: bool) -> String {
    let text: Vec<String> = inner.iter().map(usize::to_string).collect();
    let total = inner
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f))
        .and_then(|k| k.checked_add(usize::from(bias)))
        .and_then(|k| k.checked_mul(units))
        .map_or_else(|| "overflow".to_string(), |t| t.to_string());
    if bias {
        format!("params = {units} × ({} + 1) = {total}", text.join(" × "))
    } else {
        format!(
            "params = {units} × {} = {total}  (no bias)",
            text.join(" × ")
        )
    }
}
