//! Outputs computed by real Keras 3 (tests/fixtures/keras, made by tools/gen_keras_fixtures.py)
//! against both backends. Keras's config is taken as recorded, so these also check that wgcnn
//! reads Keras's hyper-parameters the way Keras means them.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_close, reduction_tolerance};
use serde_json::Value;
use wgcnn::npy::read_npy;
use wgcnn::{reference, Activation, Conv2dSpec, Pool2dSpec};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keras")
}

fn pair(v: &Value) -> [usize; 2] {
    let a = v.as_array().expect("a [h, w] pair");
    [
        a[0].as_u64().unwrap() as usize,
        a[1].as_u64().unwrap() as usize,
    ]
}

fn load(case: &Value, key: &str) -> wgcnn::Tensor {
    read_npy(fixtures().join(case["files"][key].as_str().unwrap())).unwrap()
}

#[test]
fn both_backends_match_keras() {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("cases.json")).unwrap())
            .unwrap();
    let cases = meta["cases"].as_array().unwrap();
    assert!(cases.len() >= 13);
    let gpu = common::gpu();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let cfg = &case["config"];
        let x = load(case, "input");
        let expected = load(case, "output");
        let (cpu, gpu_out, k) = match case["op"].as_str().unwrap() {
            "conv2d" => {
                let spec = Conv2dSpec::new(
                    cfg["filters"].as_u64().unwrap() as usize,
                    pair(&cfg["kernel_size"]),
                )
                .strides(pair(&cfg["strides"]))
                .dilation(pair(&cfg["dilation_rate"]))
                .padding(cfg["padding"].as_str().unwrap().parse().unwrap())
                .use_bias(cfg["use_bias"].as_bool().unwrap())
                .activation(
                    cfg["activation"]
                        .as_str()
                        .unwrap()
                        .parse::<Activation>()
                        .unwrap(),
                );
                let kernel = load(case, "kernel");
                let bias = spec.use_bias.then(|| load(case, "bias"));
                let cin = x.shape()[3];
                assert_eq!(
                    spec.param_count(cin).unwrap() as u64,
                    case["params"].as_u64().unwrap(),
                    "{name}"
                );
                assert_eq!(
                    spec.output_shape(x.shape().try_into().unwrap()).unwrap()[..],
                    expected.shape()[..],
                    "{name}"
                );
                (
                    reference::conv2d(&spec, &x, &kernel, bias.as_ref()).unwrap(),
                    gpu.conv2d(&spec, &x, &kernel, bias.as_ref()).unwrap(),
                    spec.kernel_size[0] * spec.kernel_size[1] * cin,
                )
            }
            "max_pool2d" => {
                let spec = Pool2dSpec::new(pair(&cfg["pool_size"]))
                    .strides(pair(&cfg["strides"]))
                    .padding(cfg["padding"].as_str().unwrap().parse().unwrap());
                (
                    reference::max_pool2d(&spec, &x).unwrap(),
                    gpu.max_pool2d(&spec, &x).unwrap(),
                    0,
                )
            }
            other => panic!("{name}: unknown op {other}"),
        };
        if k == 0 {
            // Pooling selects values: Keras, the reference and the GPU agree exactly.
            assert_eq!(cpu, expected, "{name}: cpu vs keras");
            assert_eq!(gpu_out, expected, "{name}: gpu vs keras");
        } else {
            let tol = reduction_tolerance(k);
            assert_close(&cpu, &expected, tol, &format!("{name}: cpu vs keras"));
            assert_close(&gpu_out, &expected, tol, &format!("{name}: gpu vs keras"));
        }
    }
}
