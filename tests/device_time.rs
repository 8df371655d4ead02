//! Device time: a compiled model times itself on the GPU's own clock (timestamp queries) where
//! the adapter has them, and says it cannot (`None`) where it has not or they were not asked
//! for; timing never changes what a run computes.

mod common;

use std::time::{Duration, Instant};

use wgcnn::gpu::DeviceTiming;
use wgcnn::layers::{Conv2d, MaxPooling2d};
use wgcnn::model::{Model, Sequential};
use wgcnn::{Backend, Conv2dSpec, Gpu, GpuOptions, Padding, Pool2dSpec, Tensor};

fn model() -> Model {
    let mut m = Sequential::new([12, 10, 3])
        .layer(Conv2d::new(
            Conv2dSpec::new(8, [3, 3]).padding(Padding::Same),
        ))
        .layer(MaxPooling2d(Pool2dSpec::new([2, 2])))
        .layer(Conv2d::new(Conv2dSpec::new(4, [3, 3])))
        .build()
        .unwrap();
    m.fill_synthetic_weights().unwrap();
    m
}

fn input() -> Tensor {
    Tensor::from_fn(vec![2, 12, 10, 3], |i| ((i * 37 % 23) as f32 - 11.0) / 8.0).unwrap()
}

#[test]
fn a_device_with_timestamps_times_the_whole_pass_and_every_step() {
    let gpu = common::gpu();
    let name = gpu.adapter_info().name.to_lowercase();
    // Mesa's software adapters (lavapipe, llvmpipe on GL) offer timestamp queries: on the
    // machines the tests run on, device time must be measured, not skipped.
    if name.contains("llvmpipe") {
        assert_eq!(gpu.device_timing(), DeviceTiming::Timestamps, "{name}");
    }
    let model = model();
    let x = input();
    let expected = model.run(Backend::Reference, &x).unwrap();
    let mut compiled = model.compile(gpu, 2).unwrap();
    compiled.load(&[&x]).unwrap();

    let started = Instant::now();
    let device = compiled.time_loaded().unwrap();
    let host = started.elapsed();
    let steps = compiled.profile_loaded().unwrap();
    assert_eq!(steps.len(), compiled.dispatches());
    match gpu.device_timing() {
        DeviceTiming::Timestamps => {
            // The device's time for the pass lies within the host's wait for it: a wrong
            // timestamp period (ticks read as nanoseconds) would break this.
            let device = device.expect("a device with timestamp queries times the pass");
            assert!(
                device > Duration::ZERO && device <= host,
                "{device:?} vs {host:?}"
            );
            for step in &steps {
                let d = step.device.expect("every step timed on the device");
                assert!(d > Duration::ZERO && d <= step.host, "{step:?}");
            }
        }
        DeviceTiming::Unavailable => {
            assert_eq!(device, None);
            assert!(steps.iter().all(|s| s.device.is_none()), "{steps:?}");
        }
    }
    assert!(steps[0].label.contains("conv2d (Conv2D)"), "{steps:?}");
    // Timing ran the program on the loaded input; the outputs are still the reference's.
    let y = compiled.run_loaded().unwrap();
    common::assert_close(&y[0], &expected, 1e-5, "after timing");
}

#[test]
fn without_timestamps_there_is_no_device_time_and_runs_are_unchanged() {
    let gpu = Gpu::with_options(GpuOptions {
        timestamps: false,
        ..common::options()
    })
    .unwrap();
    assert_eq!(gpu.device_timing(), DeviceTiming::Unavailable);
    assert!(gpu.device_timing().to_string().contains("host time"));
    let model = model();
    let x = input();
    let mut compiled = model.compile(&gpu, 2).unwrap();
    compiled.load(&[&x]).unwrap();
    assert_eq!(compiled.time_loaded().unwrap(), None);
    let steps = compiled.profile_loaded().unwrap();
    assert!(!steps.is_empty() && steps.iter().all(|s| s.device.is_none()));
    let expected = model.run(Backend::Reference, &x).unwrap();
    common::assert_close(&compiled.run(&x).unwrap(), &expected, 1e-5, "no timestamps");
}
