use crate::error::Result;
use crate::tensor::Tensor;

/// `f(a, b)` element by element (in f64) with NumPy broadcasting over the per-example shapes;
/// the batch sizes must agree. The reference for merges and binary ops.
pub fn binary(a: &Tensor, b: &Tensor, f: impl Fn(f64, f64) -> f64) -> Result<Tensor> {
    let full = crate::shape::broadcast_batched(a.shape(), b.shape())?;
    let (batch, out) = (full[0], full[1..].to_vec());
    let (sa, sb) = (&a.shape()[1..], &b.shape()[1..]);
    let per: usize = out.iter().product();
    let ia = index_map(sa, &out);
    let ib = index_map(sb, &out);
    let (pa, pb): (usize, usize) = (sa.iter().product(), sb.iter().product());
    let mut data = Vec::with_capacity(batch * per);
    for n in 0..batch {
        for i in 0..per {
            let x = f64::from(a.data()[n * pa + ia[i]]);
            let y = f64::from(b.data()[n * pb + ib[i]]);
            data.push(f(x, y) as f32);
        }
    }
    Tensor::new([&[batch][..], &out].concat(), data)
}

/// For every element of `out` (C order), the flat index of the element of `shape` it reads.
fn index_map(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let lead = out.len() - shape.len();
    let mut strides = vec![0usize; out.len()];
    let mut step = 1;
    for k in (0..out.len()).rev() {
        let d = if k >= lead { shape[k - lead] } else { 1 };
        strides[k] = if d == 1 { 0 } else { step };
        step *= d;
    }
    let total: usize = out.iter().product();
    (0..total)
        .map(|mut i| {
            let mut at = 0;
            for k in (0..out.len()).rev() {
                at += (i % out[k]) * strides[k];
                i /= out[k];
            }
            at
        })
        .collect()
}
