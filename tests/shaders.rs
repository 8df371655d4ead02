//! Every compute shader, exactly as wgcnn compiles it (the shared window.wgsl prelude plus the
//! op's file), parses and validates with naga — no GPU needed.

use std::path::Path;

use wgcnn::gpu::SHADERS;

#[test]
fn every_shader_parses_and_validates() {
    for shader in SHADERS {
        let (name, source) = (shader.name, shader.source);
        let module = naga::front::wgsl::parse_str(source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        assert!(
            module
                .entry_points
                .iter()
                .any(|ep| ep.name == shader.entry_point),
            "{name}: no `{}` entry point",
            shader.entry_point
        );
    }
}

#[test]
fn every_wgsl_file_is_compiled() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(
            SHADERS
                .iter()
                .any(|s| s.name == stem || s.source.contains(source.as_str())),
            "{} is not part of any compiled shader",
            path.display()
        );
    }
}
