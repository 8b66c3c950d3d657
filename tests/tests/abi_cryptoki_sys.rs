//! ABI conformance against the first independent reference: the bindings inside the
//! `cryptoki-sys` crate (0.5.0), which another project generated from the OASIS PKCS #11
//! v3.2 headers.
//!
//! For the current target, every item that `cargo xtask bindgen` lists in
//! `tests/src/abi_items.rs` is compared with cryptoki-sys's item of the same name:
//!
//! - every constant: the same numeric value (as `u128`: the two crates type some families
//!   differently);
//! - every struct: the same size and alignment, the same offset of every field, and the same
//!   field type once crate paths are stripped (`*mut CK_ATTRIBUTE` = `*mut CK_ATTRIBUTE`);
//! - every `CK_C_*` function pointer type and every other typedef: the same type (parameter
//!   types in order, return type).
//!
//! And in the reverse direction, every `pub const`, `pub struct` (with its fields) and
//! `pub type` of cryptoki-sys's bindings file for this target must exist in ours.
//!
//! The only allowed differences are listed in [`only_ours!`] and [`ONLY_THEIRS`], each with
//! its reason. All mismatches are reported together, each naming the item. A constant, type
//! or struct new in our headers that cryptoki-sys lacks stops this file from compiling
//! (`cannot find value CKM_X in module theirs`): list it in `only_ours!` with its reason.

use std::any::type_name;
use std::collections::BTreeSet;
use std::mem::{align_of, offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

use pkcs11_sys as ours;

include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/abi_items.rs"));

/// Declares, inside [`theirs`], a stand-in for every item that only this project defines,
/// and lists them in `ONLY_OURS` with the reason each is allowed.
macro_rules! only_ours {
    ($($kind:ident $name:ident: $reason:literal;)*) => {
        /// cryptoki-sys's items, plus a [`NotInReference`](theirs::NotInReference) stand-in
        /// for each item that only this project defines. (An explicit item shadows the
        /// glob import; the reverse check fails if cryptoki-sys ever defines one of them.)
        #[allow(non_camel_case_types, dead_code)]
        mod theirs {
            pub(crate) use cryptoki_sys::*;

            /// Stands in for an item the reference does not define.
            pub(crate) struct NotInReference;

            $(only_ours!(@item $kind $name);)*
        }

        /// Items only this project defines, with the reason each is allowed.
        const ONLY_OURS: &[(&str, &str)] = &[$((stringify!($name), $reason)),*];
    };
    (@item const $name:ident) => {
        pub(crate) const $name: NotInReference = NotInReference;
    };
    (@item type $name:ident) => {
        pub(crate) type $name = NotInReference;
    };
}

only_ours! {
    type CK_LONG: "`typedef long int CK_LONG;` is in the standard's pkcs11t.h, but not in \
        cryptoki-sys's generated bindings (no other item uses it)";
}

/// Items only cryptoki-sys defines (kind, name, reason).
const ONLY_THEIRS: &[(&str, &str, &str)] = &[(
    "struct",
    "Pkcs11",
    "cryptoki-sys's dlopen wrapper (bindgen's dynamic-library mode), not a PKCS #11 item",
)];

/// Turns a reference constant of any integer type, or a stand-in, into a comparable value.
trait Value {
    /// The value, `None` for a [`theirs::NotInReference`] stand-in.
    fn value(&self) -> Option<u128>;
}

macro_rules! value_of_integers {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn value(&self) -> Option<u128> {
                Some(u128::try_from(*self).expect("PKCS #11 constants are not negative"))
            }
        }
    )*};
}
value_of_integers!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl Value for theirs::NotInReference {
    fn value(&self) -> Option<u128> {
        None
    }
}

/// The type of a field, given a closure reading it (by value, so that it also works for
/// the packed structs of Windows).
fn field_type<T, F>(_: impl Fn(T) -> F) -> &'static str {
    type_name::<F>()
}

/// `name` with every path reduced to its last segment:
/// `core::option::Option<unsafe extern "C" fn(*mut pkcs11_sys::bindings::CK_ATTRIBUTE)>`
/// becomes `Option<unsafe extern "C" fn(*mut CK_ATTRIBUTE)>`.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut segment = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear();
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out
}

/// One field on both sides: `[pkcs11-sys, cryptoki-sys]`.
struct FieldPair {
    name: &'static str,
    offset: [usize; 2],
    ty: [&'static str; 2],
}

/// One struct on both sides: `[pkcs11-sys, cryptoki-sys]`.
struct StructPair {
    name: &'static str,
    size: [usize; 2],
    align: [usize; 2],
    fields: Vec<FieldPair>,
}

/// The layout facts of every struct of `abi_items.rs`, in both crates.
fn struct_pairs() -> Vec<StructPair> {
    let mut pairs = Vec::new();
    macro_rules! structs {
        ($name:ident { $($field:ident),* $(,)? }) => {
            pairs.push(StructPair {
                name: stringify!($name),
                size: [size_of::<ours::$name>(), size_of::<theirs::$name>()],
                align: [align_of::<ours::$name>(), align_of::<theirs::$name>()],
                fields: vec![$(FieldPair {
                    name: stringify!($field),
                    offset: [offset_of!(ours::$name, $field), offset_of!(theirs::$name, $field)],
                    ty: [
                        field_type(|s: ours::$name| s.$field),
                        field_type(|s: theirs::$name| s.$field),
                    ],
                }),*],
            });
        };
    }
    for_each_struct!(structs);
    pairs
}

/// What [`compare_with_reference`] compared, for the lower bounds and the summary.
#[derive(Debug, Default)]
struct Counts {
    constants: usize,
    structs: usize,
    fields: usize,
    function_types: usize,
    type_aliases: usize,
}

/// Compares every item of `abi_items.rs` with cryptoki-sys; pushes one line per mismatch.
fn compare_with_reference(mismatches: &mut Vec<String>) -> Counts {
    let mut counts = Counts::default();
    let not_in_reference = normalize(type_name::<theirs::NotInReference>());

    macro_rules! constants {
        ($($name:ident),* $(,)?) => {
            [$((stringify!($name), ours::$name as u128, Value::value(&theirs::$name))),*]
        };
    }
    let mut constants = for_each_constant!(constants).to_vec();
    constants.push((
        "CK_UNAVAILABLE_INFORMATION",
        ours::CK_UNAVAILABLE_INFORMATION as u128,
        Some(cryptoki_sys::CK_UNAVAILABLE_INFORMATION as u128),
    ));
    for (name, ours, theirs) in constants {
        match theirs {
            None => {}
            Some(theirs) if theirs == ours => counts.constants += 1,
            Some(theirs) => mismatches.push(format!(
                "constant {name}: pkcs11-sys {ours:#x}, cryptoki-sys {theirs:#x}"
            )),
        }
    }

    for pair in struct_pairs() {
        let name = pair.name;
        counts.structs += 1;
        let [size, their_size] = pair.size;
        if size != their_size {
            mismatches.push(format!(
                "struct {name}: size {size} in pkcs11-sys, {their_size} in cryptoki-sys"
            ));
        }
        let [align, their_align] = pair.align;
        if align != their_align {
            mismatches.push(format!(
                "struct {name}: alignment {align} in pkcs11-sys, {their_align} in cryptoki-sys"
            ));
        }
        for field in pair.fields {
            counts.fields += 1;
            let (field_name, [offset, their_offset]) = (field.name, field.offset);
            if offset != their_offset {
                mismatches.push(format!(
                    "struct {name}: field {field_name} at offset {offset} in pkcs11-sys, \
                     {their_offset} in cryptoki-sys"
                ));
            }
            let [ty, their_ty] = field.ty.map(normalize);
            if ty != their_ty {
                mismatches.push(format!(
                    "struct {name}: field {field_name} has type `{ty}` in pkcs11-sys, \
                     `{their_ty}` in cryptoki-sys"
                ));
            }
        }
    }

    macro_rules! types {
        ($($name:ident),* $(,)?) => {
            [$((stringify!($name), type_name::<ours::$name>(), type_name::<theirs::$name>())),*]
        };
    }
    let kinds = [
        ("function type", for_each_function_type!(types).to_vec()),
        ("type", for_each_type_alias!(types).to_vec()),
    ];
    for (kind, types) in kinds {
        for (name, ours, theirs) in types {
            let (ours, theirs) = (normalize(ours), normalize(theirs));
            if theirs == not_in_reference {
                continue;
            }
            if ours == theirs {
                if kind == "function type" {
                    counts.function_types += 1;
                } else {
                    counts.type_aliases += 1;
                }
            } else {
                mismatches.push(format!(
                    "{kind} {name}: `{ours}` in pkcs11-sys, `{theirs}` in cryptoki-sys"
                ));
            }
        }
    }
    counts
}

#[test]
fn rule_25_27_same_values_layouts_and_types_as_cryptoki_sys() {
    let mut mismatches = Vec::new();
    let counts = compare_with_reference(&mut mismatches);
    eprintln!("compared with cryptoki-sys 0.5.0: {counts:?}");
    assert!(
        mismatches.is_empty(),
        "{} ABI mismatches between pkcs11-sys and cryptoki-sys 0.5.0:\n  {}",
        mismatches.len(),
        mismatches.join("\n  ")
    );
    // Comparing nothing must not pass: these are well below today's numbers.
    assert!(
        counts.constants >= 1000,
        "too few constants compared: {counts:?}"
    );
    assert!(counts.structs >= 90, "too few structs compared: {counts:?}");
    assert!(counts.fields >= 500, "too few fields compared: {counts:?}");
    assert!(
        counts.function_types >= 104,
        "too few function types compared: {counts:?}"
    );
    assert!(
        counts.type_aliases >= 250,
        "too few typedefs compared: {counts:?}"
    );
}

/// The bindings file that cryptoki-sys's lib.rs includes for the current target.
fn their_bindings_file() -> &'static str {
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        "x86_64-unknown-linux-gnu.rs"
    } else if cfg!(all(target_arch = "x86", target_os = "linux")) {
        "i686-unknown-linux-gnu.rs"
    } else if cfg!(all(target_arch = "powerpc64", target_os = "linux")) {
        "powerpc64-unknown-linux-gnu.rs"
    } else if cfg!(all(target_arch = "aarch64", target_os = "linux")) {
        "aarch64-unknown-linux-gnu.rs"
    } else if cfg!(all(target_arch = "arm", target_os = "linux")) {
        "arm-unknown-linux-gnueabi.rs"
    } else if cfg!(all(target_arch = "loongarch64", target_os = "linux")) {
        "loongarch64-unknown-linux-gnu.rs"
    } else if cfg!(all(target_arch = "riscv64", target_os = "linux")) {
        "riscv64gc-unknown-linux-gnu.rs"
    } else if cfg!(all(target_arch = "x86_64", target_os = "macos")) {
        "x86_64-apple-darwin.rs"
    } else if cfg!(all(target_arch = "aarch64", target_os = "macos")) {
        "aarch64-apple-darwin.rs"
    } else if cfg!(all(target_arch = "x86_64", target_os = "windows")) {
        "x86_64-pc-windows-msvc.rs"
    } else if cfg!(all(target_arch = "x86_64", target_os = "freebsd")) {
        "x86_64-unknown-freebsd.rs"
    } else {
        "generic.rs"
    }
}

/// cryptoki-sys's source directory, from `cargo metadata`.
fn cryptoki_sys_dir() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run `cargo metadata`");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = String::from_utf8(output.stdout).expect("cargo metadata prints UTF-8");
    // The package object starts with its name and version; its manifest_path follows.
    let package = json
        .find(r#""name":"cryptoki-sys","version":"0.5.0""#)
        .expect("cargo metadata lists cryptoki-sys 0.5.0");
    let key = r#""manifest_path":""#;
    let start = package + json[package..].find(key).expect("a manifest_path") + key.len();
    let end = start + json[start..].find('"').expect("a closing quote");
    let manifest = PathBuf::from(json[start..end].replace(r"\\", r"\"));
    manifest
        .parent()
        .expect("a manifest has a directory")
        .to_path_buf()
}

/// The names a bindgen output file defines, by simple line matching.
#[derive(Debug, Default)]
struct Names {
    constants: BTreeSet<String>,
    structs: Vec<(String, Vec<String>)>,
    types: BTreeSet<String>,
}

fn names_in(source: &str) -> Names {
    let mut names = Names::default();
    let mut lines = source.lines();
    let word = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("pub const ") {
            names.constants.insert(word(rest));
        } else if let Some(rest) = line.strip_prefix("pub type ") {
            names.types.insert(word(rest));
        } else if let Some(rest) = line.strip_prefix("pub struct ") {
            let mut fields = Vec::new();
            if line.trim_end().ends_with('{') {
                for field in lines.by_ref().take_while(|l| *l != "}") {
                    if let Some(rest) = field.strip_prefix("    pub ") {
                        fields.push(word(rest));
                    }
                }
            }
            names.structs.push((word(rest), fields));
        }
    }
    names
}

#[test]
fn rule_25_every_cryptoki_sys_item_exists_in_ours() {
    let file = cryptoki_sys_dir()
        .join("src/bindings")
        .join(their_bindings_file());
    let source = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let theirs = names_in(&source);
    assert!(
        theirs.constants.len() >= 1000 && theirs.structs.len() >= 90,
        "{} does not look like cryptoki-sys's bindings: {} constants, {} structs",
        file.display(),
        theirs.constants.len(),
        theirs.structs.len()
    );

    macro_rules! names {
        ($($name:ident),* $(,)?) => {
            [$(stringify!($name)),*]
        };
    }
    let mut our_constants: BTreeSet<&str> = for_each_constant!(names).into_iter().collect();
    our_constants.insert("CK_UNAVAILABLE_INFORMATION");
    let mut our_types: BTreeSet<&str> = for_each_function_type!(names).into_iter().collect();
    our_types.extend(for_each_type_alias!(names));
    let mut our_structs: Vec<(&str, Vec<&str>)> = Vec::new();
    macro_rules! struct_names {
        ($name:ident { $($field:ident),* $(,)? }) => {
            our_structs.push((stringify!($name), vec![$(stringify!($field)),*]));
        };
    }
    for_each_struct!(struct_names);

    let only_theirs =
        |kind: &str, name: &str| ONLY_THEIRS.iter().any(|(k, n, _)| *k == kind && *n == name);
    let mut mismatches = Vec::new();
    for name in &theirs.constants {
        if !our_constants.contains(name.as_str()) && !only_theirs("const", name) {
            mismatches.push(format!(
                "constant {name} is in cryptoki-sys, not in pkcs11-sys"
            ));
        }
    }
    for name in &theirs.types {
        if !our_types.contains(name.as_str()) && !only_theirs("type", name) {
            mismatches.push(format!("type {name} is in cryptoki-sys, not in pkcs11-sys"));
        }
    }
    for (name, their_fields) in &theirs.structs {
        match our_structs.iter().find(|(ours, _)| ours == name) {
            None if only_theirs("struct", name) => {}
            None => mismatches.push(format!(
                "struct {name} is in cryptoki-sys, not in pkcs11-sys"
            )),
            Some((_, fields)) if fields != their_fields => mismatches.push(format!(
                "struct {name}: fields {fields:?} in pkcs11-sys, {their_fields:?} in cryptoki-sys"
            )),
            Some(_) => {}
        }
    }
    // The allowed differences must stay true: a stand-in in `theirs` would otherwise hide a
    // real cryptoki-sys item from the comparison.
    for (name, reason) in ONLY_OURS {
        if theirs.constants.contains(*name) || theirs.types.contains(*name) {
            mismatches.push(format!(
                "ONLY_OURS lists {name} ({reason}), but cryptoki-sys defines it now: \
                 remove it from the list"
            ));
        }
        if !our_constants.contains(name) && !our_types.contains(name) {
            mismatches.push(format!(
                "ONLY_OURS lists {name} ({reason}), but pkcs11-sys no longer defines it: \
                 remove it from the list"
            ));
        }
    }
    for (kind, name, reason) in ONLY_THEIRS {
        let in_ours = our_constants.contains(name)
            || our_types.contains(name)
            || our_structs.iter().any(|(ours, _)| ours == name);
        let in_theirs = theirs.constants.contains(*name)
            || theirs.types.contains(*name)
            || theirs.structs.iter().any(|(theirs, _)| theirs == name);
        if in_ours || !in_theirs {
            mismatches.push(format!(
                "ONLY_THEIRS lists {kind} {name} ({reason}), which is now {}",
                if in_ours {
                    "in pkcs11-sys too"
                } else {
                    "not in cryptoki-sys"
                }
            ));
        }
    }
    eprintln!(
        "{}: {} constants, {} structs, {} types, all in pkcs11-sys but {} allowed",
        file.display(),
        theirs.constants.len(),
        theirs.structs.len(),
        theirs.types.len(),
        ONLY_THEIRS.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} items of cryptoki-sys 0.5.0 ({}) missing or different in pkcs11-sys:\n  {}",
        mismatches.len(),
        file.display(),
        mismatches.join("\n  ")
    );
}

#[test]
fn normalize_strips_paths() {
    assert_eq!(
        normalize("core::option::Option<unsafe extern \"C\" fn(*mut a::b::CK_X, u64) -> u64>"),
        "Option<unsafe extern \"C\" fn(*mut CK_X, u64) -> u64>"
    );
    assert_eq!(normalize("[u8; 32]"), "[u8; 32]");
}
