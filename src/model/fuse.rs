//! Fusion: a layer that can finish its output rows itself (Conv2D, DepthwiseConv2D,
//! SeparableConv2D, Dense with a linear activation) absorbs the BatchNormalization and the
//! activation layer after it (a merge absorbs the activation only: ResNet's Add → ReLU), so the
//! fast CPU backend and the GPU write each activation once instead of three times. A Conv2D also
//! absorbs an `Add` of its output and a tensor computed before it (ResNet's
//! `conv → bn → add(shortcut) → relu` is one pass over the output; on the GPU the kernel reads
//! the shortcut as it stores each output). On the GPU a ZeroPadding2D
//! read by one convolution alone is gathered by it ([`zero_padding_folds`]). The reference
//! never fuses: it stays the plain layer-by-layer oracle the fused paths are tested against.

use std::collections::HashMap;

use super::graph::{LayerOp, TensorRef};
use super::Model;
use crate::activation::ElementFn;
use crate::error::Result;
use crate::layers::{Epilogue, EpilogueStep};

/// One fused chain: the producer (the plan's key) computes `epilogue` and writes the output
/// of node `last`; the nodes in `absorbed` are not run. With a fused `Add`, `residual` is its
/// other input, passed to the producer as an extra last input.
#[derive(Debug, Clone)]
pub(crate) struct Fusion {
    pub epilogue: Epilogue,
    pub last: usize,
    pub absorbed: Vec<usize>,
    pub residual: Option<TensorRef>,
}

/// Plans the fusions of `model`'s graph (not of nested models: they plan their own). On the
/// GPU the epilogue's function must be a plain activation, which the kernels take.
pub(crate) fn plan(model: &Model, gpu: bool) -> Result<HashMap<usize, Fusion>> {
    let g = &model.graph;
    let mut readers: HashMap<TensorRef, Vec<usize>> = HashMap::new();
    for (i, node) in g.nodes.iter().enumerate() {
        for r in &node.inputs {
            readers.entry(*r).or_default().push(i);
        }
    }
    // A model output cannot be absorbed: a set, as a model may have thousands of outputs.
    let outputs: std::collections::HashSet<TensorRef> = g.outputs.iter().copied().collect();
    let position: HashMap<usize, usize> =
        g.order.iter().enumerate().map(|(k, &n)| (n, k)).collect();
    let mut plans = HashMap::new();
    let mut claimed = std::collections::HashSet::new();
    // Where a fused chain's output is computed: by its producer, earlier than its last node.
    let mut computed_at: HashMap<usize, usize> = HashMap::new();
    for (at, &i) in g.order.iter().enumerate() {
        let LayerOp::Layer(layer) = &g.layers[g.nodes[i].layer].op else {
            continue;
        };
        if !layer.takes_epilogue() || claimed.contains(&i) {
            continue;
        }
        let mut affine = None;
        let mut func = ElementFn::LINEAR;
        let mut residual = None;
        let mut current = i;
        let mut absorbed = Vec::new();
        loop {
            let r = TensorRef {
                node: current,
                index: 0,
            };
            let next = match readers.get(&r).map(Vec::as_slice) {
                Some([only]) if !outputs.contains(&r) => *only,
                _ => break,
            };
            let entry = &g.layers[g.nodes[next].layer];
            let LayerOp::Layer(follower) = &entry.op else {
                break;
            };
            let Some(step) = follower.as_epilogue(&entry.weights) else {
                break;
            };
            match step.map_err(|e| e.in_layer(entry.label()))? {
                EpilogueStep::Affine(s, t)
                    if layer.takes_affine()
                        && affine.is_none()
                        && residual.is_none()
                        && func == ElementFn::LINEAR =>
                {
                    affine = Some((s, t));
                }
                EpilogueStep::Func(f)
                    if func == ElementFn::LINEAR && (!gpu || f.as_activation().is_some()) =>
                {
                    func = f;
                }
                EpilogueStep::Residual
                    if layer.takes_residual()
                        && residual.is_none()
                        && func == ElementFn::LINEAR =>
                {
                    // The other input must already exist when the producer runs, and have the
                    // sum's shape (no broadcasting).
                    let other = match g.nodes[next].inputs.as_slice() {
                        [a, b] if a.node == current && b.node != current => *b,
                        [a, b] if b.node == current && a.node != current => *a,
                        _ => break,
                    };
                    let same_shape = g.nodes[other.node].outputs.get(other.index)
                        == g.nodes[next].outputs.first();
                    let ready = computed_at
                        .get(&other.node)
                        .or(position.get(&other.node))
                        .is_some_and(|&p| p < at);
                    if !same_shape || !ready {
                        break;
                    }
                    residual = Some(other);
                }
                _ => break,
            }
            absorbed.push(next);
            current = next;
            if func != ElementFn::LINEAR {
                break;
            }
        }
        if !absorbed.is_empty() {
            claimed.extend(absorbed.iter().copied());
            computed_at.insert(current, at);
            plans.insert(
                i,
                Fusion {
                    epilogue: Epilogue {
                        affine,
                        residual: residual.is_some(),
                        func,
                    },
                    residual,
                    last: current,
                    absorbed,
                },
            );
        }
    }
    Ok(plans)
}

/// ZeroPadding2D nodes the GPU folds into the convolution after them: per padding node, its
/// padding and the one node that reads it. The padding's output must be read by that node
/// alone, as its first input, and not be a model output; the reader must take a zero-padded
/// input ([`crate::layers::Layer::takes_zero_padded_input`]). The convolution then gathers
/// the zeros as window padding: no padding pass, no padded copy in memory.
pub(crate) fn zero_padding_folds(model: &Model) -> HashMap<usize, ([[usize; 2]; 2], usize)> {
    let g = &model.graph;
    let mut readers: HashMap<TensorRef, Vec<(usize, usize)>> = HashMap::new();
    for (i, node) in g.nodes.iter().enumerate() {
        for (k, r) in node.inputs.iter().enumerate() {
            readers.entry(*r).or_default().push((i, k));
        }
    }
    let outputs: std::collections::HashSet<TensorRef> = g.outputs.iter().copied().collect();
    let mut folds = HashMap::new();
    for (i, node) in g.nodes.iter().enumerate() {
        let LayerOp::Layer(layer) = &g.layers[node.layer].op else {
            continue;
        };
        let Some(padding) = layer.as_zero_padding() else {
            continue;
        };
        let out = TensorRef { node: i, index: 0 };
        let Some(&[(reader, 0)]) = readers.get(&out).map(Vec::as_slice) else {
            continue;
        };
        let takes = matches!(
            &g.layers[g.nodes[reader].layer].op,
            LayerOp::Layer(r) if r.takes_zero_padded_input()
        );
        if takes && !outputs.contains(&out) && node.inputs.len() == 1 {
            folds.insert(i, (padding, reader));
        }
    }
    folds
}
