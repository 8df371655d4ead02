//! Softmax and LayerNormalization through every layout of each the device runs, whatever the
//! adapter or the autotuner would choose: an invocation per row, a workgroup per row reduced by
//! a tree (`row_reduce.wgsl`) and by subgroup operations (`row_reduce_subgroup.wgsl`), on rows
//! shorter and longer than the workgroup, along a strided axis, and with non-finite values.
//! Runs on the GPU: no adapter fails the test.

use super::layer_norm::{emit_layer_norm_as, Norm};
use super::row_reduce::{Rows, ROW_LANES, ROW_WORKGROUP_FROM};
use super::softmax::emit_softmax_as;
use super::test_support::gpu;
use crate::gpu::ProgramBuilder;
use crate::reference;
use crate::tensor::Tensor;

/// Values in [-4, 4) that vary irregularly along the tensor.
fn values(shape: &[usize], salt: u64) -> Tensor {
    Tensor::from_fn(shape.to_vec(), |i| {
        let h = (i as u64 + salt * 7919).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        (h % 8000) as f32 / 1000.0 - 4.0
    })
    .unwrap()
}

/// Equal NaN positions and equal infinities; finite values within `tol` (relative to 1).
fn assert_near(actual: &[f32], expected: &[f32], tol: f32, context: &str) {
    assert_eq!(actual.len(), expected.len(), "{context}");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let same = (a.is_nan() && e.is_nan()) || a == e || (a - e).abs() <= tol * e.abs().max(1.0);
        assert!(same, "{context}: element {i} is {a}, expected {e}");
    }
}

/// Rows shorter than a workgroup, around one and two workgroups, and long.
fn lengths() -> [usize; 6] {
    [
        5,
        ROW_LANES + 1,
        ROW_WORKGROUP_FROM - 1,
        ROW_WORKGROUP_FROM,
        300,
        1000,
    ]
}

/// Every layout the device runs. A Vulkan device always has subgroups (Vulkan 1.1: lavapipe
/// too), so there the test fails rather than leave that layout out; GL has none, and the
/// subgroup kernels are not used there.
fn layouts(gpu: &crate::Gpu) -> Vec<Rows> {
    let layouts: Vec<Rows> = Rows::ALL.into_iter().filter(|l| l.runs_on(gpu)).collect();
    if gpu.adapter_info().backend == wgpu::Backend::Vulkan {
        assert!(
            layouts.contains(&Rows::Subgroups),
            "a Vulkan device opened without SUBGROUP"
        );
    }
    eprintln!("row layouts on {}: {layouts:?}", gpu.adapter_info().name);
    layouts
}

#[test]
fn softmax_matches_the_reference_on_short_and_long_rows() {
    let gpu = gpu();
    let batch = 2;
    let layouts = layouts(&gpu);
    for (cols, layout) in lengths()
        .into_iter()
        .flat_map(|c| layouts.iter().map(move |&l| (c, l)))
    {
        for inner in [1, 3] {
            for log in [false, true] {
                // Per example: 3 × cols × inner, the softmax along cols.
                let shape = [3, cols, inner];
                let mut x = values(&[batch, 3, cols, inner], cols as u64).into_data();
                // One row with a NaN, one with +∞ (both whole rows of NaN in Keras), one of −∞
                // but one value.
                let at =
                    |row: usize, i: usize| (row / inner) * cols * inner + row % inner + i * inner;
                x[at(0, cols / 2)] = f32::NAN;
                x[at(1, cols - 1)] = f32::INFINITY;
                for i in 1..cols {
                    x[at(2, i)] = f32::NEG_INFINITY;
                }
                let x = Tensor::new(vec![batch, 3, cols, inner], x).unwrap();
                let expected = reference::softmax_axis(&x, 2, log).unwrap();
                let mut b = ProgramBuilder::new(&gpu);
                let input = b.input(&shape).unwrap();
                let out = b.value(&shape).unwrap();
                emit_softmax_as(&mut b, layout, 3 * inner, cols, inner, log, input, out).unwrap();
                let mut program =
                    pollster::block_on(b.build_async(&[input], &[out], batch)).unwrap();
                let y = program.run(&[x.data()], batch).unwrap();
                let context = format!("{layout:?}: cols {cols}, inner {inner}, log {log}");
                assert_near(&y[0], expected.data(), 2e-6, &context);
            }
        }
    }
}

#[test]
fn layer_normalization_matches_keras_formula_on_short_and_long_rows() {
    let gpu = gpu();
    let batch = 2;
    let rows = 3;
    let layouts = layouts(&gpu);
    for (cols, layout) in lengths()
        .into_iter()
        .flat_map(|c| layouts.iter().map(move |&l| (c, l)))
    {
        for (with_gamma, with_beta, rms) in [
            (true, true, false),
            (false, false, false),
            (true, false, true),
        ] {
            let x = values(&[batch, rows, cols], cols as u64 + 1);
            let gamma = values(&[cols], 3).into_data();
            let beta = values(&[cols], 4).into_data();
            let epsilon = 1e-3f32;
            let mut expected = Vec::with_capacity(x.data().len());
            for row in x.data().chunks(cols) {
                let n = cols as f64;
                let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
                let var = row
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(2))
                    .sum::<f64>()
                    / n;
                let rstd = 1.0 / (var + f64::from(epsilon)).sqrt();
                for (i, &v) in row.iter().enumerate() {
                    let inv = rstd * if with_gamma { f64::from(gamma[i]) } else { 1.0 };
                    let y = if rms {
                        f64::from(v) * inv
                    } else {
                        (f64::from(v) - mean) * inv
                            + if with_beta { f64::from(beta[i]) } else { 0.0 }
                    };
                    expected.push(y as f32);
                }
            }
            let mut b = ProgramBuilder::new(&gpu);
            let input = b.input(&[rows, cols]).unwrap();
            let out = b.value(&[rows, cols]).unwrap();
            let g = with_gamma.then(|| b.weight("gamma", &gamma).unwrap());
            let be = with_beta.then(|| b.weight("beta", &beta).unwrap());
            let norm = Norm {
                epsilon,
                gamma: g,
                beta: be,
                rms,
            };
            emit_layer_norm_as(&mut b, layout, rows, cols, norm, input, out).unwrap();
            let mut program = pollster::block_on(b.build_async(&[input], &[out], batch)).unwrap();
            let y = program.run(&[x.data()], batch).unwrap();
            let context =
                format!("{layout:?}: cols {cols}, gamma {with_gamma}, beta {with_beta}, rms {rms}");
            assert_near(&y[0], &expected, 1e-5, &context);
        }
    }
}
