//! Planning a recorded program: the chunk size, a device buffer per value (shared where lives
//! do not overlap), and every bind group, created once.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use super::super::scopes::Scopes;
use super::record::{ProgramBuilder, StepSpec, StorageInfo, ValueInfo};
use super::run::{Io, Memory, Program, Step};
use super::{Binding, Value};
use crate::error::{Error, Result};

impl<'g> ProgramBuilder<'g> {
    /// Finishes the program: `inputs` are written by [`Program::run_async`] in this order,
    /// `outputs` read back in this order, at most `max_batch` examples per chunk.
    pub async fn build_async(
        mut self,
        inputs: &[Value],
        outputs: &[Value],
        max_batch: usize,
    ) -> Result<Program<'g>> {
        const OP: &str = "gpu program";
        if let Some(e) = self.miswired.take() {
            return Err(e);
        }
        let gpu = self.gpu;
        for (layer, check) in std::mem::take(&mut self.unchecked) {
            check.await.map_err(|e| e.in_layer(layer))?;
        }
        gpu.check_health(OP)?;
        for &o in outputs {
            if !self.is_dense(o) {
                return Err(Error::Internal {
                    op: OP,
                    message: "an output is a channel slice".into(),
                });
            }
        }
        let mut pinned: Vec<bool> = self.storages.iter().map(|s| s.pinned).collect();
        for &o in outputs {
            pinned[self.values[o.0].storage] = true;
        }

        // How many examples fit: every value's buffer must fit one binding.
        let limit = gpu
            .limits
            .max_storage_buffer_binding_size
            .min(gpu.limits.max_buffer_size);
        let widest = self
            .storages
            .iter()
            .max_by_key(|s| s.per_example)
            .map_or((1, String::new()), |s| {
                (s.per_example.max(1) as u64, s.label.clone())
            });
        let per_example_bytes = widest.0.saturating_mul(4);
        let mut chunk = (limit / per_example_bytes).min(max_batch.max(1) as u64) as usize;
        if chunk == 0 {
            return Err(Error::LimitExceeded {
                op: OP,
                what: format!(
                    "one example's largest tensor, {} ({} floats)",
                    widest.1, widest.0
                ),
                needed: per_example_bytes,
                limit_name: "max_storage_buffer_binding_size",
                limit,
            });
        }
        // Every dispatch must fit the grid limits for a full chunk; halve until it does.
        'fit: loop {
            for step in &self.steps {
                match (step.params)(chunk) {
                    Ok(_) => {}
                    Err(Error::LimitExceeded { .. }) if chunk > 1 => {
                        chunk = chunk.div_ceil(2);
                        continue 'fit;
                    }
                    Err(e) => return Err(e.in_layer(step.label.clone())),
                }
            }
            break;
        }

        let storage_buffer = assign_buffers(&self.storages, &pinned, &self.steps, &self.values);
        let mut buffer_sizes = vec![0usize; storage_buffer.iter().max().map_or(0, |m| m + 1)];
        for (s, &b) in storage_buffer.iter().enumerate() {
            buffer_sizes[b] = buffer_sizes[b].max(self.storages[s].per_example);
        }

        let scopes = Scopes::push(&gpu.device);
        let buffers: Vec<wgpu::Buffer> = buffer_sizes
            .iter()
            .enumerate()
            .map(|(i, &floats)| {
                gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("activations {i}")),
                    size: ((floats * chunk * 4) as u64).max(16),
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_DST
                        | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let mut steps = Vec::with_capacity(self.steps.len());
        for step in self.steps {
            let uniform = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("params"),
                size: step.kernel.def().params.size as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let buffer_of = |b: &Binding| match *b {
                Binding::Read(v) | Binding::Write(v) => {
                    &buffers[storage_buffer[self.values[v.0].storage]]
                }
                Binding::Weight(w) => &self.weights[w.0],
            };
            let entries: Vec<wgpu::BindGroupEntry<'_>> = std::iter::once(&uniform)
                .chain(step.bindings.iter().map(buffer_of))
                .enumerate()
                .map(|(i, buffer)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource: buffer.as_entire_binding(),
                })
                .collect();
            let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(&step.label),
                layout: &gpu.pipeline(step.kernel).get_bind_group_layout(0),
                entries: &entries,
            });
            steps.push(Step {
                label: step.label,
                kernel: step.kernel,
                uniform,
                bind_group,
                params: step.params,
            });
        }
        let io = |v: &Value| -> Io {
            let info = &self.values[v.0];
            Io {
                buffer: storage_buffer[info.storage],
                per_example: self.storages[info.storage].per_example,
                shape: info.shape.clone(),
            }
        };
        let inputs: Vec<Io> = inputs.iter().map(io).collect();
        let outputs: Vec<Io> = outputs.iter().map(io).collect();
        let out_floats: usize = outputs.iter().map(|o| o.per_example).sum();
        let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: ((out_floats * chunk * 4) as u64).max(16),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        scopes.pop(OP).await?;
        let activation_bytes = buffers.iter().map(wgpu::Buffer::size).sum();
        Ok(Program {
            gpu,
            steps,
            buffers,
            inputs,
            outputs,
            staging,
            chunk,
            loaded: 0,
            prepared: None,
            memory: Memory {
                weights: self.weight_bytes,
                activations: activation_bytes,
                staging: (out_floats * chunk * 4) as u64,
            },
            _weights: self.weights,
        })
    }
}

/// Gives every storage a device buffer index, sharing buffers between storages whose lives do
/// not overlap. A storage lives from the first step that touches it to the last; pinned ones
/// (inputs, outputs) for the whole program. Greedy: each storage, in order of birth, takes the
/// smallest free buffer at least its size, else the largest free one (grown), else a new one.
fn assign_buffers(
    storages: &[StorageInfo],
    pinned: &[bool],
    steps: &[StepSpec],
    values: &[ValueInfo],
) -> Vec<usize> {
    let n = storages.len();
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for (i, step) in steps.iter().enumerate() {
        for b in &step.bindings {
            if let Binding::Read(v) | Binding::Write(v) = b {
                let s = values[v.0].storage;
                first[s] = first[s].min(i);
                last[s] = last[s].max(i);
            }
        }
    }
    for s in 0..n {
        if pinned[s] || first[s] == usize::MAX {
            first[s] = 0;
            last[s] = usize::MAX;
        }
    }
    let sizes: Vec<usize> = storages.iter().map(|s| s.per_example).collect();
    share_buffers(&sizes, &first, &last)
}

/// [`assign_buffers`]' greedy sharing, for storages of `size_of` floats alive from step
/// `first` to step `last` (inclusive). Sets and a heap rather than a scan of every buffer per
/// storage, which was quadratic in a model's outputs (each pinned, each its own buffer).
fn share_buffers(size_of: &[usize], first: &[usize], last: &[usize]) -> Vec<usize> {
    let n = size_of.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&s| (first[s], s));
    // Buffer sizes; the busy buffers by the last step of the storage holding them; the free
    // ones by (size, index).
    let mut sizes: Vec<usize> = Vec::new();
    let mut busy: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
    let mut free: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut assigned = vec![0usize; n];
    for s in order {
        while let Some(&Reverse((end, b))) = busy.peek() {
            if end >= first[s] {
                break;
            }
            busy.pop();
            free.insert((sizes[b], b));
        }
        let size = size_of[s];
        // The smallest free buffer that fits (the lowest index among equals), else the largest
        // free one (the highest index among equals), grown.
        let chosen = free
            .range((size, 0)..)
            .next()
            .or_else(|| free.last())
            .copied();
        let b = match chosen {
            Some(key) => {
                free.remove(&key);
                key.1
            }
            None => {
                sizes.push(0);
                sizes.len() - 1
            }
        };
        sizes[b] = sizes[b].max(size);
        busy.push(Reverse((last[s], b)));
        assigned[s] = b;
    }
    assigned
}

#[cfg(test)]
mod tests {
    use super::share_buffers;

    /// The first version of the greedy sharing: a scan of every buffer per storage.
    fn scan(size_of: &[usize], first: &[usize], last: &[usize]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..size_of.len()).collect();
        order.sort_by_key(|&s| (first[s], s));
        let mut buffers: Vec<(usize, usize)> = Vec::new();
        let mut assigned = vec![0usize; size_of.len()];
        for s in order {
            let free = |b: &(usize, usize)| b.1 < first[s];
            let fitting = buffers
                .iter()
                .enumerate()
                .filter(|(_, b)| free(b) && b.0 >= size_of[s])
                .min_by_key(|(_, b)| b.0)
                .map(|(i, _)| i);
            let chosen = fitting.or_else(|| {
                buffers
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| free(b))
                    .max_by_key(|(_, b)| b.0)
                    .map(|(i, _)| i)
            });
            let b = chosen.unwrap_or_else(|| {
                buffers.push((0, 0));
                buffers.len() - 1
            });
            buffers[b] = (buffers[b].0.max(size_of[s]), last[s]);
            assigned[s] = b;
        }
        assigned
    }

    #[test]
    fn sharing_is_the_scans_sharing() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for case in 0..500 {
            let n = 1 + case % 40;
            let steps = 1 + next(30);
            let size_of: Vec<usize> = (0..n).map(|_| 1 + next(8)).collect();
            let (mut first, mut last) = (Vec::new(), Vec::new());
            for _ in 0..n {
                if next(5) == 0 {
                    // Pinned.
                    first.push(0);
                    last.push(usize::MAX);
                } else {
                    let a = next(steps);
                    first.push(a);
                    last.push(a + next(steps - a));
                }
            }
            assert_eq!(
                share_buffers(&size_of, &first, &last),
                scan(&size_of, &first, &last),
                "case {case}: sizes {size_of:?}, first {first:?}, last {last:?}"
            );
        }
    }

    #[test]
    fn many_pinned_storages_take_linear_time() {
        // 200,000 model outputs, each pinned: 2·10^10 buffer visits for the scan.
        let n = 200_000;
        let started = std::time::Instant::now();
        let assigned = share_buffers(&vec![4; n], &vec![0; n], &vec![usize::MAX; n]);
        assert_eq!(assigned, (0..n).collect::<Vec<_>>());
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }
}
