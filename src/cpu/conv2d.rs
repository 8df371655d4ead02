use rayon::prelude::*;

use super::gemm::matmul;
use super::{finish_rows, internal, Finish};
use crate::activation::Activation;
use crate::error::Result;
use crate::shape::Window2d;
use crate::specs::Conv2dSpec;
use crate::tensor::Tensor;

/// Patch rows per block: big enough for the GEMM to run at speed, small enough that a block's
/// patches (rows × K floats) stay in cache.
fn block_rows(k: usize) -> usize {
    (64 * 1024 / k.max(1)).clamp(16, 1024)
}

/// Conv2D on the CPU as a GEMM: the output `(N·OH·OW) × filters` is `patches × kernel`, with
/// the kernel's HWIO layout already the `(kh·kw·cin) × filters` matrix. Patches are gathered
/// block by block (im2col, zeros for padding) and the blocks run on all cores; a 1×1 kernel
/// with unit strides needs no gathering at all.
pub fn conv2d(
    spec: &Conv2dSpec,
    input: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    spec.check(input.shape(), kernel.shape(), bias.map(Tensor::shape))?;
    conv2d_with(spec, input, kernel, Finish::bias(bias, spec.activation))
}

/// [`conv2d`] with the output rows finished by `finish` instead of the spec's bias and
/// activation (which must then be absent and linear): a fused epilogue.
pub fn conv2d_with(
    spec: &Conv2dSpec,
    input: &Tensor,
    kernel: &Tensor,
    finish: Finish<'_>,
) -> Result<Tensor> {
    let bias_shape = spec.use_bias.then_some([spec.filters]);
    let g = spec.check(
        input.shape(),
        kernel.shape(),
        bias_shape.as_ref().map(|b| &b[..]),
    )?;
    if spec.groups > 1 {
        return grouped(spec, &g, input, kernel, finish);
    }
    let [batch, out_h, out_w, filters] = g.output;
    let k = g.window[0] * g.window[1] * g.input[3];
    let m = batch * out_h * out_w;
    let mut out = vec![0.0f32; m * filters];
    let direct = g.window == [1, 1]
        && g.strides == [1, 1]
        && g.rows.pad_before == 0
        && g.cols.pad_before == 0;
    if direct {
        if !matmul(
            m,
            filters,
            k,
            input.data(),
            kernel.data(),
            &mut out,
            rayon::current_num_threads(),
        ) {
            return Err(internal("conv2d"));
        }
    } else {
        let rows = block_rows(k);
        let ok = out
            .par_chunks_mut(rows * filters)
            .enumerate()
            .map_init(Vec::new, |patches, (block, out_block)| {
                let first = block * rows;
                let count = out_block.len() / filters;
                patches.resize(count * k, 0.0);
                gather_patches(&g, input.data(), first, count, patches);
                matmul(count, filters, k, patches, kernel.data(), out_block, 1)
            })
            .all(|ok| ok);
        if !ok {
            return Err(internal("conv2d"));
        }
    }
    finish_rows(&mut out, filters, finish);
    Tensor::new(g.output.to_vec(), out)
}

/// Writes the patches of output rows `first..first + count` (row = flat (n, oy, ox)), each
/// `kh·kw·cin` long in HWI order; cells in the padding are zero.
fn gather_patches(g: &Window2d, x: &[f32], first: usize, count: usize, patches: &mut [f32]) {
    let [_, in_h, in_w, cin] = g.input;
    let [_, out_h, out_w, _] = g.output;
    let [k_h, k_w] = g.window;
    for (r, patch) in patches
        .chunks_exact_mut(k_h * k_w * cin)
        .take(count)
        .enumerate()
    {
        let row = first + r;
        let (n, oy, ox) = (row / (out_h * out_w), (row / out_w) % out_h, row % out_w);
        for ky in 0..k_h {
            for kx in 0..k_w {
                let dst = &mut patch[(ky * k_w + kx) * cin..][..cin];
                match (g.input_row(oy, ky), g.input_col(ox, kx)) {
                    (Some(iy), Some(ix)) => {
                        let src = ((n * in_h + iy) * in_w + ix) * cin;
                        dst.copy_from_slice(&x[src..src + cin]);
                    }
                    _ => dst.fill(0.0),
                }
            }
        }
    }
}

/// A grouped convolution as one ungrouped convolution per group: each group's input channels
/// and filters are copied out, convolved, and copied into the group's output channels.
fn grouped(
    spec: &Conv2dSpec,
    g: &Window2d,
    input: &Tensor,
    kernel: &Tensor,
    finish: Finish<'_>,
) -> Result<Tensor> {
    let [batch, h, w, cin] = g.input;
    let filters = spec.filters;
    let (gin, gout) = (cin / spec.groups, filters / spec.groups);
    let [kh, kw] = spec.kernel_size;
    let part_spec = Conv2dSpec {
        filters: gout,
        groups: 1,
        use_bias: false,
        activation: Activation::Linear,
        ..*spec
    };
    let positions = batch * g.output[1] * g.output[2];
    let mut out = vec![0.0f32; positions * filters];
    for group in 0..spec.groups {
        let x = Tensor::from_fn(vec![batch, h, w, gin], |i| {
            input.data()[(i / gin) * cin + group * gin + i % gin]
        })?;
        let k = Tensor::from_fn(vec![kh, kw, gin, gout], |i| {
            kernel.data()[(i / gout) * filters + group * gout + i % gout]
        })?;
        let y = conv2d_with(&part_spec, &x, &k, Finish::bias(None, Activation::Linear))?;
        for (row, part) in out
            .chunks_exact_mut(filters)
            .zip(y.data().chunks_exact(gout))
        {
            row[group * gout..(group + 1) * gout].copy_from_slice(part);
        }
    }
    finish_rows(&mut out, filters, finish);
    Tensor::new(g.output.to_vec(), out)
}
