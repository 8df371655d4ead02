//! Adapter discovery and selection, honouring wgpu's environment variables:
//! `WGPU_BACKEND` (which backends the instance opens), `WGPU_ADAPTER_NAME` (a case-insensitive
//! substring of the adapter's name) and `WGPU_POWER_PREF` (`low`, `high` or `none`).

use super::kernel::WORKGROUP_SIZE;
use super::kernels::Kernel;
use crate::error::{Error, Result};

/// The most workgroup memory any kernel declares, in bytes (the 64 × 64 tiled Conv2D's
/// staging: 512 floats and 128 vec4s; every API's minimum is 16 KiB); the kernel contract test
/// checks every kernel against it.
pub(crate) const WORKGROUP_STORAGE: u32 = 4096;

/// What keeps an adapter from running wgcnn's kernels, if anything: compute shaders, and the
/// limits every kernel needs (storage buffers per stage, workgroup size and memory). Bigger
/// models need more (buffer sizes, dispatch grids); those are checked when a program is built.
pub(crate) fn unmet_needs(
    downlevel: &wgpu::DownlevelCapabilities,
    limits: &wgpu::Limits,
) -> Vec<String> {
    let mut unmet = Vec::new();
    if !downlevel
        .flags
        .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
    {
        unmet.push("no compute shaders".to_string());
    }
    let storage = Kernel::ALL
        .iter()
        .map(|k| k.def().slots.len() as u32)
        .max()
        .unwrap_or(0);
    let needs = [
        (
            "max_storage_buffers_per_shader_stage",
            storage,
            limits.max_storage_buffers_per_shader_stage,
        ),
        (
            "max_compute_invocations_per_workgroup",
            WORKGROUP_SIZE,
            limits.max_compute_invocations_per_workgroup,
        ),
        (
            "max_compute_workgroup_size_x",
            WORKGROUP_SIZE,
            limits.max_compute_workgroup_size_x,
        ),
        (
            "max_compute_workgroup_storage_size",
            WORKGROUP_STORAGE,
            limits.max_compute_workgroup_storage_size,
        ),
    ];
    for (name, needed, offered) in needs {
        if offered < needed {
            unmet.push(format!("{name} {offered} < {needed}"));
        }
    }
    unmet
}

/// One adapter as `wgcnn adapters` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    /// The adapter's name, e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`.
    pub name: String,
    /// Backend: `Vulkan`, `Metal`, `Dx12`, `Gl`.
    pub backend: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `Cpu`, ...
    pub device_type: String,
    /// Driver name.
    pub driver: String,
    /// Driver version or details.
    pub driver_info: String,
    /// Whether the adapter can run compute shaders at all.
    pub compute: bool,
    /// What keeps it from running wgcnn (no compute shaders, a limit below what every kernel
    /// needs); empty when it can.
    pub unmet: Vec<String>,
    /// Whether [`crate::Gpu::new_async`] would pick this adapter.
    pub selected: bool,
}

pub(crate) fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

async fn all_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    instance.enumerate_adapters(wgpu::Backends::all()).await
}

fn describe(adapters: &[wgpu::Adapter]) -> String {
    if adapters.is_empty() {
        return "no adapters exist for the enabled backends (WGPU_BACKEND may restrict them; on a \
                machine without a GPU install a software adapter, e.g. Mesa lavapipe: \
                apt-get install mesa-vulkan-drivers)"
            .into();
    }
    let names: Vec<String> = adapters
        .iter()
        .map(|a| {
            let i = a.get_info();
            format!("'{}' ({:?})", i.name, i.backend)
        })
        .collect();
    format!("available: {}", names.join(", "))
}

/// Picks the adapter wgcnn uses: the first whose name contains `WGPU_ADAPTER_NAME` if that is
/// set (an error if none does, unlike wgpu's helper, which panics), else wgpu's choice for
/// `WGPU_POWER_PREF`.
pub(crate) async fn select(instance: &wgpu::Instance) -> Result<wgpu::Adapter> {
    if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
        let wanted_lower = wanted.to_lowercase();
        let mut adapters = all_adapters(instance).await;
        let found = adapters
            .iter()
            .position(|a| a.get_info().name.to_lowercase().contains(&wanted_lower));
        return match found {
            Some(i) => Ok(adapters.swap_remove(i)),
            None => Err(Error::NoAdapter {
                detail: format!(
                    "WGPU_ADAPTER_NAME='{wanted}' matches no adapter; {}",
                    describe(&adapters)
                ),
            }),
        };
    }
    let options = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::from_env().unwrap_or_default(),
        ..Default::default()
    };
    let chosen = match instance.request_adapter(&options).await {
        Ok(adapter) => adapter,
        Err(e) => {
            return Err(Error::NoAdapter {
                detail: format!("{e}; {}", describe(&all_adapters(instance).await)),
            })
        }
    };
    if usable(&chosen) {
        return Ok(chosen);
    }
    // wgpu's choice cannot run the kernels (a GL 3.3 context without compute shaders, say):
    // take another adapter that can, hardware first. With none, the chosen one stays, and
    // opening it says what it lacks.
    let mut others: Vec<wgpu::Adapter> = all_adapters(instance)
        .await
        .into_iter()
        .filter(usable)
        .collect();
    others.sort_by_key(|a| a.get_info().device_type == wgpu::DeviceType::Cpu);
    match others.into_iter().next() {
        Some(other) => {
            log::info!(
                "adapter '{}' ({:?}) cannot run wgcnn's kernels; using '{}' ({:?})",
                chosen.get_info().name,
                chosen.get_info().backend,
                other.get_info().name,
                other.get_info().backend
            );
            Ok(other)
        }
        None => Ok(chosen),
    }
}

fn usable(adapter: &wgpu::Adapter) -> bool {
    unmet_needs(&adapter.get_downlevel_capabilities(), &adapter.limits()).is_empty()
}

/// Lists every adapter the enabled backends expose, marking the one [`crate::Gpu::new_async`]
/// would use. Blocking wrapper: [`list_adapters_async`].
#[cfg(feature = "native")]
pub fn list_adapters() -> Vec<AdapterSummary> {
    pollster::block_on(list_adapters_async())
}

/// Lists every adapter the enabled backends expose, marking the one [`crate::Gpu::new_async`]
/// would use.
pub async fn list_adapters_async() -> Vec<AdapterSummary> {
    let instance = instance();
    let selected = select(&instance).await.ok().map(|a| a.get_info());
    all_adapters(&instance)
        .await
        .iter()
        .map(|a| {
            let info = a.get_info();
            let downlevel = a.get_downlevel_capabilities();
            AdapterSummary {
                selected: selected.as_ref() == Some(&info),
                compute: downlevel
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS),
                unmet: unmet_needs(&downlevel, &a.limits()),
                name: info.name,
                backend: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                driver: info.driver,
                driver_info: info.driver_info,
            }
        })
        .collect()
}
