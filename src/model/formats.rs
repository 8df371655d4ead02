//! Model files that are not Keras models, recognised by their bytes (or, for a folder, by the
//! files in it), so that loading one says what it is and how to get a `.keras` file instead
//! of a parser's complaint about the first byte it did not expect.

use std::path::Path;

/// How to make a file wgcnn reads, from a model Keras can load.
const SAVE_HINT: &str = "wgcnn reads Keras models: a .keras file (model.save(\"m.keras\")), a \
                         legacy .h5 (model.save(\"m.h5\")) or an architecture JSON \
                         (model.to_json())";

/// What a folder holds, when it is a model format wgcnn does not read.
pub(super) fn folder(path: &Path) -> String {
    let has = |name: &str| path.join(name).is_file();
    let what = if has("saved_model.pb") || has("saved_model.pbtxt") {
        "a TensorFlow SavedModel folder; load it with TensorFlow's Keras \
         (tf.keras.models.load_model) and save it with model.save(\"m.keras\")"
    } else if has("model.json") {
        "a folder with a model.json (TensorFlow.js?); give the Keras model it was converted from, \
         saved with model.save(\"m.keras\")"
    } else if has("config.json") && has("model.weights.h5") {
        "an unzipped .keras archive; zip config.json, metadata.json and model.weights.h5 back \
         into one .keras file, or give config.json alone for a summary"
    } else {
        return format!("a folder, not a model file; {SAVE_HINT}");
    };
    format!("{what} ({SAVE_HINT})")
}

/// What a file is, when its bytes show a model format wgcnn does not read (`None`: maybe a
/// Keras file; its own reader says what is wrong with it).
pub(super) fn foreign_file(path: &Path, bytes: &[u8]) -> Option<String> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let head = &bytes[..bytes.len().min(4096)];
    let contains = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    let what = if bytes.len() >= 2 && bytes[0] == 0x80 && (2..=5).contains(&bytes[1]) {
        "a Python pickle (a PyTorch or scikit-learn file?); wgcnn runs Keras models only"
    } else if extension.as_deref() == Some("onnx")
        || (bytes.first() == Some(&0x08) && (contains(b"onnx") || contains(b"pytorch")))
    {
        "an ONNX model; wgcnn runs Keras models, not ONNX graphs"
    } else if extension.as_deref() == Some("safetensors") || safetensors_header(bytes) {
        "a safetensors weights file (weights only, no architecture)"
    } else if extension.as_deref() == Some("pb") || extension.as_deref() == Some("tflite") {
        "a TensorFlow graph (.pb / .tflite), not a Keras model"
    } else if bytes.first() == Some(&b'{') && contains(b"\"modelTopology\"") {
        "a TensorFlow.js model.json; give the Keras model it was converted from"
    } else {
        return None;
    };
    Some(format!("{what} ({SAVE_HINT})"))
}

/// What a zip archive that is no `.keras` file is, when its members show another framework's
/// format; asked only once reading it as a `.keras` file failed, so a `.keras` file is opened
/// once.
pub(super) fn foreign_zip(bytes: &[u8]) -> Option<String> {
    let what = if zip_holds(bytes, "data.pkl") {
        "a PyTorch checkpoint (torch.save); wgcnn runs Keras models only"
    } else if zip_holds(bytes, "saved_model.pb") {
        "a zipped TensorFlow SavedModel; load it with TensorFlow's Keras \
         (tf.keras.models.load_model) and save it with model.save(\"m.keras\")"
    } else {
        return None;
    };
    Some(format!("{what} ({SAVE_HINT})"))
}

/// Whether a zip archive has a member whose name ends in `/{name}` or is `name`.
fn zip_holds(bytes: &[u8], name: &str) -> bool {
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).is_ok_and(|archive| {
        archive
            .file_names()
            .flatten()
            .any(|f| f == name || f.ends_with(&format!("/{name}")))
    })
}

/// A safetensors file: an 8-byte little-endian header length, then that much JSON.
fn safetensors_header(bytes: &[u8]) -> bool {
    let Some(len) = bytes.get(..8) else {
        return false;
    };
    let len = u64::from_le_bytes(len.try_into().unwrap_or_default());
    len > 1 && len <= (bytes.len() as u64).saturating_sub(8) && bytes.get(8) == Some(&b'{')
}
