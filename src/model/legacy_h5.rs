//! Legacy HDF5 model files, as Keras 2 (`tf.keras`) and Keras 3's legacy writer save them with
//! `model.save("m.h5")`: the architecture is the root's `model_config` attribute (Keras 2 or
//! Keras 3 JSON), the weights sit under `model_weights/<layer name>/`, listed in order by the
//! group's `weight_names` attribute (`conv2d/kernel:0`, ...). A nested model's group lists all
//! of its layers' weights, in layer order.

use hdf5_reader::group::Group;
use hdf5_reader::Hdf5File;

use super::graph::LayerOp;
use super::Model;
use crate::error::{Error, Result};
use crate::layers::WeightSpec;
use crate::tensor::Tensor;

fn file_error(label: &str, message: impl Into<String>) -> Error {
    Error::ModelConfig {
        layer: label.to_string(),
        message: message.into(),
    }
}

/// Loads a legacy `.h5` model file from its bytes; `label` names it in errors.
pub(super) fn load(label: &str, bytes: Vec<u8>) -> Result<Model> {
    let file = Hdf5File::from_vec(bytes)
        .map_err(|e| file_error(label, format!("not a readable HDF5 file: {e}")))?;
    let root = file
        .root_group()
        .map_err(|e| file_error(label, format!("unreadable HDF5 root group: {e}")))?;
    let config = root
        .attribute("model_config")
        .and_then(|a| a.read_string())
        .map_err(|_| {
            file_error(
                label,
                "an HDF5 file without a 'model_config' attribute: a weights-only file \
                 (save_weights)? wgcnn needs a whole model (model.save(\"m.h5\") or .keras)",
            )
        })?;
    let mut model = Model::from_json(&config).map_err(|e| e.in_layer(label.to_string()))?;
    let weights = root.group("model_weights").unwrap_or(root);
    load_weights(&mut model, &weights).map_err(|e| e.in_layer(label.to_string()))?;
    Ok(model)
}

/// The weight slots of a layer: `(path for Model::set_weights, its weights)`, a nested model's
/// layers in order.
fn slots(model: &Model, index: usize, prefix: &str) -> Result<Vec<(String, Vec<WeightSpec>)>> {
    let entry = &model.graph.layers[index];
    let path = format!("{prefix}{}", entry.name);
    match &entry.op {
        LayerOp::Model(nested) => {
            let mut out = Vec::new();
            for i in 0..nested.graph.layers.len() {
                out.extend(slots(nested, i, &format!("{path}/"))?);
            }
            Ok(out)
        }
        LayerOp::Layer(_) => {
            let specs = model.graph.weight_specs(index)?;
            Ok(if specs.is_empty() {
                Vec::new()
            } else {
                vec![(path, specs)]
            })
        }
        LayerOp::Input(_) | LayerOp::Opaque(_) => Ok(Vec::new()),
    }
}

/// The `weight_names` attribute of a layer group (an empty numeric array when it has none).
fn weight_names(group: &Group) -> Vec<String> {
    group
        .attribute("weight_names")
        .and_then(|a| a.read_strings())
        .unwrap_or_default()
}

/// Reads the dataset at `path` (which may contain `/`) under `group`.
fn dataset(group: &Group, path: &str) -> Option<hdf5_reader::Dataset> {
    let mut parts: Vec<&str> = path.split('/').collect();
    let last = parts.pop()?;
    let mut g = group.clone();
    for p in parts {
        g = g.group(p).ok()?;
    }
    g.dataset(last).ok()
}

fn load_weights(model: &mut Model, group: &Group) -> Result<()> {
    // Set all at once: one look-up map for the whole model.
    let mut assignments = Vec::new();
    for index in 0..model.graph.layers.len() {
        if let LayerOp::Opaque(_) = &model.graph.layers[index].op {
            let name = model.graph.layers[index].name.clone();
            let shapes: Vec<Vec<usize>> = match group.group(&name) {
                Ok(g) => weight_names(&g)
                    .iter()
                    .filter_map(|w| dataset(&g, w))
                    .map(|d| d.shape().iter().map(|&n| n as usize).collect())
                    .collect(),
                Err(_) => Vec::new(),
            };
            if let LayerOp::Opaque(o) = &mut model.graph.layers[index].op {
                o.stored = Some(shapes);
            }
            continue;
        }
        let layer_slots = slots(model, index, "")?;
        if layer_slots.is_empty() {
            continue;
        }
        let entry = &model.graph.layers[index];
        let label = entry.label();
        let error = |message: String| Error::ModelWeights {
            layer: label.clone(),
            message,
        };
        let layer_group = group
            .group(&entry.name)
            .map_err(|e| error(format!("missing model_weights/{}: {e}", entry.name)))?;
        let names = weight_names(&layer_group);
        let needed: usize = layer_slots.iter().map(|(_, s)| s.len()).sum();
        if names.len() != needed {
            return Err(error(format!(
                "model_weights/{} lists {} weights, the layer needs {needed}",
                entry.name,
                names.len()
            )));
        }
        let mut names = names.into_iter();
        for (path, specs) in layer_slots {
            let mut tensors = Vec::new();
            for spec in &specs {
                let name = names.next().unwrap_or_default();
                let at = format!("model_weights/{}/{name}", entry.name);
                let ds = dataset(&layer_group, &name)
                    .ok_or_else(|| error(format!("missing dataset {at} ({})", spec.name)))?;
                let found: Vec<usize> = ds.shape().iter().map(|&d| d as usize).collect();
                if found != spec.shape {
                    return Err(error(format!(
                        "{at} ({}) has shape {found:?}, expected {:?}",
                        spec.name, spec.shape
                    )));
                }
                if !spec.inference {
                    tensors.push(Tensor::from_fn(found, |_| 0.0)?);
                    continue;
                }
                let values = super::weights::read_f32(&ds)
                    .map_err(|e| error(format!("cannot read {at} as float32: {e}")))?;
                tensors.push(Tensor::new(found, values)?);
            }
            assignments.push((path, tensors));
        }
    }
    model.set_weights_many(assignments)
}
