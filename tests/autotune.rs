//! Autotuning: the Conv2D variant is measured once per adapter and shape, remembered, and
//! persisted so that another process on the same adapter reuses the choice. Whatever it picks,
//! the result is the reference's (every variant is also tested on its own elsewhere).

mod common;

use common::{int_tensor, Rng};
use wgcnn::gpu::ConvVariant;
use wgcnn::{reference, Conv2dSpec, Gpu, GpuOptions, Padding};

#[test]
fn choices_are_measured_once_remembered_and_persisted() {
    let dir = std::env::temp_dir().join(format!("wgcnn-autotune-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file = dir.join("autotune.json");
    let options = || GpuOptions {
        autotune: true,
        autotune_cache: Some(file.clone()),
        pipeline_cache_dir: None,
        ..GpuOptions::default()
    };

    let gpu = Gpu::with_options(options()).unwrap();
    assert!(gpu.autotune_choices().is_empty());
    let spec = Conv2dSpec::new(8, [3, 3]).padding(Padding::Same);
    let mut rng = Rng::new(1);
    let x = int_tensor(&mut rng, &[2, 9, 7, 3], 3);
    let k = int_tensor(&mut rng, &spec.kernel_shape(3), 2);
    let b = int_tensor(&mut rng, &[8], 2);
    let expected = reference::conv2d(&spec, &x, &k, Some(&b)).unwrap();
    assert_eq!(gpu.conv2d(&spec, &x, &k, Some(&b)).unwrap(), expected);
    let choices = gpu.autotune_choices();
    assert_eq!(choices.len(), 1, "{choices:?}");
    assert!(choices[0].0.contains("filters 8") && choices[0].0.contains(&gpu.adapter_info().name));

    // The same shape again: no new measurement. Another shape (5 filters: the direct and the
    // wide kernel apply): one more.
    gpu.conv2d(&spec, &x, &k, Some(&b)).unwrap();
    assert_eq!(gpu.autotune_choices(), choices);
    let odd = Conv2dSpec::new(5, [3, 3]);
    let (k5, b5) = (
        int_tensor(&mut rng, &odd.kernel_shape(3), 2),
        int_tensor(&mut rng, &[5], 2),
    );
    assert_eq!(
        gpu.conv2d(&odd, &x, &k5, Some(&b5)).unwrap(),
        reference::conv2d(&odd, &x, &k5, Some(&b5)).unwrap()
    );
    let choices = gpu.autotune_choices();
    assert_eq!(choices.len(), 2, "{choices:?}");
    assert!(choices.iter().any(|(key, _)| key.contains("filters 5")));

    // Another device on the same adapter starts with the persisted choice.
    let text = std::fs::read_to_string(&file).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 2);
    let again = Gpu::with_options(options()).unwrap();
    assert_eq!(again.autotune_choices(), choices);
    assert_eq!(again.conv2d(&spec, &x, &k, Some(&b)).unwrap(), expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_autotuning_nothing_is_measured_and_the_wide_kernel_is_used() {
    let gpu = Gpu::with_options(GpuOptions {
        autotune: false,
        autotune_cache: None,
        pipeline_cache_dir: None,
        ..GpuOptions::default()
    })
    .unwrap();
    let spec = Conv2dSpec::new(4, [2, 2]);
    let mut rng = Rng::new(2);
    let x = int_tensor(&mut rng, &[1, 6, 6, 2], 3);
    let k = int_tensor(&mut rng, &spec.kernel_shape(2), 2);
    let b = int_tensor(&mut rng, &[4], 2);
    assert_eq!(
        gpu.conv2d(&spec, &x, &k, Some(&b)).unwrap(),
        reference::conv2d(&spec, &x, &k, Some(&b)).unwrap()
    );
    assert!(gpu.autotune_choices().is_empty());
    assert_eq!(
        ConvVariant::choose(&Conv2dSpec::new(4, [3, 3])),
        ConvVariant::Wide
    );
    assert_eq!(
        ConvVariant::choose(&Conv2dSpec::new(6, [3, 3])),
        ConvVariant::Wide
    );
    // Grouped convolutions only run on the direct kernel.
    assert_eq!(
        ConvVariant::choose(&Conv2dSpec::new(6, [3, 3]).groups(3)),
        ConvVariant::Direct
    );
}
