//! Dispatch splitting and limit errors. Software adapters report huge limits, so these tests
//! open their own devices with tight limits to behave like a small GPU.

mod common;

use common::{int_tensor, uniform_tensor, Rng};
use wgcnn::{reference, wgpu, Conv2dSpec, Error, Gpu, GpuOptions, Padding, Pool2dSpec, Tensor};

fn gpu_with(adjust: impl FnOnce(&mut wgpu::Limits)) -> Gpu {
    // Start from what the shared device got, so only the adjusted limit differs.
    let mut limits = common::gpu().limits().clone();
    adjust(&mut limits);
    Gpu::with_options(GpuOptions {
        limits: Some(limits),
        ..common::options()
    })
    .expect("a device with tighter limits than the adapter offers")
}

#[test]
fn more_than_65535_workgroups_in_one_dimension() {
    // 2048·2049 outputs / 64 per workgroup = 65568 workgroups > 65535.
    let gpu = common::gpu();
    assert!(2048 * 2049 / 64 > gpu.limits().max_compute_workgroups_per_dimension as usize);
    let mut rng = Rng::new(10);
    let x = int_tensor(&mut rng, &[1, 2048, 2049, 1], 5);
    let conv = Conv2dSpec::new(1, [1, 1]);
    let k = Tensor::new(vec![1, 1, 1, 1], vec![3.0]).unwrap();
    let b = Tensor::new(vec![1], vec![-1.0]).unwrap();
    let gpu_out = gpu.conv2d(&conv, &x, &k, Some(&b)).unwrap();
    assert_eq!(gpu_out, reference::conv2d(&conv, &x, &k, Some(&b)).unwrap());
    // The last element is the one a truncated grid would miss.
    assert_eq!(
        *gpu_out.data().last().unwrap(),
        x.data().last().unwrap() * 3.0 - 1.0
    );

    let pool = Pool2dSpec::new([1, 1]);
    assert_eq!(gpu.max_pool2d(&pool, &x).unwrap(), x);
}

#[test]
fn grid_folds_into_two_dimensions_under_a_tight_workgroup_limit() {
    let gpu = gpu_with(|l| l.max_compute_workgroups_per_dimension = 8);
    let mut rng = Rng::new(11);
    // 1·17·19·5 = 1615 outputs = 26 workgroups: a 8×4 grid with a ragged last row.
    let spec = Conv2dSpec::new(5, [3, 2])
        .strides([1, 1])
        .padding(Padding::Same);
    let x = int_tensor(&mut rng, &[1, 17, 19, 3], 3);
    let k = int_tensor(&mut rng, &spec.kernel_shape(3), 2);
    let b = int_tensor(&mut rng, &[5], 2);
    assert_eq!(
        gpu.conv2d(&spec, &x, &k, Some(&b)).unwrap(),
        reference::conv2d(&spec, &x, &k, Some(&b)).unwrap()
    );
    let pool = Pool2dSpec::new([2, 2])
        .strides([1, 1])
        .padding(Padding::Same);
    let x = uniform_tensor(&mut rng, &[2, 20, 21, 3]);
    assert_eq!(
        gpu.max_pool2d(&pool, &x).unwrap(),
        reference::max_pool2d(&pool, &x).unwrap()
    );
}

#[test]
fn a_grid_beyond_both_dimensions_is_a_limit_error() {
    // 8×8 workgroups of 64 hold 4096 outputs; 5000 need more.
    let gpu = gpu_with(|l| l.max_compute_workgroups_per_dimension = 8);
    let x = Tensor::from_fn(vec![1, 50, 100, 1], |i| i as f32).unwrap();
    let err = gpu.max_pool2d(&Pool2dSpec::new([1, 1]), &x).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit_name: "max_compute_workgroups_per_dimension",
                limit: 8,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_buffer_larger_than_the_binding_limit_is_an_error_before_allocation() {
    let gpu = gpu_with(|l| l.max_storage_buffer_binding_size = 4096);
    let spec = Conv2dSpec::new(2, [3, 3]);
    // The output, 1·38·38·2 floats = 11552 bytes > 4096 (the input is 6400 bytes).
    let x = Tensor::from_fn(vec![1, 40, 40, 1], |_| 1.0).unwrap();
    let k = Tensor::from_fn(spec.kernel_shape(1).to_vec(), |_| 1.0).unwrap();
    let b = Tensor::new(vec![2], vec![0.0, 0.0]).unwrap();
    let err = gpu.conv2d(&spec, &x, &k, Some(&b)).unwrap_err();
    match &err {
        Error::LimitExceeded {
            what,
            needed,
            limit_name,
            limit,
            ..
        } => {
            assert!(what.contains("conv2d"), "{err}");
            assert_eq!(
                (*needed, *limit_name, *limit),
                (11552, "max_storage_buffer_binding_size", 4096)
            );
        }
        other => panic!("expected a limit error, got {other}"),
    }
    // A problem that fits still runs on the same device.
    let x = Tensor::from_fn(vec![1, 20, 20, 1], |i| (i % 7) as f32).unwrap();
    assert_eq!(
        gpu.conv2d(&spec, &x, &k, Some(&b)).unwrap(),
        reference::conv2d(&spec, &x, &k, Some(&b)).unwrap()
    );
}

#[test]
fn limits_beyond_the_adapter_are_an_error_not_a_panic() {
    let mut limits = common::gpu().limits().clone();
    limits.max_compute_workgroups_per_dimension = u32::MAX;
    limits.max_compute_workgroup_size_x = u32::MAX;
    let err = Gpu::with_options(GpuOptions {
        limits: Some(limits),
        ..common::options()
    })
    .unwrap_err();
    assert!(matches!(err, Error::UnsupportedAdapter { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("max_compute_workgroups_per_dimension"),
        "{err}"
    );
}

#[test]
fn limits_below_what_the_kernels_need_are_refused_up_front() {
    // The kernels bind several storage buffers and run 64 invocations per workgroup: a
    // device opened with less would fail at its first pipeline; it is refused at once.
    let mut limits = common::gpu().limits().clone();
    limits.max_storage_buffers_per_shader_stage = 2;
    limits.max_compute_invocations_per_workgroup = 32;
    let err = Gpu::with_options(GpuOptions {
        limits: Some(limits),
        ..common::options()
    })
    .unwrap_err();
    assert!(matches!(err, Error::UnsupportedAdapter { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("below what wgcnn's kernels need")
            && text.contains("max_storage_buffers_per_shader_stage 2 < ")
            && text.contains("max_compute_invocations_per_workgroup 32 < 64"),
        "{text}"
    );
}

#[test]
fn a_window_reaching_past_32_bit_indexing_is_an_error() {
    // 'same' with a huge dilation: output 4×4, but the padded window spans ~3·2^31 cells.
    let spec = Conv2dSpec::new(1, [4, 1])
        .dilation([1 << 31, 1])
        .padding(Padding::Same);
    let x = Tensor::from_fn(vec![1, 4, 4, 1], |_| 1.0).unwrap();
    let k = Tensor::from_fn(spec.kernel_shape(1).to_vec(), |_| 1.0).unwrap();
    let b = Tensor::new(vec![1], vec![0.0]).unwrap();
    let err = common::gpu().conv2d(&spec, &x, &k, Some(&b)).unwrap_err();
    assert!(matches!(err, Error::LimitExceeded { .. }), "{err}");
}
