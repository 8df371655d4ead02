//! Keras `LSTM` and `GRU` (with `reset_after=True`, Keras's default): the input projection for
//! all steps at once, then the recurrence one step at a time.

use super::config::Config;
use super::{weight, Layer, WeightSpec};
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::gpu::kernels::{emit_dense, emit_gather, emit_steps, Cell, ConvWeights, Steps};
use crate::gpu::Lowering;
use crate::tensor::Tensor;

/// Which recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecurrentCell {
    /// Gates i, f, c, o and a cell state.
    Lstm,
    /// Gates z, r, h, with the reset gate applied after the recurrent product.
    Gru,
}

/// `LSTM(units)` or `GRU(units)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recurrent {
    /// The cell.
    pub cell: RecurrentCell,
    /// Hidden units.
    pub units: usize,
    /// Applied to the candidate state and the output (`tanh`).
    pub activation: Activation,
    /// Applied to the gates (`sigmoid`).
    pub recurrent_activation: Activation,
    /// Whether there is a bias.
    pub use_bias: bool,
    /// Every step's output instead of the last.
    pub return_sequences: bool,
    /// Read the sequence from its end.
    pub go_backwards: bool,
}

impl Recurrent {
    /// Reads Keras's config.
    pub(crate) fn from_config(c: &Config<'_>, cell: RecurrentCell) -> Result<Self> {
        c.check_keys(&[
            "units",
            "activation",
            "recurrent_activation",
            "use_bias",
            "unit_forget_bias",
            "return_sequences",
            "return_state",
            "go_backwards",
            "stateful",
            "unroll",
            "zero_output_for_mask",
            "dropout",
            "recurrent_dropout",
            "implementation",
            "time_major",
            "reset_after",
        ])?;
        if c.bool("return_state", false)? {
            return Err(c.error("return_state=True (several outputs) is not supported"));
        }
        if c.bool("stateful", false)? || c.bool("time_major", false)? {
            return Err(c.error("stateful and time_major layers are not supported"));
        }
        if cell == RecurrentCell::Gru && !c.bool("reset_after", true)? {
            return Err(c.error("GRU with reset_after=False is not supported"));
        }
        let activation = |key: &str, default: Activation| -> Result<Activation> {
            match c.str(key)? {
                None => Ok(default),
                Some(name) => Activation::from_keras(name)
                    .ok_or_else(|| c.error(format!("{key} '{name}' is not supported"))),
            }
        };
        Ok(Self {
            cell,
            units: c.positive("units", None)?,
            activation: activation("activation", Activation::Tanh)?,
            recurrent_activation: activation("recurrent_activation", Activation::Sigmoid)?,
            use_bias: c.bool("use_bias", true)?,
            return_sequences: c.bool("return_sequences", false)?,
            go_backwards: c.bool("go_backwards", false)?,
        })
    }

    fn gates(&self) -> usize {
        match self.cell {
            RecurrentCell::Lstm => 4,
            RecurrentCell::Gru => 3,
        }
    }

    /// `(steps, features)` of a per-example input.
    fn input(&self, shape: &[usize]) -> Result<(usize, usize)> {
        match *shape {
            [t, f] if t > 0 && f > 0 => Ok((t, f)),
            _ => Err(Error::ShapeMismatch {
                op: "recurrent",
                what: "input",
                expected: "(timesteps, features)".into(),
                actual: shape.to_vec(),
            }),
        }
    }

    /// The per-example input projection `x·W (+ input bias)`, `[steps, gates·units]`.
    fn project(&self, x: &[f32], w: &[Tensor], fast: bool, steps: usize) -> Result<Vec<f32>> {
        let gu = self.gates() * self.units;
        let kernel = weight(w, 0)?;
        let features = kernel.shape()[0];
        let bias = self.input_bias(w)?;
        // Only the fast CPU backend (`native`) passes `fast`.
        #[cfg(not(feature = "native"))]
        let _ = fast;
        #[cfg(feature = "native")]
        if fast {
            let xt = Tensor::new(vec![x.len() / features, features], x.to_vec())?;
            let b = bias
                .map(|b| Tensor::new(vec![gu], b.to_vec()))
                .transpose()?;
            let y = crate::cpu::dense(&xt, kernel, b.as_ref(), Activation::Linear)?;
            return Ok(y.into_data());
        }
        let mut out = Vec::with_capacity(steps * gu);
        for row in x.chunks(features) {
            for col in 0..gu {
                let mut acc = bias.map_or(0.0, |b| f64::from(b[col]));
                for (k, &v) in row.iter().enumerate() {
                    acc += f64::from(v) * f64::from(kernel.data()[k * gu + col]);
                }
                out.push(acc as f32);
            }
        }
        Ok(out)
    }

    /// The bias added to the input projection: LSTM's bias, GRU's first row.
    fn input_bias<'w>(&self, w: &'w [Tensor]) -> Result<Option<&'w [f32]>> {
        if !self.use_bias {
            return Ok(None);
        }
        let b = weight(w, 2)?.data();
        Ok(Some(&b[..self.gates() * self.units]))
    }

    /// GRU's recurrent bias (the bias's second row).
    fn recurrent_bias<'w>(&self, w: &'w [Tensor]) -> Result<Option<&'w [f32]>> {
        if !self.use_bias || self.cell != RecurrentCell::Gru {
            return Ok(None);
        }
        let gu = 3 * self.units;
        Ok(Some(&weight(w, 2)?.data()[gu..2 * gu]))
    }

    /// Runs the layer on the CPU; `fast` uses GEMMs for the products, else f64 loops.
    fn run(&self, x: &Tensor, w: &[Tensor], fast: bool) -> Result<Tensor> {
        let (steps, _) = self.input(&x.shape()[1..])?;
        let batch = x.shape()[0];
        let (u, g) = (self.units, self.gates());
        let gu = g * u;
        let per_example = x.data().len() / batch.max(1);
        let recurrent = weight(w, 1)?.data();
        let rbias = self.recurrent_bias(w)?;
        let mut outputs = Vec::with_capacity(batch * steps * u);
        for n in 0..batch {
            let proj = self.project(
                &x.data()[n * per_example..(n + 1) * per_example],
                w,
                fast,
                steps,
            )?;
            let mut h = vec![0.0f64; u];
            let mut c = vec![0.0f64; u];
            for step in 0..steps {
                let t = if self.go_backwards {
                    steps - 1 - step
                } else {
                    step
                };
                let xp = &proj[t * gu..(t + 1) * gu];
                // h_prev · U for every gate column.
                let mut inner = vec![0.0f64; gu];
                for (k, &hk) in h.iter().enumerate() {
                    if hk != 0.0 || hk.is_nan() {
                        for (col, acc) in inner.iter_mut().enumerate() {
                            *acc += hk * f64::from(recurrent[k * gu + col]);
                        }
                    }
                }
                let f = |a: Activation, v: f64| a.apply(v);
                let (act, rec) = (self.activation, self.recurrent_activation);
                let mut next = vec![0.0f64; u];
                for j in 0..u {
                    let xg = |gate: usize| f64::from(xp[gate * u + j]);
                    match self.cell {
                        RecurrentCell::Lstm => {
                            let i = f(rec, xg(0) + inner[j]);
                            let fg = f(rec, xg(1) + inner[u + j]);
                            let cand = f(act, xg(2) + inner[2 * u + j]);
                            let o = f(rec, xg(3) + inner[3 * u + j]);
                            c[j] = fg * c[j] + i * cand;
                            next[j] = o * f(act, c[j]);
                        }
                        RecurrentCell::Gru => {
                            let b = |gate: usize| rbias.map_or(0.0, |b| f64::from(b[gate * u + j]));
                            let z = f(rec, xg(0) + inner[j] + b(0));
                            let r = f(rec, xg(1) + inner[u + j] + b(1));
                            let hh = f(act, xg(2) + r * (inner[2 * u + j] + b(2)));
                            next[j] = z * h[j] + (1.0 - z) * hh;
                        }
                    }
                }
                // Keras keeps the state in float32 between steps.
                h = next.iter().map(|&v| f64::from(v as f32)).collect();
                c = c.iter().map(|&v| f64::from(v as f32)).collect();
                if self.return_sequences {
                    outputs.extend(h.iter().map(|&v| v as f32));
                }
            }
            if !self.return_sequences {
                outputs.extend(h.iter().map(|&v| v as f32));
            }
        }
        let shape = if self.return_sequences {
            vec![batch, steps, u]
        } else {
            vec![batch, u]
        };
        Tensor::new(shape, outputs)
    }
}

impl Layer for Recurrent {
    fn class_name(&self) -> &'static str {
        match self.cell {
            RecurrentCell::Lstm => "LSTM",
            RecurrentCell::Gru => "GRU",
        }
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        let (steps, _) = self.input(inputs[0])?;
        Ok(if self.return_sequences {
            vec![steps, self.units]
        } else {
            vec![self.units]
        })
    }

    fn weights(&self, inputs: &[&[usize]]) -> Result<Vec<WeightSpec>> {
        let (_, features) = self.input(inputs[0])?;
        let gu = self
            .gates()
            .checked_mul(self.units)
            .ok_or(Error::Overflow {
                op: "recurrent",
                what: "parameter count",
            })?;
        let cell = |name, shape| WeightSpec {
            group: "cell/vars",
            ..WeightSpec::trainable(name, shape)
        };
        let mut w = vec![
            cell("kernel", vec![features, gu]),
            cell("recurrent_kernel", vec![self.units, gu]),
        ];
        if self.use_bias {
            w.push(cell(
                "bias",
                match self.cell {
                    RecurrentCell::Lstm => vec![gu],
                    RecurrentCell::Gru => vec![2, gu],
                },
            ));
        }
        Ok(w)
    }

    fn explain(&self, inputs: &[&[usize]], _output: &[usize]) -> Vec<String> {
        let f = inputs[0].get(1).copied().unwrap_or(0);
        let (g, u) = (self.gates(), self.units);
        let bias = match (self.use_bias, self.cell) {
            (false, _) => 0,
            (true, RecurrentCell::Lstm) => 1,
            (true, RecurrentCell::Gru) => 2,
        };
        vec![format!(
            "params = {g} × {u} × ({u} + {f} + {bias}) = {}",
            g.saturating_mul(u).saturating_mul(u + f + bias)
        )]
    }

    fn reference(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        self.run(inputs[0], weights, false)
    }

    #[cfg(feature = "native")]
    fn cpu(&self, inputs: &[&Tensor], weights: &[Tensor]) -> Result<Tensor> {
        self.run(inputs[0], weights, true)
    }

    fn lower(&self, l: &mut Lowering<'_, '_>) -> Result<()> {
        let (steps, features) = self.input(l.input_shape(0))?;
        let (u, gu) = (self.units, self.gates() * self.units);
        let x = l.input(0);
        let projected = l.temp(&[steps, gu])?;
        let this = *self;
        let tune_batch = l.tune_batch();
        let weights = l.weights();
        emit_dense(
            l.builder(),
            steps,
            features,
            gu,
            Activation::Linear,
            tune_batch,
            x,
            projected,
            |b, first, count, variant| {
                let kernel = weight(weights, 0)?.data();
                let block: Vec<f32> = kernel
                    .chunks_exact(gu)
                    .flat_map(|row| row[first..first + count].iter().copied())
                    .collect();
                let kernel = b.weight("kernel", &variant.filter_layout(&block, count))?;
                let bias = match this.input_bias(weights)? {
                    Some(bias) => Some(b.weight(
                        "bias",
                        &variant.filter_layout(&bias[first..first + count], count),
                    )?),
                    None => None,
                };
                Ok(ConvWeights { kernel, bias })
            },
        )?;
        let recurrent = l.upload("recurrent_kernel", |w| Ok(weight(w, 1)?.data().to_vec()))?;
        let rbias = match self.recurrent_bias(weights)? {
            Some(b) => {
                let b = b.to_vec();
                Some(l.upload("recurrent_bias", |_| Ok(b))?)
            }
            None => None,
        };
        let hidden = if self.return_sequences {
            l.output()?
        } else {
            l.temp(&[steps, u])?
        };
        let cell = l.temp(&[u])?;
        let s = Steps {
            cell: match self.cell {
                RecurrentCell::Lstm => Cell::Lstm,
                RecurrentCell::Gru => Cell::Gru,
            },
            steps,
            units: u,
            activation: self.activation,
            recurrent_activation: self.recurrent_activation,
            go_backwards: self.go_backwards,
        };
        emit_steps(l.builder(), s, projected, recurrent, rbias, hidden, cell)?;
        if !self.return_sequences {
            // The last step's state: [n, steps − 1, :].
            let out = l.output()?;
            emit_gather(
                l.builder(),
                hidden,
                vec![steps * u, 1],
                (steps - 1) * u,
                out,
            )?;
        }
        Ok(())
    }

    fn flops(&self, inputs: &[&[usize]], _output: &[usize]) -> u64 {
        let (t, f) = match inputs[0] {
            [t, f] => (*t as u64, *f as u64),
            _ => return 0,
        };
        let (g, u) = (self.gates() as u64, self.units as u64);
        2 * t * g * u * (f + u)
    }
}
