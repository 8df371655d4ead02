//! What a compute kernel is to the host: a [`KernelDef`] names its WGSL, its entry point, the
//! layout of its uniform block, the buffers it binds and the numbers the two sides agree on.
//! Every kernel file under `kernels/` defines its `KernelDef`s next to its `.wgsl`, and a test
//! that needs no GPU (`kernels/contract.rs`) holds each one against the WGSL as naga reads it.

/// A kernel's uniform block (binding 0), as the host writes it.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code, reason = "the contract test reads it all"))]
pub(crate) struct Layout {
    /// Size in bytes.
    pub size: usize,
    /// Every field, in order.
    pub fields: &'static [Field],
}

/// One field of a uniform block.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code, reason = "the contract test reads it all"))]
pub(crate) struct Field {
    /// The WGSL member name (the Rust field name).
    pub name: &'static str,
    /// Byte offset.
    pub offset: usize,
    /// The WGSL type: `u32`, `i32`, `f32` or `array<vec4<u32>, 2>`.
    pub ty: &'static str,
}

/// How a kernel uses one storage binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// A buffer it reads (`var<storage, read>`): an activation, or a weight (a merge's
    /// constant operand).
    Read,
    /// A weight buffer it reads (`var<storage, read>`).
    Weight,
    /// A buffer it writes (`var<storage, read_write>`).
    Write,
}

/// A storage binding: bindings 1, 2, … of group 0, in order (binding 0 is the uniform block).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code, reason = "the contract test reads it all"))]
pub(crate) struct Slot {
    /// The WGSL variable's name, or the start of it where entry points bind differently typed
    /// views of one buffer (`input4`, `input1`).
    pub name: &'static str,
    /// Read or written.
    pub access: Access,
}

/// A read slot.
pub(crate) const fn read(name: &'static str) -> Slot {
    Slot {
        name,
        access: Access::Read,
    }
}

/// A weight slot.
pub(crate) const fn weight(name: &'static str) -> Slot {
    Slot {
        name,
        access: Access::Weight,
    }
}

/// A written slot.
pub(crate) const fn write(name: &'static str) -> Slot {
    Slot {
        name,
        access: Access::Write,
    }
}

/// Numbers the host writes into a uniform field and the WGSL branches on: each code is a WGSL
/// `const NAME: u32` of the same value, and where the shader `switch`es on them, one `switch`
/// has exactly these cases.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code, reason = "the contract test reads it all"))]
pub(crate) struct Codes {
    /// What the codes select, for messages ("activation").
    pub what: &'static str,
    /// `(WGSL const name, value)` for every code the host can write.
    pub table: fn() -> Vec<(String, u32)>,
    /// Whether the shader `switch`es on them (else it tests them with `==`).
    pub switch: bool,
}

/// Everything the host knows about one kernel.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code, reason = "the contract test reads it all"))]
pub(crate) struct KernelDef {
    /// A name for labels, errors and benchmarks.
    pub name: &'static str,
    /// The whole WGSL source: shared preludes first, the kernel's own file last.
    pub source: &'static str,
    /// The `@compute` function the pipeline runs.
    pub entry_point: &'static str,
    /// The uniform block.
    pub params: Layout,
    /// The storage bindings, in binding order.
    pub slots: &'static [Slot],
    /// `const`s of the shader the host's dispatch arithmetic assumes (tile shapes).
    pub structure: &'static [(&'static str, usize)],
    /// How a sliding-window kernel's invocations cover its NHWC output.
    pub coverage: Coverage,
    /// Code tables shared with the shader.
    pub codes: &'static [Codes],
    /// The optional wgpu features its WGSL needs (`SUBGROUP`): the kernel is used only on
    /// devices opened with them.
    pub features: wgpu::Features,
}

/// How many invocations a window kernel needs for its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coverage {
    /// One output value per invocation.
    PerValue,
    /// `rows` output positions × `filters` channels per invocation.
    Block {
        /// Output positions (`n·h·w` rows) per invocation.
        rows: usize,
        /// Output channels per invocation.
        filters: usize,
    },
    /// `tile × tile` (positions × channels) per workgroup of `WG_SIZE` invocations.
    Tile(usize),
}

impl Coverage {
    /// Invocations for an output of shape `output` (NHWC).
    pub(crate) fn invocations(self, output: [usize; 4]) -> usize {
        let [n, h, w, f] = output;
        let rows = n * h * w;
        match self {
            Coverage::PerValue => rows * f,
            Coverage::Block {
                rows: r,
                filters: c,
            } => rows.div_ceil(r) * f.div_ceil(c),
            Coverage::Tile(t) => rows.div_ceil(t) * f.div_ceil(t) * WORKGROUP_SIZE as usize,
        }
    }
}

/// Invocations per workgroup: passed to every shader as the `WG_SIZE` pipeline constant.
pub(crate) const WORKGROUP_SIZE: u32 = 64;

impl KernelDef {
    /// The pipeline constants the kernel is compiled with.
    pub(crate) fn constants(&self) -> [(&'static str, f64); 1] {
        [("WG_SIZE", f64::from(WORKGROUP_SIZE))]
    }

    /// Parses and validates the kernel's WGSL with naga, allowing what its
    /// [`features`](KernelDef::features) allow on a device (as wgpu does).
    #[cfg(test)]
    pub(crate) fn naga(&self) -> (naga::Module, naga::valid::ModuleInfo) {
        use naga::valid::{Capabilities, ShaderStages, SubgroupOperationSet, ValidationFlags};
        let module = naga::front::wgsl::parse_str(self.source)
            .unwrap_or_else(|e| panic!("{}: {}", self.name, e.emit_to_string(self.source)));
        let mut validator =
            naga::valid::Validator::new(ValidationFlags::all(), Capabilities::empty());
        if self.features.contains(wgpu::Features::SUBGROUP) {
            validator = naga::valid::Validator::new(ValidationFlags::all(), Capabilities::SUBGROUP);
            validator
                .subgroup_stages(ShaderStages::COMPUTE)
                .subgroup_operations(SubgroupOperationSet::all());
        }
        let info = validator
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", self.name, e.emit_to_string(self.source)));
        (module, info)
    }
}

/// The WGSL name of a uniform field's Rust type.
pub(crate) trait WgslType {
    /// As naga spells the type (`u32`, `array<u32, 8>`).
    const NAME: &'static str;
}

impl WgslType for u32 {
    const NAME: &'static str = "u32";
}

impl WgslType for i32 {
    const NAME: &'static str = "i32";
}

impl WgslType for f32 {
    const NAME: &'static str = "f32";
}

/// Eight `u32`s as a uniform block holds them: an array's stride there is 16 bytes, so the WGSL
/// side packs them as two `vec4<u32>`.
impl WgslType for [u32; 8] {
    const NAME: &'static str = "array<vec4<u32>, 2>";
}

/// A kernel's uniform block: a `#[repr(C)]` `Pod` struct whose fields mirror the WGSL `Params`
/// member for member, and its [`Layout`] (`LAYOUT`) for the contract test.
macro_rules! params {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$field_meta:meta])* $field:ident: $ty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
        $vis struct $name {
            $($(#[$field_meta])* pub $field: $ty),*
        }

        impl $name {
            /// The block as the WGSL must declare it.
            pub(crate) const LAYOUT: $crate::gpu::kernel::Layout = $crate::gpu::kernel::Layout {
                size: ::std::mem::size_of::<$name>(),
                fields: &[$($crate::gpu::kernel::Field {
                    name: stringify!($field),
                    offset: ::std::mem::offset_of!($name, $field),
                    ty: <$ty as $crate::gpu::kernel::WgslType>::NAME,
                }),*],
            };
        }
    };
}
pub(crate) use params;
