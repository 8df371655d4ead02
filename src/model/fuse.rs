//! Fusion: a layer that can finish its output rows itself (Conv2D, DepthwiseConv2D,
//! SeparableConv2D, Dense with a linear activation) absorbs the BatchNormalization and the
//! activation layer after it (a merge absorbs the activation only: ResNet's Add → ReLU), so the fast CPU backend and the GPU write each activation once
//! instead of three times. The reference never fuses: it stays the plain layer-by-layer oracle
//! the fused paths are tested against.

use std::collections::HashMap;

use super::graph::{LayerOp, TensorRef};
use super::Model;
use crate::activation::ElementFn;
use crate::error::Result;
use crate::layers::{Epilogue, EpilogueStep};

/// One fused chain: the producer (the plan's key) computes `epilogue` and writes the output
/// of node `last`; the nodes in `absorbed` are not run.
#[derive(Debug, Clone)]
pub(crate) struct Fusion {
    pub epilogue: Epilogue,
    pub last: usize,
    pub absorbed: Vec<usize>,
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
    let mut plans = HashMap::new();
    for &i in &g.order {
        let LayerOp::Layer(layer) = &g.layers[g.nodes[i].layer].op else {
            continue;
        };
        if !layer.takes_epilogue() {
            continue;
        }
        let mut affine = None;
        let mut func = ElementFn::LINEAR;
        let mut current = i;
        let mut absorbed = Vec::new();
        loop {
            let r = TensorRef {
                node: current,
                index: 0,
            };
            let next = match readers.get(&r).map(Vec::as_slice) {
                Some([only]) if !g.outputs.contains(&r) => *only,
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
                    if layer.takes_affine() && affine.is_none() && func == ElementFn::LINEAR =>
                {
                    affine = Some((s, t));
                }
                EpilogueStep::Func(f)
                    if func == ElementFn::LINEAR && (!gpu || f.as_activation().is_some()) =>
                {
                    func = f;
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
            plans.insert(
                i,
                Fusion {
                    epilogue: Epilogue { affine, func },
                    last: current,
                    absorbed,
                },
            );
        }
    }
    Ok(plans)
}
