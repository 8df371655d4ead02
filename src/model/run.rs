//! The forward pass on the CPU, node by node: through each layer's reference (the oracle for the
//! GPU path and for Keras's own outputs), or its fast CPU path (with the `native` feature). A
//! tensor is dropped as soon as its last reader has run.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use web_time::Instant;

use super::graph::{LayerOp, TensorRef};
use super::Model;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

impl Model {
    /// Runs a single-input, single-output model on the CPU reference (plain loops, f64
    /// accumulation). `input` is `(batch, ..input_shape)`.
    pub fn run_reference(&self, input: &Tensor) -> Result<Tensor> {
        self.run(super::Backend::Reference, input)
    }

    /// Runs a single-input, single-output model on the fast CPU backend
    /// ([`Error::FeatureDisabled`] without the `native` feature).
    pub fn run_cpu(&self, input: &Tensor) -> Result<Tensor> {
        self.run(super::Backend::Cpu, input)
    }

    /// The CPU forward pass — fast (`fast`) or the reference — calling `timed(node, time)`
    /// after each node: what `wgcnn bench MODEL` reports per layer. Without the `native`
    /// feature only the reference (`fast == false`) runs; the clock works in a browser too.
    pub fn run_cpu_timed(
        &self,
        inputs: &[&Tensor],
        fast: bool,
        timed: &mut dyn FnMut(usize, Duration),
    ) -> Result<Vec<Tensor>> {
        self.forward(inputs, fast, Some(timed))
    }

    /// The CPU forward pass, fast or the reference, timed when `timed` is given.
    pub(super) fn forward(
        &self,
        inputs: &[&Tensor],
        fast: bool,
        timed: Option<&mut dyn FnMut(usize, Duration)>,
    ) -> Result<Vec<Tensor>> {
        if fast && cfg!(not(feature = "native")) {
            return Err(Error::FeatureDisabled {
                feature: "native",
                what: "the fast CPU backend (Backend::Cpu)",
            });
        }
        self.check_computable()?;
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape()).collect();
        let batch = self.check_inputs(&shapes)?;
        self.eval(inputs, fast, batch, timed)
    }

    /// Evaluates the graph on inputs already checked; `fast` only with the `native` feature.
    fn eval(
        &self,
        inputs: &[&Tensor],
        fast: bool,
        batch: usize,
        mut timed: Option<&mut dyn FnMut(usize, Duration)>,
    ) -> Result<Vec<Tensor>> {
        let g = &self.graph;
        // Readers left per tensor; the model's outputs count as readers until the end.
        let mut readers: HashMap<TensorRef, usize> = HashMap::new();
        for node in &g.nodes {
            for r in &node.inputs {
                *readers.entry(*r).or_default() += 1;
            }
        }
        for r in &g.outputs {
            *readers.entry(*r).or_default() += 1;
        }
        // Every tensor this pass will allocate must fit the CPU memory limit: checked before
        // the first layer runs, so a huge layer late in the graph fails fast.
        for &i in &g.order {
            for shape in &g.nodes[i].outputs {
                let elements =
                    crate::tensor::element_count(shape).and_then(|n| n.checked_mul(batch));
                crate::limits::check_tensor(elements, || {
                    format!(
                        "{}: the output (batch {batch}, {shape:?})",
                        g.layers[g.nodes[i].layer].label()
                    )
                })?;
            }
        }
        // The model's inputs are borrowed, not copied; each layer's output is owned.
        let mut values: HashMap<TensorRef, Cow<'_, Tensor>> = HashMap::new();
        // The fast backend fuses BatchNormalization and activations into the layer before
        // them; the reference runs every layer as written.
        let fusions = if fast {
            super::fuse::plan(self, false)?
        } else {
            HashMap::new()
        };
        // Which model input each input node is (a map: a model may have thousands).
        let mut input_slot: HashMap<usize, usize> = HashMap::new();
        for (k, r) in g.inputs.iter().enumerate() {
            input_slot.entry(r.node).or_insert(k);
        }
        let absorbed: std::collections::HashSet<usize> = fusions
            .values()
            .flat_map(|f| f.absorbed.iter().copied())
            .collect();
        for &i in &g.order {
            if absorbed.contains(&i) {
                if let Some(timed) = timed.as_mut() {
                    timed(i, Duration::ZERO);
                }
                continue;
            }
            let fusion = fusions.get(&i);
            // The node whose output this step produces.
            let out_node = fusion.map_or(i, |f| f.last);
            let node = &g.nodes[i];
            let entry = &g.layers[node.layer];
            // Only when asked: reading the clock is not free.
            let started = timed.is_some().then(Instant::now);
            let outputs: Vec<Cow<'_, Tensor>> = {
                // A fused Add's other input comes last.
                let residual = fusion.and_then(|f| f.residual);
                let xs: Vec<&Tensor> = node
                    .inputs
                    .iter()
                    .chain(&residual)
                    .map(|r| {
                        values
                            .get(r)
                            .map(AsRef::as_ref)
                            .ok_or_else(|| missing(&entry.label()))
                    })
                    .collect::<Result<_>>()?;
                match &entry.op {
                    LayerOp::Input(_) => {
                        let k = input_slot
                            .get(&i)
                            .copied()
                            .ok_or_else(|| Error::ModelConfig {
                                layer: entry.label(),
                                message: "an input layer that is not one of the model's inputs"
                                    .into(),
                            })?;
                        vec![Cow::Borrowed(inputs[k])]
                    }
                    LayerOp::Layer(layer) => {
                        let y = match (fast, fusion) {
                            #[cfg(feature = "native")]
                            (true, Some(f)) => layer.cpu_fused(&xs, &entry.weights, &f.epilogue),
                            #[cfg(feature = "native")]
                            (true, None) => layer.cpu(&xs, &entry.weights),
                            // Without `native`, `forward` refused `fast`.
                            _ => layer.reference(&xs, &entry.weights),
                        };
                        vec![Cow::Owned(y.map_err(|e| e.in_layer(entry.label()))?)]
                    }
                    LayerOp::Opaque(_) => return Err(entry.cannot_run()),
                    LayerOp::Model(m) => m
                        .eval(&xs, fast, batch, None)
                        .map_err(|e| e.in_layer(entry.label()))?
                        .into_iter()
                        .map(Cow::Owned)
                        .collect(),
                }
            };
            for (k, (y, want)) in outputs.iter().zip(&g.nodes[out_node].outputs).enumerate() {
                if y.shape().first() != Some(&batch) || &y.shape()[1..] != want.as_slice() {
                    return Err(Error::Internal {
                        op: "model",
                        message: format!(
                            "{} output {k} has shape {:?}, its layer promised (batch {batch}, {want:?})",
                            entry.label(),
                            y.shape()
                        ),
                    });
                }
            }
            if let (Some(timed), Some(started)) = (timed.as_mut(), started) {
                timed(i, started.elapsed());
            }
            for r in node
                .inputs
                .iter()
                .chain(fusion.and_then(|f| f.residual.as_ref()))
            {
                if let Some(n) = readers.get_mut(r) {
                    *n -= 1;
                    if *n == 0 {
                        values.remove(r);
                    }
                }
            }
            for (k, y) in outputs.into_iter().enumerate() {
                let r = TensorRef {
                    node: out_node,
                    index: k,
                };
                if readers.get(&r).copied().unwrap_or(0) > 0 {
                    values.insert(r, y);
                }
            }
        }
        // Each output is moved out at its last mention (a tensor may be listed twice), and
        // copied only if it is a borrowed input. Last mentions come from a map: a scan of
        // the later outputs would be quadratic in their number.
        let last: HashMap<TensorRef, usize> =
            g.outputs.iter().enumerate().map(|(k, r)| (*r, k)).collect();
        (0..g.outputs.len())
            .map(|k| {
                let r = &g.outputs[k];
                let value = if last.get(r) != Some(&k) {
                    values.get(r).map(|v| v.as_ref().clone())
                } else {
                    values.remove(r).map(Cow::into_owned)
                };
                value.ok_or_else(|| missing(&self.name))
            })
            .collect()
    }
}

fn missing(label: &str) -> Error {
    Error::Internal {
        op: "model",
        message: format!("{label}: an input tensor was not computed"),
    }
}

/// A build without `native` (what a browser build would be): the backends it lacks are typed
/// errors, never panics, and the reference still runs. `cargo test --no-default-features --lib`.
#[cfg(all(test, not(feature = "native")))]
mod without_native {
    use crate::error::Error;
    use crate::model::{Backend, Model};
    use crate::tensor::Tensor;

    #[test]
    fn missing_backends_are_feature_errors() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let model = Model::load(format!("{dir}/models/cifar10.keras")).unwrap();
        let x = Tensor::from_fn(vec![1, 32, 32, 3], |i| (i % 7) as f32).unwrap();
        for backend in [Backend::Cpu, Backend::Gpu] {
            match model.run(backend, &x) {
                Err(Error::FeatureDisabled { feature, .. }) => assert_eq!(feature, "native"),
                other => panic!("{backend}: expected FeatureDisabled, got {other:?}"),
            }
        }
        assert_eq!(model.run(Backend::Reference, &x).unwrap().shape(), &[1, 10]);
    }
}
