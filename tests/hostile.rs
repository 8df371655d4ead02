//! Hostile inputs: sizes and counts chosen to overflow or exhaust memory must be errors raised
//! before anything is allocated, never an abort, a hang or a wrapped number.

mod common;

use wgcnn::layers::{BatchNormalization, Dense, LayerActivation, ZeroPadding2d};
use wgcnn::model::{Backend, Model, Sequential};
use wgcnn::{reference, Error, Padding, Pool2dSpec, Tensor};

#[test]
fn parameter_counts_that_overflow_are_errors() {
    let dense = Sequential::new([1 << 40])
        .layer(Dense {
            units: 1 << 40,
            use_bias: true,
            activation: LayerActivation::Elementwise(wgcnn::Activation::Linear),
        })
        .build()
        .unwrap_err();
    assert!(
        dense.to_string().contains("parameter count overflows"),
        "{dense}"
    );
    // Four vectors of 2^62 values: the count fits nowhere.
    let bn = Sequential::new([1 << 62])
        .layer(BatchNormalization::new())
        .build()
        .unwrap_err();
    assert!(bn.to_string().contains("parameter count overflows"), "{bn}");
    // 2^62 parameters fit a usize but not as bytes.
    let bytes = Sequential::new([1 << 31])
        .layer(Dense {
            units: 1 << 31,
            use_bias: false,
            activation: LayerActivation::Elementwise(wgcnn::Activation::Linear),
        })
        .build()
        .unwrap_err();
    assert!(
        bytes.to_string().contains("parameter count overflows"),
        "{bytes}"
    );
}

fn huge_padding() -> Model {
    // 4×4 → 2,000,004 × 2,000,004: 16 TB of float32 from a layer with no weights.
    Sequential::new([4, 4, 1])
        .layer(ZeroPadding2d([
            [1_000_000, 1_000_000],
            [1_000_000, 1_000_000],
        ]))
        .build()
        .unwrap()
}

#[test]
fn cpu_backends_refuse_tensors_beyond_memory_before_allocating() {
    let model = huge_padding();
    let x = Tensor::from_fn(vec![1, 4, 4, 1], |i| i as f32).unwrap();
    for (name, result) in [
        ("cpu", model.run_cpu(&x)),
        ("reference", model.run_reference(&x)),
    ] {
        match result {
            Err(Error::MemoryLimit { needed, limit, .. }) => {
                assert_eq!(needed, 2_000_004u64 * 2_000_004 * 4, "{name}");
                assert!(limit < needed, "{name}");
            }
            other => panic!("{name}: expected a memory limit error, got {other:?}"),
        }
    }
    // The GPU refuses it too, with its own limit.
    let err = model.compile(common::gpu(), 1).unwrap_err();
    assert!(matches!(err, Error::LimitExceeded { .. }), "{err}");
}

#[test]
fn pooling_windows_far_larger_than_the_input_cost_nothing() {
    // A 2^40 × 2^40 window over a 3×3 input: 'same' padding puts all of it outside but the
    // input's cells. Walking the window cell by cell would never finish.
    let x = Tensor::from_fn(vec![1, 3, 3, 2], |i| (i as f32 * 0.7).sin()).unwrap();
    let spec = Pool2dSpec::new([1 << 40, 1 << 40]).padding(Padding::Same);
    let max = x.data().chunks(2).fold([f32::NEG_INFINITY; 2], |m, c| {
        [m[0].max(c[0]), m[1].max(c[1])]
    });
    let mean = x
        .data()
        .chunks(2)
        .fold([0.0f32; 2], |s, c| [s[0] + c[0] / 9.0, s[1] + c[1] / 9.0]);
    for (name, y) in [
        ("reference", reference::max_pool2d(&spec, &x).unwrap()),
        ("cpu", wgcnn::cpu::max_pool2d(&spec, &x).unwrap()),
    ] {
        assert_eq!(y.shape(), &[1, 1, 1, 2], "{name}");
        assert_eq!(y.data(), &max, "{name}");
    }
    for (name, y) in [
        ("reference", reference::avg_pool2d(&spec, &x).unwrap()),
        ("cpu", wgcnn::cpu::avg_pool2d(&spec, &x).unwrap()),
    ] {
        for (a, b) in y.data().iter().zip(&mean) {
            assert!((a - b).abs() < 1e-6, "{name}: {a} vs {b}");
        }
    }
}

/// A `.keras` archive whose members are given as (name, bytes), deflated.
fn keras_archive(members: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

#[test]
fn zip_members_are_bounded_before_they_are_inflated() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/models");
    let config = std::fs::read(format!("{dir}/cifar10.json")).unwrap();
    // 1.25M parameters: the weights may take a few MB, not 300 MB of zeros (300 KB deflated).
    let bomb = vec![0u8; 300 << 20];
    let archive = keras_archive(&[("config.json", &config), ("model.weights.h5", &bomb)]);
    assert!(archive.len() < 2 << 20, "{} bytes", archive.len());
    let err = Model::from_keras_bytes("bomb.keras", &archive).unwrap_err();
    assert!(
        err.to_string()
            .contains("model.weights.h5 inflates to more than"),
        "{err}"
    );
    // A config.json of 100 MB of spaces is refused the same way.
    let spaces = vec![b' '; 100 << 20];
    let archive = keras_archive(&[("config.json", &spaces), ("model.weights.h5", b"")]);
    let err = Model::from_keras_bytes("bomb.keras", &archive).unwrap_err();
    assert!(
        err.to_string()
            .contains("config.json inflates to more than"),
        "{err}"
    );
}

#[test]
fn four_byte_floats_of_another_layout_are_refused_not_misread() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/models/every_layer.keras"
    );
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let read = |archive: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut archive.by_name(name).unwrap(), &mut bytes).unwrap();
        bytes
    };
    let config = read(&mut archive, "config.json");
    let mut h5 = read(&mut archive, "model.weights.h5");
    // The float32 datatype messages' properties: offset 0, precision 32, exponent at 23 of 8
    // bits, mantissa at 0 of 23 bits, bias 127. Change the bias to 100 everywhere: same
    // size, another format.
    let ieee: [u8; 12] = [0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0];
    let mut patched = 0;
    for i in 0..h5.len().saturating_sub(ieee.len()) {
        if h5[i..i + ieee.len()] == ieee {
            h5[i + 8] = 100;
            patched += 1;
        }
    }
    assert!(patched > 0);
    let archive = keras_archive(&[("config.json", &config), ("model.weights.h5", &h5)]);
    let err = Model::from_keras_bytes("custom-float.keras", &archive).unwrap_err();
    assert!(err.to_string().contains("not IEEE 754 binary32"), "{err}");
}

#[test]
fn thousands_of_inputs_and_outputs_run_on_every_backend() {
    // 2,000 inputs, each feeding a Rescaling(offset = k) that is an output listed twice: the
    // per-input and per-output look-ups (input slots, last mentions of outputs, fusion and
    // slicing checks, GPU buffers) are maps and sets, not scans of every input or output.
    const N: usize = 2_000;
    let tensor = |from: &str| {
        serde_json::json!({"class_name": "__keras_tensor__",
            "config": {"shape": [null, 2], "dtype": "float32", "keras_history": [from, 0, 0]}})
    };
    let mut layers = Vec::new();
    for k in 0..N {
        let (x, r) = (format!("x{k}"), format!("r{k}"));
        layers.push(serde_json::json!({"class_name": "InputLayer", "name": x,
            "config": {"batch_shape": [null, 2], "dtype": "float32", "name": x},
            "inbound_nodes": []}));
        layers.push(serde_json::json!({"class_name": "Rescaling", "name": r,
            "config": {"name": r, "scale": 1.0, "offset": k},
            "inbound_nodes": [{"args": [tensor(&x)], "kwargs": {}}]}));
    }
    let inputs: Vec<_> = (0..N)
        .map(|k| serde_json::json!([format!("x{k}"), 0, 0]))
        .collect();
    let outputs: Vec<_> = (0..2 * N)
        .map(|k| serde_json::json!([format!("r{}", k % N), 0, 0]))
        .collect();
    let config = serde_json::json!({"class_name": "Functional", "config": {"name": "wide",
        "layers": layers, "input_layers": inputs, "output_layers": outputs}});
    let model = Model::from_json(&config.to_string()).unwrap();
    let xs: Vec<Tensor> = (0..N)
        .map(|k| Tensor::new(vec![1, 2], vec![k as f32, -(k as f32)]).unwrap())
        .collect();
    let refs: Vec<&Tensor> = xs.iter().collect();
    let started = std::time::Instant::now();
    let mut compiled = model.compile(common::gpu(), 1).unwrap();
    for (name, ys) in [
        (
            "reference",
            model.run_many(Backend::Reference, &refs).unwrap(),
        ),
        ("cpu", model.run_many(Backend::Cpu, &refs).unwrap()),
        ("gpu", compiled.run_many(&refs).unwrap()),
    ] {
        assert_eq!(ys.len(), 2 * N, "{name}");
        for (j, y) in ys.iter().enumerate() {
            let k = (j % N) as f32;
            assert_eq!(y.data(), &[2.0 * k, 0.0], "{name}: output {j}");
        }
    }
    let took = started.elapsed();
    assert!(took.as_secs() < 60, "{took:?}");
}

#[test]
fn synthetic_weights_beyond_the_memory_limit_are_an_error_not_an_abort() {
    // 2^20 × 2^20 weights (4 TiB as float32): far beyond any machine's physical memory, which
    // is the default limit; asking the allocator aborted the process.
    let mut model = Sequential::new([1 << 20])
        .layer(Dense {
            units: 1 << 20,
            use_bias: false,
            activation: LayerActivation::Elementwise(wgcnn::Activation::Linear),
        })
        .build()
        .unwrap();
    let e = model.fill_synthetic_weights().unwrap_err();
    assert!(matches!(e, Error::MemoryLimit { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("synthetic weight dense/0 of shape [1048576, 1048576]"),
        "{e}"
    );
}

#[test]
fn synthetic_inputs_beyond_the_memory_limit_are_an_error_not_an_abort() {
    // `run --random-input 1000000000000` on a 1,024-value input: 4 PB asked of the allocator.
    let model = Sequential::new([1024])
        .layer(Dense {
            units: 2,
            use_bias: false,
            activation: LayerActivation::Elementwise(wgcnn::Activation::Linear),
        })
        .build()
        .unwrap();
    let e = model.synthetic_inputs(1 << 40).unwrap_err();
    assert!(matches!(e, Error::MemoryLimit { .. }), "{e}");
    assert_eq!(model.synthetic_inputs(3).unwrap()[0].shape(), &[3, 1024]);
}
