//! A layer defined outside the crate: it implements the public `Layer` trait (config-free,
//! shape, reference), runs on the reference and fast CPU backends, and compiling its model for
//! the GPU is a typed error naming it, not a panic.

mod common;

use wgcnn::layers::Layer;
use wgcnn::model::{Backend, Sequential};
use wgcnn::{Error, Result, Tensor};

/// `2x + 1`, element-wise.
#[derive(Debug)]
struct TwiceplusOne;

impl Layer for TwiceplusOne {
    fn class_name(&self) -> &'static str {
        "TwicePlusOne"
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>> {
        Ok(inputs[0].to_vec())
    }

    fn reference(&self, inputs: &[&Tensor], _weights: &[Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        Tensor::new(
            x.shape().to_vec(),
            x.data().iter().map(|v| 2.0 * v + 1.0).collect(),
        )
    }
}

#[test]
fn a_layer_from_outside_runs_on_the_cpu_backends_and_says_it_has_no_gpu_kernels() {
    let model = Sequential::new([3]).layer(TwiceplusOne).build().unwrap();
    let x = Tensor::new(vec![2, 3], vec![0.0, 1.0, -1.0, 0.5, 2.0, -3.0]).unwrap();
    for backend in [Backend::Reference, Backend::Cpu] {
        let y = model.run(backend, &x).unwrap();
        assert_eq!(y.data(), &[1.0, 3.0, -1.0, 2.0, 5.0, -5.0], "{backend}");
    }
    let err = model.compile(common::gpu(), 2).unwrap_err();
    assert!(
        matches!(err.root(), Error::NoGpuLowering { layer } if layer == "TwicePlusOne"),
        "{err:?}"
    );
    assert!(err.to_string().contains("no GPU lowering"), "{err}");
}
