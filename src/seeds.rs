//! The worked examples of the documents wgcnn grew from — five Keras tutorials on Conv2D and
//! MaxPooling2D output shapes and parameter counts, numbered seed 000 to 004 (the README
//! summarises them): Keras layers with the output shapes and parameter counts those documents
//! print. The expectations below are copied from the documents, not computed by wgcnn, so
//! `wgcnn demo` and tests/seeds.rs can check wgcnn against them.
//!
//! This is the demo's data (and the web page's examples), not part of the inference API: it
//! exists only with the `seeds` feature, which the `cli` feature (default) turns on.

use crate::shape::Padding;
use crate::specs::{Conv2dSpec, Pool2dSpec};

/// A layer of a seed example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedLayer {
    /// `Conv2D`.
    Conv2d(Conv2dSpec),
    /// `MaxPooling2D`.
    MaxPool2d(Pool2dSpec),
}

/// One layer with what the seed document says it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedStep {
    /// The layer.
    pub layer: SeedLayer,
    /// The output shape without the batch dimension, `(h, w, c)`.
    pub expected_shape: [usize; 3],
    /// The parameter count (`Param #`).
    pub expected_params: usize,
}

/// A chain of layers applied to one input, as in one of the seed documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedExample {
    /// Where it comes from.
    pub source: &'static str,
    /// The input shape without the batch dimension, `(h, w, c)`.
    pub input: [usize; 3],
    /// The layers in order, each fed by the previous one.
    pub steps: Vec<SeedStep>,
}

fn conv(spec: Conv2dSpec, shape: [usize; 3], params: usize) -> SeedStep {
    SeedStep {
        layer: SeedLayer::Conv2d(spec),
        expected_shape: shape,
        expected_params: params,
    }
}

fn pool(spec: Pool2dSpec, shape: [usize; 3]) -> SeedStep {
    SeedStep {
        layer: SeedLayer::MaxPool2d(spec),
        expected_shape: shape,
        expected_params: 0,
    }
}

/// Every worked Conv2D/MaxPooling2D example of the seed documents.
pub fn seed_examples() -> Vec<SeedExample> {
    use crate::activation::Activation::Relu;
    use Padding::{Same, Valid};
    vec![
        SeedExample {
            source: "seeds 000/002: Conv2D(16, 2, strides=2, 'valid') on 200x200x1",
            input: [200, 200, 1],
            steps: vec![conv(
                Conv2dSpec::new(16, [2, 2]).strides([2, 2]).activation(Relu),
                [100, 100, 16],
                80,
            )],
        },
        SeedExample {
            source: "seed 000: Conv2D(32, 3, strides=2, 'same') on 128x128x3",
            input: [128, 128, 3],
            steps: vec![conv(
                Conv2dSpec::new(32, [3, 3])
                    .strides([2, 2])
                    .padding(Same)
                    .activation(Relu),
                [64, 64, 32],
                896,
            )],
        },
        SeedExample {
            source: "seed 003: Conv2D(55, (3,2), strides=(2,1), 'valid') then \
                     Conv2D(35, (5,2), strides=(3,2), 'same') on 100x95x3",
            input: [100, 95, 3],
            steps: vec![
                conv(
                    Conv2dSpec::new(55, [3, 2]).strides([2, 1]).padding(Valid),
                    [49, 94, 55],
                    1045,
                ),
                conv(
                    Conv2dSpec::new(35, [5, 2]).strides([3, 2]).padding(Same),
                    [17, 47, 35],
                    19285,
                ),
            ],
        },
        SeedExample {
            source: "seed 001: MaxPooling2D(2, strides=2) on 100x100x15",
            input: [100, 100, 15],
            steps: vec![pool(Pool2dSpec::new([2, 2]).strides([2, 2]), [50, 50, 15])],
        },
        SeedExample {
            source: "seed 003: MaxPooling2D((3,2), strides=(2,1), 'valid') then \
                     MaxPooling2D((5,2), strides=(3,2), 'same') on 100x95x3",
            input: [100, 95, 3],
            steps: vec![
                pool(Pool2dSpec::new([3, 2]).strides([2, 1]), [49, 94, 3]),
                pool(
                    Pool2dSpec::new([5, 2]).strides([3, 2]).padding(Same),
                    [17, 47, 3],
                ),
            ],
        },
        SeedExample {
            source: "seed 004: Conv2D(32, 5, use_bias=False) then Conv2D(64, 5, use_bias=False) \
                     on 28x28x3",
            input: [28, 28, 3],
            steps: vec![
                conv(
                    Conv2dSpec::new(32, [5, 5]).use_bias(false).activation(Relu),
                    [24, 24, 32],
                    2400,
                ),
                conv(
                    Conv2dSpec::new(64, [5, 5]).use_bias(false).activation(Relu),
                    [20, 20, 64],
                    51200,
                ),
            ],
        },
    ]
}
