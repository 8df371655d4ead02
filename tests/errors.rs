//! Bad configs and shapes are typed errors naming the op and shapes — on both backends, never a
//! panic, an overflow or a zero-sized buffer.

mod common;

use std::path::Path;

use wgcnn::{reference, Conv2dSpec, Error, Model, Padding, Pool2dSpec, Tensor};

fn ones(shape: &[usize]) -> Tensor {
    Tensor::from_fn(shape.to_vec(), |_| 1.0).unwrap()
}

/// Runs a conv on both backends and returns the (identical) error message.
fn conv_error(
    spec: Conv2dSpec,
    input: &[usize],
    kernel: &[usize],
    bias: Option<&[usize]>,
) -> (Error, String) {
    let (x, k) = (ones(input), ones(kernel));
    let b = bias.map(ones);
    let cpu = reference::conv2d(&spec, &x, &k, b.as_ref()).unwrap_err();
    let gpu = common::gpu().conv2d(&spec, &x, &k, b.as_ref()).unwrap_err();
    assert_eq!(cpu.to_string(), gpu.to_string());
    let message = cpu.to_string();
    (cpu, message)
}

#[test]
fn conv2d_bad_configs() {
    let cases: Vec<(Conv2dSpec, [usize; 4], &str)> = vec![
        (Conv2dSpec::new(0, [3, 3]), [1, 5, 5, 1], "filters"),
        (Conv2dSpec::new(2, [0, 3]), [1, 5, 5, 1], "kernel_size"),
        (
            Conv2dSpec::new(2, [3, 3]).strides([0, 1]),
            [1, 5, 5, 1],
            "strides",
        ),
        (
            Conv2dSpec::new(2, [3, 3]).dilation([1, 0]),
            [1, 5, 5, 1],
            "dilation",
        ),
        (
            Conv2dSpec::new(2, [3, 3]).dilation([2, 2]).strides([2, 1]),
            [1, 9, 9, 1],
            "cannot be combined",
        ),
    ];
    for (spec, input, needle) in cases {
        let kernel = spec.kernel_shape(input[3]);
        let bias = [spec.filters];
        let (err, message) = conv_error(spec, &input, &kernel, Some(&bias));
        assert!(
            matches!(err, Error::InvalidConfig { op: "conv2d", .. }),
            "{message}"
        );
        assert!(
            message.contains(needle),
            "{message} should mention {needle}"
        );
    }
}

#[test]
fn conv2d_valid_kernel_larger_than_input_is_empty_output() {
    let spec = Conv2dSpec::new(2, [3, 7]);
    let (err, message) = conv_error(spec, &[1, 5, 5, 1], &spec.kernel_shape(1), Some(&[2]));
    assert!(
        matches!(
            err,
            Error::EmptyOutput {
                axis: "width",
                input: 5,
                window: 7,
                ..
            }
        ),
        "{message}"
    );
    // Dilation enlarges the window: 3 taps at dilation 3 span 7 cells.
    let spec = Conv2dSpec::new(1, [3, 1]).dilation([3, 1]);
    let (err, _) = conv_error(spec, &[1, 6, 5, 1], &spec.kernel_shape(1), Some(&[1]));
    assert!(matches!(
        err,
        Error::EmptyOutput {
            axis: "height",
            input: 6,
            window: 7,
            ..
        }
    ));
}

#[test]
fn conv2d_shape_mismatches_name_the_shapes() {
    let spec = Conv2dSpec::new(4, [3, 3]);
    // Kernel expects 2 input channels, the input has 3.
    let (err, message) = conv_error(spec, &[1, 5, 5, 3], &[3, 3, 2, 4], Some(&[4]));
    assert!(
        matches!(err, Error::ShapeMismatch { what: "kernel", .. }),
        "{message}"
    );
    assert!(
        message.contains("[3, 3, 2, 4]") && message.contains("[3, 3, 3, 4]"),
        "{message}"
    );
    // Bias of the wrong length.
    let (err, message) = conv_error(spec, &[1, 5, 5, 2], &[3, 3, 2, 4], Some(&[3]));
    assert!(
        matches!(err, Error::ShapeMismatch { what: "bias", .. }),
        "{message}"
    );
    // Missing bias when use_bias, and a bias when not.
    let (err, _) = conv_error(spec, &[1, 5, 5, 2], &[3, 3, 2, 4], None);
    assert!(matches!(err, Error::ShapeMismatch { what: "bias", .. }));
    let (err, _) = conv_error(
        spec.use_bias(false),
        &[1, 5, 5, 2],
        &[3, 3, 2, 4],
        Some(&[4]),
    );
    assert!(matches!(err, Error::ShapeMismatch { what: "bias", .. }));
    // Wrong rank, and zero-sized dimensions.
    let (err, _) = conv_error(spec, &[5, 5, 2], &[3, 3, 2, 4], Some(&[4]));
    assert!(matches!(err, Error::ShapeMismatch { what: "input", .. }));
    let (err, _) = conv_error(spec, &[0, 5, 5, 2], &[3, 3, 2, 4], Some(&[4]));
    assert!(matches!(err, Error::ShapeMismatch { what: "input", .. }));
    let (err, _) = conv_error(spec, &[1, 0, 5, 2], &[3, 3, 2, 4], Some(&[4]));
    assert!(matches!(err, Error::InvalidConfig { .. }));
}

#[test]
fn max_pool2d_bad_configs() {
    let x = ones(&[1, 4, 4, 2]);
    let cases = [
        (Pool2dSpec::new([0, 2]), "pool_size"),
        (Pool2dSpec::new([2, 2]).strides([2, 0]), "strides"),
        (Pool2dSpec::new([5, 2]), "output would be empty"),
    ];
    for (spec, needle) in cases {
        let cpu = reference::max_pool2d(&spec, &x).unwrap_err();
        let gpu = common::gpu().max_pool2d(&spec, &x).unwrap_err();
        assert_eq!(cpu.to_string(), gpu.to_string());
        assert!(cpu.to_string().contains(needle), "{cpu}");
    }
    let err = reference::max_pool2d(&Pool2dSpec::new([2, 2]), &ones(&[4, 4])).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { what: "input", .. }));
}

#[test]
fn absurd_shapes_overflow_into_errors() {
    let spec = Conv2dSpec::new(usize::MAX, [usize::MAX, 2]).padding(Padding::Same);
    assert!(matches!(spec.param_count(3), Err(Error::Overflow { .. })));
    assert!(spec.output_shape([1, 4, 4, 3]).is_err());
    let err = Tensor::new(vec![usize::MAX, 3], vec![]).unwrap_err();
    assert!(matches!(err, Error::Overflow { .. }));
    let err = Tensor::new(vec![2, 3], vec![0.0; 5]).unwrap_err();
    assert!(matches!(
        err,
        Error::DataLength {
            expected: 6,
            len: 5,
            ..
        }
    ));
}

/// Other frameworks' model files and folders are named, with how to save a Keras model.
#[test]
fn other_model_formats_say_what_they_are() {
    let dir = std::env::temp_dir().join(format!("wgcnn-formats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let zip_with = |name: &str, member: &str| {
        let path = dir.join(name);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        zip.start_file(member, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, b"\x80\x02}q\x00.").unwrap();
        zip.finish().unwrap();
        path
    };
    let saved_model = dir.join("saved_model_dir");
    std::fs::create_dir_all(saved_model.join("variables")).unwrap();
    std::fs::write(saved_model.join("saved_model.pb"), b"\x08\x01").unwrap();
    let tfjs = dir.join("tfjs");
    std::fs::create_dir_all(&tfjs).unwrap();
    std::fs::write(tfjs.join("model.json"), b"{\"modelTopology\": {}}").unwrap();
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut safetensors = 2u64.to_le_bytes().to_vec();
    safetensors.extend_from_slice(b"{}");
    let cases = [
        (
            file("model.onnx", b"\x08\x07\x12\x07pytorch\x1a\x052.1.0"),
            "an ONNX model",
        ),
        (
            file("graph.bin", b"\x08\x08\x12\x08tf2onnx"),
            "an ONNX model",
        ),
        (
            zip_with("model.pt", "archive/data.pkl"),
            "a PyTorch checkpoint",
        ),
        (file("model.pkl", b"\x80\x04\x95\x00"), "a Python pickle"),
        (file("weights.safetensors", &safetensors), "safetensors"),
        (
            file(
                "model.json",
                b"{\"format\": \"layers-model\", \"modelTopology\": {}}",
            ),
            "TensorFlow.js",
        ),
        (saved_model, "a TensorFlow SavedModel folder"),
        (tfjs, "TensorFlow.js"),
        (empty, "a folder, not a model file"),
    ];
    for (path, what) in cases {
        let err = Model::load(&path).unwrap_err().to_string();
        assert!(err.contains(what), "{}: {err}", path.display());
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("model.save(\"m.keras\")"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A model input of the wrong shape names the input, and says how to fix the common slips:
/// NCHW data, a missing batch axis.
#[test]
fn input_shape_errors_name_the_input_and_suggest_the_fix() {
    let path = format!("{}/models/cifar10.keras", env!("CARGO_MANIFEST_DIR"));
    let model = Model::load(path).unwrap();
    let name = model.inputs()[0].0.to_string();
    let err = model.check_input(&[4, 3, 32, 32]).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("input '{name}': has shape [4, 3, 32, 32]")),
        "{err}"
    );
    assert!(
        err.contains("NCHW") && err.contains("x.transpose(0, 2, 3, 1)"),
        "{err}"
    );
    let err = model.check_input(&[32, 32, 3]).unwrap_err().to_string();
    assert!(err.contains("x[None]"), "{err}");
    let err = model.check_input(&[4, 32, 32, 1]).unwrap_err().to_string();
    assert!(err.contains("expected (batch ≥ 1, 32, 32, 3)"), "{err}");
    assert!(!err.contains("NCHW") && !err.contains("x[None]"), "{err}");
}

/// A layer called twice has one set of weights: a second call on inputs its weights do not fit
/// is refused when the model loads, as Keras refuses it, rather than run with weights of the
/// wrong width (the fast CPU backend's fused epilogue used to drop the extra scales).
#[test]
fn a_shared_layer_called_on_another_width_is_refused() {
    let tensor = |name: &str| {
        format!(
            r#"{{"args": [{{"class_name": "__keras_tensor__", "config": {{"keras_history": ["{name}", 0, 0]}}}}], "kwargs": {{}}}}"#
        )
    };
    let input = |name: &str, width: usize| {
        format!(
            r#"{{"class_name": "InputLayer", "config": {{"name": "{name}", "batch_shape": [null, {width}], "dtype": "float32"}}, "inbound_nodes": []}}"#
        )
    };
    let json = format!(
        r#"{{"class_name": "Functional", "config": {{"name": "m", "layers": [{}, {}, {{"class_name": "Dense", "config": {{"name": "shared", "units": 3}}, "inbound_nodes": [{}, {}]}}], "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["shared", 0, 0], ["shared", 1, 0]]}}}}"#,
        input("a", 6),
        input("b", 4),
        tensor("a"),
        tensor("b")
    );
    let err = Model::from_json(&json).unwrap_err().to_string();
    assert!(err.contains("shared"), "{err}");
    assert!(err.contains("its weights cannot fit both"), "{err}");
    // The same layer on two inputs of one width is fine.
    let same = json.replace(r#"[null, 4]"#, r#"[null, 6]"#);
    Model::from_json(&same).unwrap();
}

/// Every error starts with what it is about, outermost first, in one form — `FILE: LAYER
/// (Class): what is wrong`, `input 'NAME': …`, `model 'NAME' cannot run: …` — with no
/// category words in between.
#[test]
fn errors_start_with_what_they_are_about() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
    let dir = std::env::temp_dir().join(format!("wgcnn-error-form-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = std::fs::read_to_string(fixtures.join("seed000_conv_valid.json")).unwrap();
    let bad_activation = dir.join("bad_activation.json");
    std::fs::write(&bad_activation, json.replace("\"relu\"", "\"sparsemax\"")).unwrap();
    let wrong_shape = fixtures.join("broken_wrong_shape.keras");
    let chain = Model::load(fixtures.join("functional_chain.json")).unwrap();
    let custom = Model::load(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/any_layer/custom.keras"),
    )
    .unwrap();
    let x = |shape: Vec<usize>| wgcnn::Tensor::from_fn(shape, |_| 0.0).unwrap();
    let cases = [
        (
            Model::load(&bad_activation).unwrap_err(),
            format!(
                "{}: conv2d_11 (Conv2D): invalid config: activation 'sparsemax'",
                bad_activation.display()
            ),
        ),
        (
            Model::load(&wrong_shape).unwrap_err(),
            format!(
                "{}: conv_softmax (Conv2D): weight layers/conv2d/vars/0 (kernel) has shape",
                wrong_shape.display()
            ),
        ),
        (
            Model::load(&dir).unwrap_err(),
            format!("{}: this is a folder", dir.display()),
        ),
        (
            Model::load(fixtures.join("functional_chain.keras"))
                .unwrap()
                .check_input(&[1, 9, 8])
                .unwrap_err(),
            "input 'image': has shape [1, 9, 8]".into(),
        ),
        (
            chain
                .run(wgcnn::Backend::Reference, &x(vec![1, 9, 8, 2]))
                .unwrap_err(),
            "conv_softmax (Conv2D): has no weights".into(),
        ),
        (
            custom
                .run(wgcnn::Backend::Reference, &x(vec![1, 6, 6, 4, 2]))
                .unwrap_err(),
            "model 'custom' cannot run: wgcnn cannot compute conv3d_3 (Conv3D)".into(),
        ),
    ];
    for (err, start) in cases {
        let text = err.to_string();
        assert!(
            text.starts_with(&start),
            "{text:?} should start with {start:?}"
        );
        for category in ["model: ", "model weights: ", "config: invalid config"] {
            assert!(!text.contains(category), "{text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
