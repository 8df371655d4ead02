//! Every compute shader, exactly as wgcnn compiles it (shared preludes plus the op's file),
//! parses and validates with naga — no GPU needed — and agrees with the host about its uniform
//! block's size and its structural constants.

use std::path::Path;

use wgcnn::gpu::Kernel;

fn module(kernel: Kernel) -> naga::Module {
    let shader = kernel.shader();
    let module = naga::front::wgsl::parse_str(shader.source)
        .unwrap_or_else(|e| panic!("{}: {}", shader.name, e.emit_to_string(shader.source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{}: {}", shader.name, e.emit_to_string(shader.source)));
    module
}

#[test]
fn every_shader_parses_and_validates() {
    for kernel in Kernel::ALL {
        let shader = kernel.shader();
        let module = module(kernel);
        assert!(
            module
                .entry_points
                .iter()
                .any(|ep| ep.name == shader.entry_point),
            "{}: no `{}` entry point",
            shader.name,
            shader.entry_point
        );
        for (name, _) in kernel.constants() {
            assert!(
                module
                    .overrides
                    .iter()
                    .any(|(_, o)| o.name.as_deref() == Some(name)),
                "{}: the host sets `{name}`, which the shader does not declare",
                shader.name
            );
        }
    }
}

#[test]
fn uniform_blocks_match_their_host_structs() {
    for kernel in Kernel::ALL {
        let module = module(kernel);
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).unwrap();
        let uniform = module
            .global_variables
            .iter()
            .find(|(_, g)| g.space == naga::AddressSpace::Uniform)
            .unwrap_or_else(|| panic!("{:?} has no uniform block", kernel));
        let size = layouter[uniform.1.ty].size as usize;
        assert_eq!(
            size,
            kernel.params_size(),
            "{:?}: the shader's Params is {size} bytes, the host writes {}",
            kernel,
            kernel.params_size()
        );
    }
}

#[test]
fn structural_constants_match_the_host() {
    for kernel in Kernel::ALL {
        let module = module(kernel);
        for &(name, value) in kernel.structure() {
            let (_, constant) = module
                .constants
                .iter()
                .find(|(_, c)| c.name.as_deref() == Some(name))
                .unwrap_or_else(|| panic!("{kernel:?}: no const {name}"));
            let found = match module.global_expressions[constant.init] {
                naga::Expression::Literal(naga::Literal::U32(v)) => v as usize,
                ref other => panic!("{kernel:?}: {name} is {other:?}"),
            };
            assert_eq!(found, value, "{kernel:?}: {name}");
        }
    }
}

#[test]
fn every_wgsl_file_is_compiled() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(
            Kernel::ALL
                .iter()
                .any(|k| k.shader().source.contains(source.as_str())),
            "{} is not part of any compiled shader",
            path.display()
        );
    }
}
