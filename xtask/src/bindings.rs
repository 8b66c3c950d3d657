//! `cargo xtask bindgen`: generates `pkcs11-sys/src/bindings.rs` from the header set.
//!
//! The output does not depend on the host: no layout tests (the ABI conformance tests in
//! the `tests` crate check layouts on every target), `CK_ULONG` stays `c_ulong`, structs
//! get `#[cfg_attr(windows, repr(packed))]` (PKCS #11 packs to 1 byte on Windows only),
//! and every constant gets its PKCS #11 typedef from [`CONSTANT_TYPES`].
//!
//! The same run writes a second generated file, `tests/src/abi_items.rs`: the items of the
//! bindings as `for_each_*!` macros that the ABI conformance tests of the `tests` crate
//! expand into comparisons with independent references (see [`abi_items`]). It describes
//! the standard header set only, so it is written (and checked by `--check`) when the
//! bindings come from the default `vendor/pkcs11` with no `--extra` header, whatever
//! `--out` says; a vendor's `--headers` / `--extra` run leaves it alone.
//!
//! [`cross_check`] type-checks the bindings and the static ABI assertions for the
//! [`CROSS_TARGETS`](crate::deps::CROSS_TARGETS).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bindgen::callbacks::{IntKind, ParseCallbacks};

use crate::{workspace_root, Args, Result};

/// The typedef of a `#define` constant, chosen by the longest matching name prefix.
///
/// This table is the one place that decides constant types; a vendor extension header's
/// constants (`CKM_VENDOR_...`) get the same treatment through their family prefix.
/// Names matching no entry become `CK_ULONG`.
const CONSTANT_TYPES: &[(&str, &str)] = &[
    ("CRYPTOKI_VERSION_", "CK_BYTE"),
    ("CK_TRUE", "CK_BBOOL"),
    ("CK_FALSE", "CK_BBOOL"),
    ("CK_CERTIFICATE_CATEGORY_", "CK_CERTIFICATE_CATEGORY"),
    ("CK_SECURITY_DOMAIN_", "CK_JAVA_MIDP_SECURITY_DOMAIN"),
    ("CK_OTP_FORMAT_", "CK_ULONG"),
    ("CK_OTP_PARAM_", "CK_ULONG"),
    ("CK_OTP_", "CK_OTP_PARAM_TYPE"),
    (
        "CK_SP800_108_DKM_LENGTH_SUM_OF_",
        "CK_SP800_108_DKM_LENGTH_METHOD",
    ),
    ("CK_SP800_108_", "CK_PRF_DATA_TYPE"),
    ("CKA_", "CK_ATTRIBUTE_TYPE"),
    ("CKC_", "CK_CERTIFICATE_TYPE"),
    ("CKD_", "CK_EC_KDF_TYPE"),
    ("CKF_", "CK_FLAGS"),
    ("CKG_MGF1_", "CK_RSA_PKCS_MGF_TYPE"),
    ("CKG_", "CK_GENERATOR_FUNCTION"),
    ("CKH_HEDGE_", "CK_HEDGE_TYPE"),
    ("CKH_DETERMINISTIC_", "CK_HEDGE_TYPE"),
    ("CKH_", "CK_HW_FEATURE_TYPE"),
    ("CKK_", "CK_KEY_TYPE"),
    ("CKM_", "CK_MECHANISM_TYPE"),
    ("CKN_", "CK_NOTIFICATION"),
    ("CKO_", "CK_OBJECT_CLASS"),
    (
        "CKP_PKCS5_PBKD2_",
        "CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE",
    ),
    ("CKP_ML_DSA_", "CK_ML_DSA_PARAMETER_SET_TYPE"),
    ("CKP_ML_KEM_", "CK_ML_KEM_PARAMETER_SET_TYPE"),
    ("CKP_SLH_DSA_", "CK_SLH_DSA_PARAMETER_SET_TYPE"),
    ("CKP_", "CK_PROFILE_ID"),
    ("CKR_", "CK_RV"),
    ("CKS_LAST_VALIDATION_", "CK_SESSION_VALIDATION_FLAGS_TYPE"),
    ("CKS_", "CK_STATE"),
    ("CKT_", "CK_TRUST"),
    ("CKU_", "CK_USER_TYPE"),
    ("CKV_AUTHORITY_TYPE_", "CK_VALIDATION_AUTHORITY_TYPE"),
    ("CKV_TYPE_", "CK_VALIDATION_TYPE"),
    ("CKZ_DATA_", "CK_RSA_PKCS_OAEP_SOURCE_TYPE"),
    ("CKZ_SALT_", "CK_PKCS5_PBKDF2_SALT_SOURCE_TYPE"),
];

/// Items written by hand in `pkcs11-sys/src/lib.rs` instead (their C definition does not
/// fit every target, e.g. `~0UL` is 32 bits on Windows).
const HAND_WRITTEN: &[&str] = &["CK_UNAVAILABLE_INFORMATION"];

/// C conveniences of the header that Rust has its own words for (`true`, `false`).
/// Also the header machinery that bindgen records as constants: include guards, the
/// includer's `NULL_PTR` and pkcs11.h's private helper macro.
const LEFT_OUT: &[&str] = &[
    "TRUE",
    "FALSE",
    "NULL_PTR",
    "CK_PROJECT_PKCS11_H",
    "PKCS11T_H_",
    "CK_NEED_ARG_LIST",
];

/// The typedef for constant `name` (see [`CONSTANT_TYPES`]).
pub(crate) fn constant_type(name: &str) -> &'static str {
    CONSTANT_TYPES
        .iter()
        .filter(|(prefix, _)| name.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or("CK_ULONG", |(_, ty)| ty)
}

/// Families that get a `<PREFIX>NAMES` table of `(value, "NAME")` pairs in header order,
/// from which the sys crate's `ckr_name`-style lookups and the safe crate's enums derive.
/// (`CKF_` flags are left out: their families share bit values.)
const NAME_TABLES: &[(&str, &str)] = &[
    ("CKR_", "return values"),
    ("CKM_", "mechanism types"),
    ("CKA_", "attribute types"),
    ("CKK_", "key types"),
    ("CKO_", "object classes"),
    ("CKC_", "certificate types"),
    ("CKU_", "user types"),
    ("CKS_", "session states"),
    ("CKN_", "notifications"),
    ("CKD_", "key derivation functions"),
    ("CKG_", "MGF and generator functions"),
    ("CKP_", "profiles, PRFs and parameter sets"),
    ("CKZ_", "OAEP and PBKDF2 source types"),
    ("CKH_", "hardware feature and hedge types"),
    ("CKT_", "trust values"),
    ("CKV_", "validation types"),
];

/// Types every integer macro and records its name, in the order bindgen meets them.
#[derive(Debug, Default)]
struct TypedConstants {
    names: Arc<Mutex<Vec<String>>>,
}

impl ParseCallbacks for TypedConstants {
    fn int_macro(&self, name: &str, _value: i64) -> Option<IntKind> {
        let mut names = self.names.lock().expect("not poisoned");
        if !names.iter().any(|known| known == name) {
            names.push(name.to_owned());
        }
        Some(IntKind::Custom {
            name: constant_type(name),
            is_signed: false,
        })
    }
}

struct Options {
    check: bool,
    headers: PathBuf,
    extra: Vec<PathBuf>,
    out: PathBuf,
}

impl Options {
    /// Whether the bindings come from the standard header set (the default `vendor/pkcs11`,
    /// no `--extra`): only then is `tests/src/abi_items.rs` written and checked.
    fn standard_set(&self) -> bool {
        let default = workspace_root().join("vendor/pkcs11");
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        self.extra.is_empty() && same(&self.headers, &default)
    }
}

/// Where the ABI item macros go (see the module documentation).
fn abi_items_path() -> PathBuf {
    workspace_root().join("tests/src/abi_items.rs")
}

fn parse(args: &[String]) -> Result<Options> {
    let root = workspace_root();
    let mut options = Options {
        check: false,
        headers: root.join("vendor/pkcs11"),
        extra: Vec::new(),
        out: root.join("pkcs11-sys/src/bindings.rs"),
    };
    let mut args = Args::new(args);
    while let Some(flag) = args.next_flag() {
        match flag {
            "--check" => options.check = true,
            "--headers" => options.headers = PathBuf::from(args.value(flag)?),
            "--extra" => options.extra.push(PathBuf::from(args.value(flag)?)),
            "--out" => options.out = PathBuf::from(args.value(flag)?),
            other => return Err(format!("bindgen: unknown option `{other}`")),
        }
    }
    Ok(options)
}

/// `cargo xtask bindgen [--check] [--headers DIR] [--extra FILE]... [--out FILE]`.
pub(crate) fn run(args: &[String]) -> Result {
    let options = parse(args)?;
    let generated = generate(&options.headers, &options.extra)?;
    let mut outputs = vec![(options.out.clone(), generated.bindings)];
    if options.standard_set() {
        outputs.push((abi_items_path(), generated.abi_items));
    } else {
        eprintln!(
            "bindgen: vendor header set: leaving {} (standard set only) alone",
            shown(&abi_items_path())
        );
    }
    if options.check {
        let mut stale = Vec::new();
        for (path, text) in &outputs {
            let current = std::fs::read_to_string(path).unwrap_or_default();
            if current == *text {
                eprintln!("bindgen --check: {} is up to date", shown(path));
            } else {
                let detail = first_difference(&current, text);
                stale.push(format!("{} is stale ({detail})", shown(path)));
            }
        }
        if stale.is_empty() {
            return Ok(());
        }
        return Err(format!(
            "{}; regenerating from {} would change it; run `cargo xtask bindgen` and commit \
             the result",
            stale.join("; "),
            options.headers.display()
        ));
    }
    for (path, text) in &outputs {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("bindgen: wrote {}", shown(path));
    }
    Ok(())
}

/// `path` relative to the workspace root when it is inside it.
fn shown(path: &Path) -> String {
    path.strip_prefix(workspace_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn first_difference(old: &str, new: &str) -> String {
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    for line in 1.. {
        match (old_lines.next(), new_lines.next()) {
            (None, None) => break,
            (a, b) if a == b => {}
            (a, b) => {
                return format!(
                    "first difference at line {line}: checked in {:?}, generated {:?}",
                    a.unwrap_or("<end of file>"),
                    b.unwrap_or("<end of file>")
                )
            }
        }
    }
    "files differ".to_owned()
}

/// The two generated files.
struct Generated {
    /// `pkcs11-sys/src/bindings.rs`.
    bindings: String,
    /// `tests/src/abi_items.rs` (see [`abi_items`]).
    abi_items: String,
}

/// Runs bindgen over `headers/pkcs11.h` plus `extra` headers and post-processes the output.
fn generate(headers: &Path, extra: &[PathBuf]) -> Result<Generated> {
    let entry = headers.join("pkcs11.h");
    if !entry.is_file() {
        return Err(format!("no pkcs11.h in {}", headers.display()));
    }
    // The includer supplies the platform macros (see vendor/pkcs11/README.md).
    let mut wrapper = String::from(
        "#define CK_PTR *\n\
         #define CK_DECLARE_FUNCTION(returnType, name) returnType name\n\
         #define CK_DECLARE_FUNCTION_POINTER(returnType, name) returnType (* name)\n\
         #define CK_CALLBACK_FUNCTION(returnType, name) returnType (* name)\n\
         #ifndef NULL_PTR\n#define NULL_PTR 0\n#endif\n\
         #include \"pkcs11.h\"\n",
    );
    for header in extra {
        let absolute = std::fs::canonicalize(header)
            .map_err(|e| format!("extra header {}: {e}", header.display()))?;
        writeln!(wrapper, "#include \"{}\"", absolute.display()).expect("write to String");
    }
    let names = Arc::new(Mutex::new(Vec::new()));
    let mut builder = bindgen::Builder::default()
        .header_contents("pkcs11_wrapper.h", &wrapper)
        .clang_arg(format!("-I{}", headers.display()))
        // Target-independent output: the C types stay C types.
        .clang_arg("--target=x86_64-unknown-linux-gnu")
        .use_core()
        .ctypes_prefix("::core::ffi")
        .layout_tests(false)
        .derive_default(true)
        .derive_debug(true)
        .generate_comments(true)
        .sort_semantically(false)
        .merge_extern_blocks(true)
        .prepend_enum_name(false)
        // Users load modules at run time: no `extern "C"` prototypes to link against.
        .blocklist_function(".*")
        .parse_callbacks(Box::new(TypedConstants {
            names: Arc::clone(&names),
        }));
    for item in HAND_WRITTEN.iter().chain(LEFT_OUT) {
        builder = builder.blocklist_item(item);
    }
    let bindings = builder
        .generate()
        .map_err(|e| format!("bindgen failed on {}: {e}", entry.display()))?;
    let names = names.lock().expect("not poisoned").clone();
    let raw = bindings.to_string();
    let mut out = postprocess(&raw, extra);
    out.push_str(&name_tables(&names));
    Ok(Generated {
        bindings: out,
        abi_items: abi_items(&raw)?,
    })
}

/// The `<PREFIX>NAMES` tables (see [`NAME_TABLES`]).
fn name_tables(names: &[String]) -> String {
    let mut out = String::new();
    for (prefix, what) in NAME_TABLES {
        let family: Vec<&String> = names
            .iter()
            .filter(|name| {
                name.starts_with(prefix)
                    && !HAND_WRITTEN.contains(&name.as_str())
                    && !LEFT_OUT.contains(&name.as_str())
            })
            .collect();
        if family.is_empty() {
            continue;
        }
        write!(
            out,
            "/// Every `{prefix}*` constant ({what}) with its name, in header order; a value \
             defined\n/// under several names (deprecated aliases) appears once per name, \
             the first being the\n/// current name.\n\
             pub const {prefix}NAMES: &[(CK_ULONG, &str)] = &[\n"
        )
        .expect("write to String");
        for name in family {
            writeln!(out, "    ({name} as CK_ULONG, \"{name}\"),").expect("write to String");
        }
        out.push_str("];\n");
    }
    out
}

/// Adds the generated-file banner and the Windows packing attribute.
fn postprocess(raw: &str, extra: &[PathBuf]) -> String {
    let mut command = String::from("cargo xtask bindgen");
    for header in extra {
        let name = header.file_name().map_or_else(
            || header.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        write!(command, " --extra {name}").expect("write to String");
    }
    let mut out = format!(
        "// GENERATED by `{command}` from vendor/pkcs11 (PKCS #11 v3.2). Do not edit by hand:\n\
         // change the headers and regenerate; `cargo xtask bindgen --check` fails when stale.\n"
    );
    for line in raw.lines() {
        if line.starts_with("/* automatically generated by rust-bindgen") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.trim() == "#[repr(C)]" {
            // PKCS #11 structs are packed to 1 byte on Windows and naturally aligned elsewhere.
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(indent);
            out.push_str("#[cfg_attr(windows, repr(packed))]\n");
        }
    }
    out
}

/// The items of one bindgen output, by kind, in output order.
#[derive(Debug, Default)]
struct Items {
    /// Every `pub const`.
    constants: Vec<String>,
    /// Every `pub struct` with its `pub` fields in declaration order.
    structs: Vec<(String, Vec<String>)>,
    /// Every `pub type CK_C_* = Option<unsafe extern "C" fn ...>`.
    function_types: Vec<String>,
    /// Every other `pub type` (scalar, pointer and callback typedefs).
    type_aliases: Vec<String>,
}

/// Sorts the top-level items of bindgen's (rustfmt-formatted) output by kind.
///
/// Fails on an item kind it does not know (`pub union`, `pub fn`, ...), so that a header
/// change cannot silently drop items from the conformance tests.
fn collect_items(raw: &str) -> Result<Items> {
    let mut items = Items::default();
    let mut lines = raw.lines();
    while let Some(line) = lines.next() {
        let Some(item) = line.strip_prefix("pub ") else {
            continue;
        };
        let name_after = |keyword: &str, end: char| -> Option<String> {
            let rest = item.strip_prefix(keyword)?;
            let name = rest.split(end).next()?.trim();
            Some(name.to_owned())
        };
        if let Some(name) = name_after("const ", ':') {
            items.constants.push(name);
        } else if let Some(name) = name_after("type ", '=') {
            let mut statement = line.to_owned();
            while !statement.trim_end().ends_with(';') {
                let next = lines
                    .next()
                    .ok_or_else(|| format!("abi items: unterminated `pub type {name}`"))?;
                statement.push('\n');
                statement.push_str(next);
            }
            if name.starts_with("CK_C_") && statement.contains("extern \"C\" fn") {
                items.function_types.push(name);
            } else {
                items.type_aliases.push(name);
            }
        } else if let Some(name) = name_after("struct ", '{') {
            let mut fields = Vec::new();
            if !line.trim_end().ends_with('{') {
                return Err(format!("abi items: unexpected struct form `{line}`"));
            }
            loop {
                let field = lines
                    .next()
                    .ok_or_else(|| format!("abi items: unterminated `pub struct {name}`"))?;
                if field == "}" {
                    break;
                }
                if let Some(declaration) = field.strip_prefix("    pub ") {
                    let field_name = declaration.split(':').next().unwrap_or_default().trim();
                    fields.push(field_name.to_owned());
                }
            }
            items.structs.push((name, fields));
        } else {
            return Err(format!(
                "abi items: unsupported item `{line}`; teach xtask/src/bindings.rs \
                 (collect_items) and the ABI conformance tests about it"
            ));
        }
    }
    Ok(items)
}

/// Writes `macro_rules! name` calling `$m!(...)` once with `names`, comma separated.
fn list_macro(out: &mut String, name: &str, doc: &str, names: &[String]) {
    write!(
        out,
        "\n{doc}#[macro_export]\nmacro_rules! {name} {{\n    ($m:ident) => {{\n        $m! {{\n"
    )
    .expect("write to String");
    for item in names {
        writeln!(out, "            {item},").expect("write to String");
    }
    out.push_str("        }\n    };\n}\n");
}

/// The contents of `tests/src/abi_items.rs`: the items of the bindings (bindgen's raw
/// output, before the `*_NAMES` tables are added) as macros that call a macro of the
/// caller's with the names.
///
/// - `for_each_constant!(m)` expands to `m!(NULL_PTR, ..., CKM_AES_GCM, ...);` with every
///   generated constant (not the hand-written `CK_UNAVAILABLE_INFORMATION`, not the
///   `*_NAMES` tables);
/// - `for_each_struct!(m)` expands to `m!(CK_VERSION { major, minor });` and so on, one call
///   per struct with its fields in order; an opaque struct (`specifiedParams`) has `{}`;
/// - `for_each_function_type!(m)` expands to `m!(CK_C_Initialize, ...);` with every
///   function pointer typedef of the function tables;
/// - `for_each_type_alias!(m)` expands to `m!(CK_BYTE, ...);` with every other typedef.
fn abi_items(raw: &str) -> Result<String> {
    let items = collect_items(raw)?;
    let mut out = String::from(
        "// GENERATED by `cargo xtask bindgen` from vendor/pkcs11 (PKCS #11 v3.2) together with\n\
         // pkcs11-sys/src/bindings.rs. Do not edit by hand: change the headers and regenerate;\n\
         // `cargo xtask bindgen --check` fails when stale.\n\
         //\n\
         // The items of pkcs11-sys/src/bindings.rs, for the ABI conformance tests: `include!`\n\
         // this file, then call a `for_each_*!` macro with the name of a macro of yours.\n",
    );
    let constants = format!(
        "/// Calls `$m! {{ NAME, ... }}` once with the names of all {} generated constants, in header\n\
         /// order (not the hand-written `CK_UNAVAILABLE_INFORMATION`, not the `*_NAMES` \
         tables).\n",
        items.constants.len()
    );
    list_macro(&mut out, "for_each_constant", &constants, &items.constants);
    write!(
        out,
        "\n/// Calls `$m!(NAME {{ field, ... }});` for each of the {} structs, with its fields in \
         order;\n/// an opaque struct has `{{}}`.\n\
         #[macro_export]\nmacro_rules! for_each_struct {{\n    ($m:ident) => {{\n",
        items.structs.len()
    )
    .expect("write to String");
    for (name, fields) in &items.structs {
        let one_line = format!("        $m!({name} {{ {} }});", fields.join(", "));
        if fields.is_empty() {
            writeln!(out, "        $m!({name} {{}});").expect("write to String");
        } else if one_line.len() <= 100 {
            writeln!(out, "{one_line}").expect("write to String");
        } else {
            writeln!(out, "        $m!({name} {{").expect("write to String");
            for field in fields {
                writeln!(out, "            {field},").expect("write to String");
            }
            out.push_str("        });\n");
        }
    }
    out.push_str("    };\n}\n");
    let function_types = format!(
        "/// Calls `$m! {{ CK_C_Xxx, ... }}` once with the names of all {} function pointer \
         typedefs\n/// (`CK_C_*`), in function-list order.\n",
        items.function_types.len()
    );
    list_macro(
        &mut out,
        "for_each_function_type",
        &function_types,
        &items.function_types,
    );
    let type_aliases = format!(
        "/// Calls `$m! {{ NAME, ... }}` once with the names of the {} other typedefs (scalar, \
         pointer\n/// and callback types), in header order.\n",
        items.type_aliases.len()
    );
    list_macro(
        &mut out,
        "for_each_type_alias",
        &type_aliases,
        &items.type_aliases,
    );
    Ok(out)
}

/// Type-checks `pkcs11-sys` and the ABI conformance tests (whose `abi_static` holds
/// compile-time layout assertions) for every target of
/// [`CROSS_TARGETS`](crate::deps::CROSS_TARGETS): a 32-bit one and a Windows one, where
/// `CK_ULONG` is 32 bits and (Windows) structs are packed.
///
/// Runs every check and fails naming each target and command that failed.
pub(crate) fn cross_check() -> Result {
    let mut failures = Vec::new();
    for target in crate::deps::CROSS_TARGETS {
        let sys = [
            "check",
            "--quiet",
            "-p",
            "pkcs11-sys",
            "-p",
            "pkcs11",
            "--target",
            target,
        ];
        let abi = [
            "check",
            "--quiet",
            "-p",
            "pkcs11-tests",
            "--test",
            "abi_static",
            "--test",
            "abi_cryptoki_sys",
            "--test",
            "abi_p11kit",
            "--target",
            target,
        ];
        for args in [&sys[..], &abi[..]] {
            if let Err(e) = crate::run_cmd(crate::cargo().args(args)) {
                failures.push(format!("target {target}: {e}"));
            }
        }
    }
    if failures.is_empty() {
        eprintln!(
            "cross check: pkcs11-sys, pkcs11 and the ABI tests type-check for {}",
            crate::deps::CROSS_TARGETS.join(", ")
        );
        Ok(())
    } else {
        Err(format!("cross check failed:\n  {}", failures.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::{abi_items, collect_items, constant_type};

    const SAMPLE: &str = "\
pub const CKR_OK: CK_RV = 0;
pub type CK_ULONG = ::core::ffi::c_ulong;
pub type CK_C_Sign = ::core::option::Option<
    unsafe extern \"C\" fn(hSession: CK_SESSION_HANDLE, pData: CK_BYTE_PTR) -> CK_RV,
>;
pub type CK_C_INITIALIZE_ARGS_PTR = *mut CK_C_INITIALIZE_ARGS;
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct CK_ATTRIBUTE {
    pub type_: CK_ATTRIBUTE_TYPE,
    pub pValue: CK_VOID_PTR,
    pub ulValueLen: CK_ULONG,
}
impl Default for CK_ATTRIBUTE {
    fn default() -> Self {
        unimplemented!()
    }
}
pub struct specifiedParams {
    _unused: [u8; 0],
}
";

    #[test]
    fn items_by_kind() {
        let items = collect_items(SAMPLE).expect("known item kinds");
        assert_eq!(items.constants, ["CKR_OK"]);
        assert_eq!(items.function_types, ["CK_C_Sign"]);
        assert_eq!(items.type_aliases, ["CK_ULONG", "CK_C_INITIALIZE_ARGS_PTR"]);
        assert_eq!(
            items.structs,
            [
                (
                    "CK_ATTRIBUTE".to_owned(),
                    vec![
                        "type_".to_owned(),
                        "pValue".to_owned(),
                        "ulValueLen".to_owned()
                    ]
                ),
                ("specifiedParams".to_owned(), vec![]),
            ]
        );
        let text = abi_items(SAMPLE).expect("known item kinds");
        assert!(
            text.contains("$m!(CK_ATTRIBUTE { type_, pValue, ulValueLen });"),
            "{text}"
        );
        assert!(text.contains("$m!(specifiedParams {});"), "{text}");
    }

    #[test]
    fn unknown_item_kinds_fail() {
        let error = collect_items("pub union CK_U {\n    pub a: u8,\n}\n").expect_err("unknown");
        assert!(error.contains("pub union CK_U"), "{error}");
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(constant_type("CKG_MGF1_SHA256"), "CK_RSA_PKCS_MGF_TYPE");
        assert_eq!(
            constant_type("CKG_GENERATE_COUNTER"),
            "CK_GENERATOR_FUNCTION"
        );
        assert_eq!(
            constant_type("CKP_ML_DSA_65"),
            "CK_ML_DSA_PARAMETER_SET_TYPE"
        );
        assert_eq!(constant_type("CKP_BASELINE_PROVIDER"), "CK_PROFILE_ID");
        assert_eq!(constant_type("CKM_AES_GCM"), "CK_MECHANISM_TYPE");
        assert_eq!(constant_type("CKR_OK"), "CK_RV");
        assert_eq!(constant_type("SOMETHING_ELSE"), "CK_ULONG");
    }
}
