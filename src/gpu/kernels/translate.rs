//! Every kernel through the shader translators wgpu uses on each platform, no GPU needed: naga's
//! SPIR-V (Vulkan), MSL (Metal) and HLSL (DX12, shader models 5.1 for FXC and 6.0 for DXC)
//! back ends, after the override constants the host sets are applied, with wgpu's default
//! bounds-check policy (out-of-range reads give zero, writes are skipped). The SPIR-V is also
//! checked by `spirv-val` (Debian's `spirv-tools`) where it is installed; CI installs it and
//! sets `WGCNN_REQUIRE_SPIRV_VAL`, so there a missing validator fails instead of being skipped.
//! Kernels on subgroup operations are translated for the versions that have them (SPIR-V 1.3
//! for Vulkan 1.1, MSL 2.1, HLSL 6.0).
//!
//! Only Vulkan and GL ever ran these shaders (lavapipe, llvmpipe, an NVIDIA H200): this is what
//! can be checked of Metal and DX12 without their hardware.

use std::path::PathBuf;
use std::process::Command;

use naga::back::{hlsl, msl, spv, PipelineConstants};
use naga::proc::{BoundsCheckPolicies, BoundsCheckPolicy};
use naga::valid::ModuleInfo;
use naga::{Module, ShaderStage};

use super::Kernel;

/// The module and its validation info with the host's override constants applied, reduced to
/// the kernel's entry point (what wgpu hands each back end).
fn specialised(kernel: Kernel) -> (Module, ModuleInfo) {
    let def = kernel.def();
    let (module, info) = def.naga();
    let mut constants = PipelineConstants::default();
    for (name, value) in def.constants() {
        constants.insert(name.to_string(), value);
    }
    let (module, info) = naga::back::pipeline_constants::process_overrides(
        &module,
        &info,
        Some((ShaderStage::Compute, def.entry_point)),
        &constants,
    )
    .unwrap_or_else(|e| panic!("{}: overrides: {e}", def.name));
    (module.into_owned(), info.into_owned())
}

/// wgpu's default: reads out of range give zero, writes out of range are skipped.
fn checked() -> BoundsCheckPolicies {
    BoundsCheckPolicies {
        index: BoundsCheckPolicy::ReadZeroSkipWrite,
        buffer: BoundsCheckPolicy::ReadZeroSkipWrite,
        image_load: BoundsCheckPolicy::ReadZeroSkipWrite,
        binding_array: BoundsCheckPolicy::ReadZeroSkipWrite,
    }
}

/// Whether the kernel uses subgroup operations: those need SPIR-V 1.3 (Vulkan 1.1), MSL 2.1
/// and HLSL shader model 6.0.
fn subgroups(kernel: Kernel) -> bool {
    kernel.def().features.contains(wgpu::Features::SUBGROUP)
}

fn spirv(kernel: Kernel, module: &Module, info: &ModuleInfo) -> Vec<u32> {
    let def = kernel.def();
    let options = spv::Options {
        lang_version: if subgroups(kernel) { (1, 3) } else { (1, 0) },
        bounds_check_policies: checked(),
        ..spv::Options::default()
    };
    let pipeline = spv::PipelineOptions {
        shader_stage: ShaderStage::Compute,
        entry_point: def.entry_point.to_string(),
    };
    spv::write_vec(module, info, &options, Some(&pipeline))
        .unwrap_or_else(|e| panic!("{}: SPIR-V: {e}", def.name))
}

fn metal(kernel: Kernel, module: &Module, info: &ModuleInfo) -> String {
    let def = kernel.def();
    let options = msl::Options {
        lang_version: if subgroups(kernel) { (2, 1) } else { (2, 0) },
        bounds_check_policies: checked(),
        ..msl::Options::default()
    };
    let pipeline = msl::PipelineOptions {
        entry_point: Some((ShaderStage::Compute, def.entry_point.to_string())),
        ..msl::PipelineOptions::default()
    };
    msl::write_string(module, info, &options, &pipeline)
        .unwrap_or_else(|e| panic!("{}: MSL: {e}", def.name))
        .0
}

fn hlsl_source(
    kernel: Kernel,
    module: &Module,
    info: &ModuleInfo,
    model: hlsl::ShaderModel,
) -> String {
    let def = kernel.def();
    let options = hlsl::Options {
        shader_model: model,
        ..hlsl::Options::default()
    };
    let pipeline = hlsl::PipelineOptions {
        entry_point: Some((ShaderStage::Compute, def.entry_point.to_string())),
    };
    let mut out = String::new();
    hlsl::Writer::new(&mut out, &options, &pipeline)
        .write(module, info, None)
        .unwrap_or_else(|e| panic!("{}: HLSL {model:?}: {e}", def.name));
    out
}

/// `spirv-val`'s verdict on `words` for `env` (`vulkan1.0`), or `None` where it is not
/// installed.
fn spirv_val(name: &str, env: &str, words: &[u32]) -> Option<Result<(), String>> {
    let file: PathBuf =
        std::env::temp_dir().join(format!("wgcnn-{}-{name}.spv", std::process::id()));
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    std::fs::write(&file, bytes).expect("a temporary file");
    let out = Command::new("spirv-val")
        .args(["--target-env", env])
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    let out = out.ok()?;
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    })
}

#[test]
fn every_kernel_translates_to_spirv_msl_and_hlsl() {
    let mut validated = 0;
    let mut failures = Vec::new();
    for &kernel in Kernel::ALL {
        let name = kernel.def().name;
        let (module, info) = specialised(kernel);
        let words = spirv(kernel, &module, &info);
        let env = if subgroups(kernel) {
            "vulkan1.1"
        } else {
            "vulkan1.0"
        };
        match spirv_val(name, env, &words) {
            Some(Ok(())) => validated += 1,
            Some(Err(e)) => failures.push(format!("{name}: spirv-val: {e}")),
            None => {}
        }
        let msl = metal(kernel, &module, &info);
        assert!(
            msl.contains("kernel void"),
            "{name}: no MSL kernel in\n{msl}"
        );
        let models: &[hlsl::ShaderModel] = if subgroups(kernel) {
            &[hlsl::ShaderModel::V6_0]
        } else {
            &[hlsl::ShaderModel::V5_1, hlsl::ShaderModel::V6_0]
        };
        for &model in models {
            let hlsl = hlsl_source(kernel, &module, &info, model);
            assert!(
                hlsl.contains("[numthreads("),
                "{name}: no HLSL entry in\n{hlsl}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if validated == 0 {
        assert!(
            std::env::var_os("WGCNN_REQUIRE_SPIRV_VAL").is_none(),
            "spirv-val is required (WGCNN_REQUIRE_SPIRV_VAL) but was not found"
        );
        eprintln!("note: spirv-val not found (apt-get install spirv-tools): SPIR-V written, not validated");
    } else {
        assert_eq!(validated, Kernel::ALL.len());
        eprintln!("{validated} kernels: SPIR-V (spirv-val accepted), MSL 2.0, HLSL 5.1 and 6.0 (subgroup kernels: Vulkan 1.1, MSL 2.1, HLSL 6.0)");
    }
}
