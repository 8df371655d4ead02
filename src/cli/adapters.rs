//! `wgcnn adapters`: every adapter wgpu sees, one line each (with its PCI address where the
//! backend reports one), '*' on the one wgcnn would use, and what keeps an adapter from
//! running wgcnn where something does.

use std::process::ExitCode;

/// `wgcnn adapters`; no adapter at all is an error, so scripts can test for a GPU.
pub(crate) fn main() -> wgcnn::Result<ExitCode> {
    let adapters = wgcnn::gpu::list_adapters();
    if adapters.is_empty() {
        return Err(wgcnn::Error::NoAdapter {
            detail: "wgpu sees no adapter for the enabled backends".into(),
        });
    }
    for a in adapters {
        println!(
            "{} {} | {} | {} | {} {}{} | {}",
            if a.selected { '*' } else { ' ' },
            a.name,
            a.backend,
            a.device_type,
            a.driver,
            a.driver_info,
            if a.pci_bus_id.is_empty() {
                String::new()
            } else {
                format!(" | PCI {}", a.pci_bus_id)
            },
            if a.unmet.is_empty() {
                "runs wgcnn".to_string()
            } else {
                format!("cannot run wgcnn: {}", a.unmet.join(", "))
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
