//! The host↔shader contract of every kernel, checked with naga's reading of the WGSL — no GPU
//! needed, so it holds on every CI run: each `KernelDef`'s uniform block field for field (name,
//! offset, type, size), its storage bindings (index, read or write, name), the override
//! constants the host sets, the tile shapes the host's dispatch arithmetic assumes, and its code
//! tables against the shader's `const`s and `switch` cases. A swapped field, binding or code
//! fails here.

use std::collections::BTreeSet;
use std::path::Path;

use naga::{AddressSpace, Module, Statement, StorageAccess, SwitchValue, TypeInner};

use super::super::kernel::{Access, Codes, KernelDef};
use super::Kernel;

fn scalar_name(s: naga::Scalar) -> String {
    match (s.kind, s.width) {
        (naga::ScalarKind::Uint, 4) => "u32".into(),
        (naga::ScalarKind::Sint, 4) => "i32".into(),
        (naga::ScalarKind::Float, 4) => "f32".into(),
        _ => format!("{s:?}"),
    }
}

/// A type as the host's `WgslType` names it.
fn type_name(module: &Module, ty: naga::Handle<naga::Type>) -> String {
    match &module.types[ty].inner {
        TypeInner::Scalar(s) => scalar_name(*s),
        TypeInner::Vector { size, scalar } => {
            format!("vec{}<{}>", *size as u8, scalar_name(*scalar))
        }
        TypeInner::Array {
            base,
            size: naga::ArraySize::Constant(n),
            ..
        } => format!("array<{}, {n}>", type_name(module, *base)),
        other => format!("{other:?}"),
    }
}

/// The integer value of a `const` declared in the module.
fn const_value(module: &Module, name: &str) -> Option<u64> {
    let (_, c) = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))?;
    match module.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => Some(u64::from(v)),
        naga::Expression::Literal(naga::Literal::I32(v)) => u64::try_from(v).ok(),
        _ => None,
    }
}

/// Every `switch`'s case values (default left out), in every function.
fn switches(module: &Module) -> Vec<BTreeSet<u32>> {
    fn walk(block: &naga::Block, out: &mut Vec<BTreeSet<u32>>) {
        for statement in block.iter() {
            match statement {
                Statement::Switch { cases, .. } => {
                    out.push(
                        cases
                            .iter()
                            .filter_map(|c| match c.value {
                                SwitchValue::U32(v) => Some(v),
                                SwitchValue::I32(v) => u32::try_from(v).ok(),
                                SwitchValue::Default => None,
                            })
                            .collect(),
                    );
                    cases.iter().for_each(|c| walk(&c.body, out));
                }
                Statement::Block(b) => walk(b, out),
                Statement::If { accept, reject, .. } => {
                    walk(accept, out);
                    walk(reject, out);
                }
                Statement::Loop {
                    body, continuing, ..
                } => {
                    walk(body, out);
                    walk(continuing, out);
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for (_, f) in module.functions.iter() {
        walk(&f.body, &mut out);
    }
    for ep in &module.entry_points {
        walk(&ep.function.body, &mut out);
    }
    out
}

/// Everything one kernel's WGSL disagrees with its `KernelDef` about.
fn violations(def: &KernelDef) -> Vec<String> {
    let (module, info) = def.naga();
    let mut out = Vec::new();
    let Some(index) = module
        .entry_points
        .iter()
        .position(|ep| ep.name == def.entry_point)
    else {
        return vec![format!("no entry point `{}`", def.entry_point)];
    };
    let uses = info.get_entry_point(index);
    for (name, _) in def.constants() {
        if !module
            .overrides
            .iter()
            .any(|(_, o)| o.name.as_deref() == Some(name))
        {
            out.push(format!(
                "the host sets `{name}`, which the shader does not declare"
            ));
        }
    }

    // The globals the entry point uses, by binding.
    let mut uniform = None;
    let mut storage = Vec::new();
    for (handle, var) in module.global_variables.iter() {
        let Some(binding) = &var.binding else {
            continue;
        };
        if uses[handle].is_empty() {
            continue;
        }
        if binding.group != 0 {
            out.push(format!(
                "`{:?}` is in bind group {}",
                var.name, binding.group
            ));
        }
        match var.space {
            AddressSpace::Uniform if binding.binding == 0 => uniform = Some(var),
            AddressSpace::Storage { access } => storage.push((binding.binding, var, access)),
            _ => out.push(format!(
                "`{:?}` at binding {} is neither the uniform block (binding 0) nor storage",
                var.name, binding.binding
            )),
        }
    }

    // The uniform block, field for field.
    match uniform.map(|v| &module.types[v.ty].inner) {
        Some(TypeInner::Struct { members, span }) => {
            if *span as usize != def.params.size {
                out.push(format!(
                    "Params is {span} bytes in WGSL, {} on the host",
                    def.params.size
                ));
            }
            let wgsl: Vec<(String, usize, String)> = members
                .iter()
                .map(|m| {
                    (
                        m.name.clone().unwrap_or_default(),
                        m.offset as usize,
                        type_name(&module, m.ty),
                    )
                })
                .collect();
            let host: Vec<(String, usize, String)> = def
                .params
                .fields
                .iter()
                .map(|f| (f.name.to_string(), f.offset, f.ty.to_string()))
                .collect();
            for k in 0..wgsl.len().max(host.len()) {
                if wgsl.get(k) != host.get(k) {
                    out.push(format!(
                        "Params field {k}: WGSL has {:?}, the host {:?} (name, offset, type)",
                        wgsl.get(k),
                        host.get(k)
                    ));
                }
            }
        }
        _ => out.push("no uniform Params struct at binding 0".into()),
    }

    // Workgroup memory within what adapters are required to offer (adapter.rs).
    let mut layouter = naga::proc::Layouter::default();
    layouter
        .update(module.to_ctx())
        .expect("a validated module lays out");
    let workgroup: u32 = module
        .global_variables
        .iter()
        .filter(|(h, v)| v.space == AddressSpace::WorkGroup && !uses[*h].is_empty())
        .map(|(_, v)| layouter[v.ty].size)
        .sum();
    if workgroup > super::super::adapter::WORKGROUP_STORAGE {
        out.push(format!(
            "{workgroup} bytes of workgroup memory, over the {} adapters are required to offer",
            super::super::adapter::WORKGROUP_STORAGE
        ));
    }

    // Storage bindings 1..=n, as the host binds them.
    storage.sort_by_key(|(b, _, _)| *b);
    let bound: Vec<u32> = storage.iter().map(|(b, _, _)| *b).collect();
    let declared: Vec<u32> = (1..=def.slots.len() as u32).collect();
    if bound != declared {
        out.push(format!(
            "the entry point uses storage bindings {bound:?}, the host binds {declared:?}"
        ));
    }
    for ((binding, var, access), slot) in storage.iter().zip(def.slots) {
        let name = var.name.as_deref().unwrap_or_default();
        let writes = access.contains(StorageAccess::STORE);
        if writes != (slot.access == Access::Write) || !name.starts_with(slot.name) {
            out.push(format!(
                "binding {binding}: WGSL has `{name}` ({}), the host binds `{}` as {:?}",
                if writes { "read_write" } else { "read" },
                slot.name,
                slot.access
            ));
        }
    }

    // Tile shapes.
    for &(name, value) in def.structure {
        match const_value(&module, name) {
            Some(v) if v == value as u64 => {}
            found => out.push(format!(
                "const {name} is {found:?} in WGSL, {value} on the host"
            )),
        }
    }

    // Code tables.
    let switches = switches(&module);
    for codes in def.codes {
        out.extend(code_violations(&module, codes, &switches));
    }
    out
}

fn code_violations(module: &Module, codes: &Codes, switches: &[BTreeSet<u32>]) -> Vec<String> {
    let mut out = Vec::new();
    let table = (codes.table)();
    let values: BTreeSet<u32> = table.iter().map(|(_, v)| *v).collect();
    if values.len() != table.len() {
        out.push(format!("{} codes repeat a value: {table:?}", codes.what));
    }
    for (name, value) in &table {
        match const_value(module, name) {
            Some(v) if v == u64::from(*value) => {}
            found => out.push(format!(
                "{} code {name} is {found:?} in WGSL, {value} on the host",
                codes.what
            )),
        }
    }
    // Consts of the same family (`ACT_`, `OP_`, ...) the host has no code for.
    let prefixes: BTreeSet<&str> = table
        .iter()
        .filter_map(|(n, _)| n.split_once('_').map(|(p, _)| p))
        .collect();
    for (_, c) in module.constants.iter() {
        let Some(name) = c.name.as_deref() else {
            continue;
        };
        let family = name.split_once('_').map(|(p, _)| p);
        if family.is_some_and(|p| prefixes.contains(p)) && !table.iter().any(|(n, _)| n == name) {
            out.push(format!("{} code {name} is in WGSL only", codes.what));
        }
    }
    if codes.switch && !switches.contains(&values) {
        out.push(format!(
            "no switch has exactly the {} codes {values:?} as cases (found {switches:?})",
            codes.what
        ));
    }
    out
}

#[test]
fn every_kernel_keeps_its_contract_with_its_wgsl() {
    let mut failures = Vec::new();
    for &kernel in Kernel::ALL {
        let def = kernel.def();
        for v in violations(def) {
            failures.push(format!("{kernel:?} ({}): {v}", def.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_wgsl_file_beside_the_kernels_is_compiled() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gpu/kernels");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wgsl") {
            let source = std::fs::read_to_string(&path).unwrap();
            assert!(
                Kernel::ALL
                    .iter()
                    .any(|k| k.def().source.contains(source.as_str())),
                "{} is not part of any kernel",
                path.display()
            );
            files += 1;
        }
    }
    assert!(files >= 20, "{files} .wgsl files");
}

#[test]
fn kernel_names_are_unique() {
    let names: BTreeSet<&str> = Kernel::ALL.iter().map(|k| k.def().name).collect();
    assert_eq!(names.len(), Kernel::ALL.len());
}
