//! Which layer of a model each GPU step runs, from the step's label: what turns
//! [`GpuModel::profile_loaded_async`](super::GpuModel::profile_loaded_async)'s per-dispatch
//! times into per-layer ones (`wgcnn bench MODEL`, the web page's bench view).

use std::collections::HashMap;

use super::Model;

/// Finds the top-level layer a GPU step belongs to from its label: `name (Class)`, a fused
/// `name (Class) + bn + relu`, or `nested/inner (Class)` inside a nested model. Built once per
/// model: a scan of the layers per step made benchmarks quadratic in the layers.
#[derive(Debug)]
pub struct StepLayers<'m> {
    /// The first layer with each label `name (Class)`.
    by_label: HashMap<String, usize>,
    /// The first layer with each name.
    by_name: HashMap<&'m str, usize>,
}

impl<'m> StepLayers<'m> {
    /// Indexes `model`'s layers by label and by name.
    pub fn new(model: &'m Model) -> Self {
        let (mut by_label, mut by_name) = (HashMap::new(), HashMap::new());
        for (i, l) in model.layers().iter().enumerate() {
            by_label.entry(l.label()).or_insert(i);
            by_name.entry(l.name.as_str()).or_insert(i);
        }
        Self { by_label, by_name }
    }

    /// The index in [`Model::layers`] of the first layer whose label is `label`, or starts it
    /// followed by ` + `, or whose name starts it followed by `/`: every prefix ending at a
    /// ` + ` or a `/` is looked up, so a step costs a few lookups, not a pass over the layers.
    pub fn layer_of(&self, label: &str) -> Option<usize> {
        let fused = label
            .match_indices(" + ")
            .filter_map(|(k, _)| self.by_label.get(&label[..k]));
        let nested = label
            .match_indices('/')
            .filter_map(|(k, _)| self.by_name.get(&label[..k]));
        self.by_label
            .get(label)
            .into_iter()
            .chain(fused)
            .chain(nested)
            .copied()
            .min()
    }
}
