//! Adapter discovery and selection, honouring wgpu's environment variables:
//! `WGPU_BACKEND` (which backends the instance opens), `WGPU_ADAPTER_NAME` (a case-insensitive
//! substring of the adapter's name) and `WGPU_POWER_PREF` (`low`, `high` or `none`).

use crate::error::{Error, Result};

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
    match instance.request_adapter(&options).await {
        Ok(adapter) => Ok(adapter),
        Err(e) => Err(Error::NoAdapter {
            detail: format!("{e}; {}", describe(&all_adapters(instance).await)),
        }),
    }
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
            AdapterSummary {
                selected: selected.as_ref() == Some(&info),
                compute: a
                    .get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS),
                name: info.name,
                backend: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                driver: info.driver,
                driver_info: info.driver_info,
            }
        })
        .collect()
}
