//! `cargo xtask bindgen`: generates `pkcs11-sys/src/bindings.rs` from the header set.
//!
//! The output does not depend on the host: no layout tests (the ABI conformance tests in
//! the `tests` crate check layouts on every target), `CK_ULONG` stays `c_ulong`, structs
//! get `#[cfg_attr(windows, repr(packed))]` (PKCS #11 packs to 1 byte on Windows only),
//! and every constant gets its PKCS #11 typedef from [`CONSTANT_TYPES`].

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
const LEFT_OUT: &[&str] = &["TRUE", "FALSE"];

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
    let shown = options
        .out
        .strip_prefix(workspace_root())
        .unwrap_or(&options.out)
        .display()
        .to_string();
    if options.check {
        let current = std::fs::read_to_string(&options.out).unwrap_or_default();
        if current == generated {
            eprintln!("bindgen --check: {shown} is up to date");
            return Ok(());
        }
        let detail = first_difference(&current, &generated);
        return Err(format!(
            "{shown} is stale: regenerating from {} would change it ({detail}); \
             run `cargo xtask bindgen` and commit the result",
            options.headers.display()
        ));
    }
    std::fs::write(&options.out, generated)
        .map_err(|e| format!("cannot write {}: {e}", options.out.display()))?;
    eprintln!("bindgen: wrote {shown}");
    Ok(())
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

/// Runs bindgen over `headers/pkcs11.h` plus `extra` headers and post-processes the output.
fn generate(headers: &Path, extra: &[PathBuf]) -> Result<String> {
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
    let mut out = postprocess(&bindings.to_string(), extra);
    out.push_str(&name_tables(&names));
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::constant_type;

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
