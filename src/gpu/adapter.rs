//! Adapter discovery and selection, honouring wgpu's environment variables:
//! `WGPU_BACKEND` (which backends the instance opens), `WGPU_ADAPTER_NAME` (a case-insensitive
//! substring of the adapter's name) and `WGPU_POWER_PREF` (`low`, `high` or `none`), and
//! wgcnn's `WGCNN_ADAPTER_PCI_BUS_ID`: the adapter at that PCI address, which tells apart the
//! identical GPUs of a multi-GPU machine (a job scheduler's `CUDA_VISIBLE_DEVICES` does not
//! reach Vulkan, so a process given GPU 3 must name its bus id to use it).

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
    /// The PCI address `domain:bus:device.function` (hex) where the backend reports it
    /// (Vulkan with `VK_EXT_pci_bus_info`, DX12), else empty.
    pub pci_bus_id: String,
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

/// A PCI address `[domain:]bus:device.function` in hex as numbers, whatever the zero padding
/// (`nvidia-smi` writes `00000000:17:00.0`, wgpu `0000:17:00.0`); `None` if it is not one.
fn pci_address(text: &str) -> Option<[u32; 4]> {
    let text = text.trim();
    let (rest, function) = text.rsplit_once('.')?;
    let mut parts: Vec<&str> = rest.split(':').collect();
    if parts.len() == 2 {
        parts.insert(0, "0");
    }
    let [domain, bus, device] = parts.as_slice() else {
        return None;
    };
    let hex = |s: &str| u32::from_str_radix(s, 16).ok();
    Some([hex(domain)?, hex(bus)?, hex(device)?, hex(function)?])
}

/// `WGCNN_ADAPTER_PCI_BUS_ID`: the adapter at that PCI address (an error naming the adapters'
/// addresses when none is there).
async fn select_by_pci_bus_id(instance: &wgpu::Instance, wanted: &str) -> Result<wgpu::Adapter> {
    let Some(address) = pci_address(wanted) else {
        return Err(Error::NoAdapter {
            detail: format!(
                "WGCNN_ADAPTER_PCI_BUS_ID='{wanted}' is not a PCI address \
                 (domain:bus:device.function in hex, as nvidia-smi --query-gpu=pci.bus_id \
                 prints it)"
            ),
        });
    };
    let mut adapters = all_adapters(instance).await;
    // Several backends may expose the same device: take the first usable one there.
    let found = adapters
        .iter()
        .position(|a| pci_address(&a.get_info().device_pci_bus_id) == Some(address) && usable(a));
    match found {
        Some(i) => Ok(adapters.swap_remove(i)),
        None => {
            let listed: Vec<String> = adapters
                .iter()
                .map(|a| {
                    let i = a.get_info();
                    let bus = if i.device_pci_bus_id.is_empty() {
                        "no PCI address reported".to_string()
                    } else {
                        i.device_pci_bus_id
                    };
                    format!("'{}' ({:?}) at {bus}", i.name, i.backend)
                })
                .collect();
            Err(Error::NoAdapter {
                detail: format!(
                    "WGCNN_ADAPTER_PCI_BUS_ID='{wanted}' matches no adapter that can run wgcnn; \
                     adapters: {}",
                    if listed.is_empty() {
                        "none".to_string()
                    } else {
                        listed.join(", ")
                    }
                ),
            })
        }
    }
}

/// Picks the adapter wgcnn uses: the one at `WGCNN_ADAPTER_PCI_BUS_ID` if that is set, the
/// first whose name contains `WGPU_ADAPTER_NAME` if that is set (an error if none does,
/// unlike wgpu's helper, which panics), else wgpu's choice for `WGPU_POWER_PREF`.
pub(crate) async fn select(instance: &wgpu::Instance) -> Result<wgpu::Adapter> {
    if let Some(wanted) = std::env::var("WGCNN_ADAPTER_PCI_BUS_ID")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        return select_by_pci_bus_id(instance, &wanted).await;
    }
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
                pci_bus_id: info.device_pci_bus_id,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pci_address;

    #[test]
    fn pci_addresses_compare_whatever_the_padding() {
        assert_eq!(pci_address("00000000:17:00.0"), Some([0, 0x17, 0, 0]));
        assert_eq!(pci_address("0000:17:00.0"), pci_address("00000000:17:00.0"));
        assert_eq!(pci_address("17:00.0"), Some([0, 0x17, 0, 0]));
        assert_eq!(pci_address("0001:AF:1f.7"), Some([1, 0xaf, 0x1f, 7]));
        for bad in ["", "17", "gpu0", "0000:17:00", "0000:zz:00.0", "1:2:3:4.0"] {
            assert_eq!(pci_address(bad), None, "{bad}");
        }
    }
}
