//! `wgcnn conv2d` and `wgcnn max-pool2d`: one Keras layer on .npy files, on the backend
//! `--backend` names.

use std::process::ExitCode;

use wgcnn::npy::{read_npy, OutputTarget};
use wgcnn::{reference, Backend, Gpu, Pool2dSpec, Tensor};

use super::backend::{self, gpu_name};
use super::run::report;
use crate::{Conv2dArgs, MaxPool2dArgs};

/// `wgcnn conv2d`: filters and kernel size come from the kernel's shape.
pub(crate) fn conv2d(args: Conv2dArgs) -> wgcnn::Result<ExitCode> {
    let Conv2dArgs {
        input,
        kernel,
        bias,
        conv,
        backend,
        output,
    } = args;
    let output = OutputTarget::prepare(&output)?;
    let x = read_npy(&input)?;
    let k = read_npy(&kernel)?;
    let b = bias.map(read_npy).transpose()?;
    // Filters and kernel size come from the kernel; `check` verifies the rest.
    let [kh, kw, _, filters] = *k.shape() else {
        return Err(wgcnn::Error::ShapeMismatch {
            op: "conv2d",
            what: "kernel",
            expected: "rank 4 (kh, kw, in_channels, filters)".into(),
            actual: k.shape().to_vec(),
        });
    };
    let spec = conv.spec(filters, [kh, kw], b.is_some());
    // Bad shapes or configs are reported before any device is opened.
    spec.check(x.shape(), k.shape(), b.as_ref().map(Tensor::shape))?;
    let (y, device) = match backend::resolve(backend) {
        Backend::Gpu => {
            let gpu = Gpu::shared()?;
            (gpu.conv2d(&spec, &x, &k, b.as_ref())?, gpu_name(gpu))
        }
        Backend::Cpu => (wgcnn::cpu::conv2d(&spec, &x, &k, b.as_ref())?, "cpu".into()),
        Backend::Reference => (
            reference::conv2d(&spec, &x, &k, b.as_ref())?,
            "reference".into(),
        ),
    };
    output.write(&y)?;
    report(&output, &format!("shape {:?}", y.shape()), &device);
    Ok(ExitCode::SUCCESS)
}

/// `wgcnn max-pool2d`: strides default to the pool size, as in Keras.
pub(crate) fn max_pool2d(args: MaxPool2dArgs) -> wgcnn::Result<ExitCode> {
    let MaxPool2dArgs {
        input,
        pool_size,
        strides,
        padding,
        backend,
        output,
    } = args;
    let output = OutputTarget::prepare(&output)?;
    let x = read_npy(&input)?;
    let spec = Pool2dSpec::new(pool_size)
        .strides(strides.unwrap_or(pool_size))
        .padding(padding);
    spec.check(x.shape())?;
    let (y, device) = match backend::resolve(backend) {
        Backend::Gpu => {
            let gpu = Gpu::shared()?;
            (gpu.max_pool2d(&spec, &x)?, gpu_name(gpu))
        }
        Backend::Cpu => (wgcnn::cpu::max_pool2d(&spec, &x)?, "cpu".into()),
        Backend::Reference => (reference::max_pool2d(&spec, &x)?, "reference".into()),
    };
    output.write(&y)?;
    report(&output, &format!("shape {:?}", y.shape()), &device);
    Ok(ExitCode::SUCCESS)
}
