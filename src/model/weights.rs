//! Weights from `.keras` files: a zip holding `config.json` and `model.weights.h5`, whose
//! datasets live at `layers/<path name>/vars/<i>`. The path name is not the layer's name but
//! Keras's snake_case of its class, numbered in layer order (`conv2d`, `conv2d_1`, ...).

use std::io::Read;

use hdf5_reader::group::Group;
use hdf5_reader::Hdf5File;

use super::graph::LayerOp;
use super::Model;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

fn archive_error(path: &str, message: impl Into<String>) -> Error {
    Error::ModelConfig {
        layer: path.to_string(),
        message: message.into(),
    }
}

/// The most `config.json` may inflate to: configs are kilobytes (NASNetLarge's is 2 MB).
const CONFIG_LIMIT: u64 = 64 << 20;

/// The most `model.weights.h5` may inflate to for a model of `params` parameters: float32
/// values with room to spare for HDF5's metadata; 2 GiB more when layers of unknown classes
/// hold weights wgcnn cannot count beforehand. In a browser (wasm32, whose whole memory is at
/// most 4 GiB, and where a failed allocation aborts the module) never more than 2 GiB.
fn weights_limit(params: usize, unknown_layers: bool) -> u64 {
    let slack: u64 = if unknown_layers { 2 << 30 } else { 16 << 20 };
    let most = if cfg!(target_arch = "wasm32") {
        2 << 30
    } else {
        u64::MAX
    };
    (params as u64)
        .saturating_mul(8)
        .saturating_add(slack)
        .min(most)
}

/// Whether `model` (or a model nested in it) holds a layer of a class wgcnn does not know.
fn has_unknown_layers(model: &Model) -> bool {
    model.graph.layers.iter().any(|e| match &e.op {
        LayerOp::Opaque(_) => true,
        LayerOp::Model(m) => has_unknown_layers(m),
        _ => false,
    })
}

/// The most datasets, and the deepest groups, read under one layer of unknown class: bounds
/// for a hostile file (HDF5 groups may even link in a cycle).
const UNKNOWN_LAYER_DATASETS: usize = 100_000;
const UNKNOWN_LAYER_DEPTH: usize = 16;

/// The shapes of every dataset under `group` (sub-groups included, as Keras stores a layer's
/// sub-layers), without reading values: a layer of unknown class is only counted.
fn stored_shapes(group: &Group, depth: usize, out: &mut Vec<Vec<usize>>) -> Result<()> {
    let too_many = || Error::ModelWeights {
        layer: group.name().to_string(),
        message: format!(
            "more than {UNKNOWN_LAYER_DATASETS} weights or {UNKNOWN_LAYER_DEPTH} nested groups"
        ),
    };
    if depth > UNKNOWN_LAYER_DEPTH {
        return Err(too_many());
    }
    let (groups, datasets) = group.members().map_err(|e| Error::ModelWeights {
        layer: group.name().to_string(),
        message: format!("cannot list the group: {e}"),
    })?;
    for d in datasets {
        if out.len() >= UNKNOWN_LAYER_DATASETS {
            return Err(too_many());
        }
        out.push(d.shape().iter().map(|&n| n as usize).collect());
    }
    for g in groups {
        stored_shapes(&g, depth + 1, out)?;
    }
    Ok(())
}

/// Reads one member, refusing to inflate it past `limit` bytes (a zip bomb would otherwise
/// take all the memory before failing).
fn read_entry(
    path: &str,
    archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>> {
    let entry = archive.by_name(name).map_err(|e| {
        archive_error(
            path,
            format!("no {name} in the archive ({e}): not a Keras 3 .keras file"),
        )
    })?;
    let too_big = || {
        archive_error(
            path,
            format!("{name} inflates to more than {limit} bytes, more than this model can need"),
        )
    };
    if entry.size() > limit {
        return Err(too_big());
    }
    // The declared size may lie: grow as the data really arrives.
    let mut bytes = Vec::with_capacity(entry.size().min(64 << 20) as usize);
    entry
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| archive_error(path, format!("{name} is corrupt: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

/// A dataset's values as float32. hdf5-reader reads any 4-byte float as raw binary32 bits,
/// whatever bit layout the file declares, so the layout is checked first ([`ieee_binary32`]).
pub(super) fn read_f32(dataset: &hdf5_reader::Dataset) -> std::result::Result<Vec<f32>, String> {
    if let hdf5_reader::Datatype::FloatingPoint { size: 4, .. } = dataset.dtype() {
        let raw = dataset.raw_datatype().map_err(|e| e.to_string())?;
        if !ieee_binary32(&raw) {
            return Err(
                "its 4-byte float type is not IEEE 754 binary32 (a custom bit layout)".into(),
            );
        }
    }
    let values = dataset.read_array::<f32>().map_err(|e| e.to_string())?;
    Ok(values.iter().copied().collect())
}

/// Whether an HDF5 datatype message describes IEEE 754 binary32: class 1 (floating point),
/// size 4, little- or big-endian (not VAX), sign at bit 31, implied leading mantissa bit,
/// exponent 8 bits at 23 with bias 127, mantissa 23 bits at 0, all 32 bits used.
pub(crate) fn ieee_binary32(message: &[u8]) -> bool {
    let Some(bytes) = message.get(..20) else {
        return false;
    };
    let class = bytes[0] & 0x0f;
    let flags = u32::from(bytes[1]) | u32::from(bytes[2]) << 8 | u32::from(bytes[3]) << 16;
    let size = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let vax = flags & 0x40 != 0;
    let normalization = (flags >> 4) & 0x3;
    let sign_location = (flags >> 8) & 0xff;
    let bias = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    class == 1
        && size == 4
        && !vax
        && normalization == 2
        && sign_location == 31
        && u16_at(8) == 0
        && u16_at(10) == 32
        && (bytes[12], bytes[13], bytes[14], bytes[15]) == (23, 8, 0, 23)
        && bias == 127
}

/// Loads architecture and weights from the bytes of a `.keras` file; `path` names it in errors.
pub(super) fn load_keras_archive(path: &str, bytes: &[u8]) -> Result<Model> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| archive_error(path, format!("not a readable zip archive: {e}")))?;
    let config = read_entry(path, &mut archive, "config.json", CONFIG_LIMIT)?;
    let config =
        String::from_utf8(config).map_err(|_| archive_error(path, "config.json is not UTF-8"))?;
    let mut model = Model::from_json(&config)?;
    let limit = weights_limit(model.summary().total_params, has_unknown_layers(&model));
    let h5 = read_entry(path, &mut archive, "model.weights.h5", limit)?;
    let file = Hdf5File::from_vec(h5).map_err(|e| {
        archive_error(
            path,
            format!("model.weights.h5 is not a readable HDF5 file: {e}"),
        )
    })?;
    load_weights(&mut model, &file)?;
    Ok(model)
}

/// Keras's `naming.to_snake_case`: `Conv2D` → `conv2d`, `MaxPooling2D` → `max_pooling2d`,
/// `ReLU` → `re_lu`.
pub(super) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    // Pass 1, `(.)([A-Z][a-z]+)` → `\1_\2`, scanning left to right without overlap.
    let mut first = String::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = chars.get(i + 1).is_some_and(char::is_ascii_uppercase)
            && chars.get(i + 2).is_some_and(char::is_ascii_lowercase);
        if starts_word {
            first.push(chars[i]);
            first.push('_');
            let mut j = i + 1;
            first.push(chars[j]);
            j += 1;
            while j < chars.len() && chars[j].is_ascii_lowercase() {
                first.push(chars[j]);
                j += 1;
            }
            i = j;
        } else {
            first.push(chars[i]);
            i += 1;
        }
    }
    // Pass 2, `([a-z])([A-Z])` → `\1_\2`, then lower-case.
    let chars: Vec<char> = first.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        out.push(chars[i]);
        if chars[i].is_ascii_lowercase() && chars.get(i + 1).is_some_and(char::is_ascii_uppercase) {
            out.push('_');
            out.push(chars[i + 1]);
            i += 2;
        } else {
            i += 1;
        }
    }
    out.to_lowercase()
}

/// Keras's default names for a sequence of layers (and the weight-file paths it uses):
/// the snake_case class name, then `_1`, `_2`, ... for repeats of the same class.
#[derive(Debug, Default)]
pub(super) struct KerasNames {
    used: Vec<(String, usize)>,
}

impl KerasNames {
    /// The name of the next layer of class `class_name`.
    pub(super) fn next(&mut self, class_name: &str) -> String {
        let base = snake_case(class_name);
        match self.used.iter_mut().find(|(n, _)| *n == base) {
            Some((_, count)) => {
                *count += 1;
                format!("{base}_{count}")
            }
            None => {
                self.used.push((base.clone(), 0));
                base
            }
        }
    }
}

/// Reads every layer's weights from a Keras 3 weights file into `model`.
fn load_weights(model: &mut Model, file: &Hdf5File) -> Result<()> {
    let layers = file.group("layers").map_err(|e| Error::ModelWeights {
        layer: model.name.clone(),
        message: format!("the weights file has no 'layers' group: {e}"),
    })?;
    load_layers(model, &layers, "layers")
}

/// Reads the weights of `model`'s layers from `group` (a `layers` group at `path`). Keras
/// names each layer's group after its class, numbered per class in layer order; a nested
/// model's layers sit in its own `layers` group.
fn load_layers(model: &mut Model, group: &Group, path: &str) -> Result<()> {
    let mut names = KerasNames::default();
    for index in 0..model.graph.layers.len() {
        let entry = &model.graph.layers[index];
        if !entry.listed || entry.is_op {
            continue;
        }
        let path_name = names.next(&entry.class_name);
        let label = entry.label();
        let missing = |what: String| Error::ModelWeights {
            layer: label.clone(),
            message: what,
        };
        if let LayerOp::Opaque(opaque) = &mut model.graph.layers[index].op {
            // Keras writes a group for every layer, empty when it has no weights.
            let mut shapes = Vec::new();
            if let Ok(g) = group.group(&path_name) {
                stored_shapes(&g, 0, &mut shapes).map_err(|e| e.in_layer(label.clone()))?;
            }
            opaque.stored = Some(shapes);
            continue;
        }
        if let LayerOp::Model(nested) = &mut model.graph.layers[index].op {
            let inner = group
                .group(&path_name)
                .and_then(|g| g.group("layers"))
                .map_err(|e| missing(format!("missing {path}/{path_name}/layers: {e}")))?;
            load_layers(nested, &inner, &format!("{path}/{path_name}/layers"))
                .map_err(|e| e.in_layer(label.clone()))?;
            continue;
        }
        let expected = model.graph.weight_specs(index)?;
        if expected.is_empty() {
            continue;
        }
        let layer_group = group
            .group(&path_name)
            .map_err(|e| missing(format!("missing weights at {path}/{path_name}: {e}")))?;
        let mut tensors = Vec::new();
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for spec in &expected {
            let i = match counts.iter_mut().find(|(g, _)| *g == spec.group) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    counts.push((spec.group, 1));
                    0
                }
            };
            let at = format!("{path}/{path_name}/{}/{i}", spec.group);
            let vars = spec
                .group
                .split('/')
                .try_fold(layer_group.clone(), |g, part| g.group(part))
                .map_err(|e| missing(format!("missing {at} ({}): {e}", spec.name)))?;
            let dataset = vars
                .dataset(&i.to_string())
                .map_err(|e| missing(format!("missing weight {at} ({}): {e}", spec.name)))?;
            let found: Vec<usize> = dataset.shape().iter().map(|&d| d as usize).collect();
            if found != spec.shape {
                return Err(missing(format!(
                    "weight {at} ({}) has shape {found:?}, expected {:?}",
                    spec.name, spec.shape
                )));
            }
            if !spec.inference {
                // Bookkeeping only (an integer count): its values are never read.
                tensors.push(Tensor::from_fn(found, |_| 0.0)?);
                continue;
            }
            let values = read_f32(&dataset).map_err(|e| {
                missing(format!("cannot read {at} ({}) as float32: {e}", spec.name))
            })?;
            tensors.push(Tensor::new(found, values)?);
        }
        for (g, n) in &counts {
            let held = g
                .split('/')
                .try_fold(layer_group.clone(), |grp, part| grp.group(part))
                .ok()
                .and_then(|grp| grp.member_names().ok())
                .map_or(0, |(_, names)| names.len());
            if held != *n {
                return Err(missing(format!(
                    "{path}/{path_name}/{g} holds {held} weights, the layer needs {n}"
                )));
            }
        }
        model.set_weights_at(index, tensors)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ieee_binary32;

    /// The datatype message h5py writes for `<f4`: class 1, version 1, normalization 2 and
    /// sign at bit 31, size 4, offset 0, precision 32, exponent 23/8, mantissa 0/23, bias 127.
    fn binary32_le() -> Vec<u8> {
        let mut m = vec![
            0x11, 0x20, 0x1f, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23,
        ];
        m.extend_from_slice(&127u32.to_le_bytes());
        m
    }

    #[test]
    fn only_ieee_binary32_layouts_pass() {
        assert!(ieee_binary32(&binary32_le()));
        let mut big_endian = binary32_le();
        big_endian[1] |= 0x01;
        assert!(ieee_binary32(&big_endian));
        let mut vax = binary32_le();
        vax[1] |= 0x40;
        assert!(!ieee_binary32(&vax));
        let mut bias = binary32_le();
        bias[16] = 100;
        assert!(!ieee_binary32(&bias));
        let mut exponent = binary32_le();
        exponent[13] = 7;
        assert!(!ieee_binary32(&exponent));
        let mut sign = binary32_le();
        sign[2] = 0;
        assert!(!ieee_binary32(&sign));
        assert!(!ieee_binary32(&binary32_le()[..12]));
    }
}
