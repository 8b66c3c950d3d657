//! ABI conformance against the second independent reference: p11-kit's `pkcs11.h`
//! (Debian's `libp11-kit-dev`), in its default `CRYPTOKI_COMPAT` mode, which provides the
//! standard `CK_*` names.
//!
//! p11-kit covers PKCS #11 2.40 and a few later names, so this compares the subset it has:
//!
//! - every constant of `tests/src/abi_items.rs` that the header `#define`s: the same value;
//! - every struct for which the header has a complete `CK_*` typedef: the same field names in
//!   order, the same `sizeof` and `_Alignof`, and the same `offsetof` and `sizeof` of every
//!   field (including every slot of `CK_FUNCTION_LIST`).
//!
//! Which structs p11-kit defines, and with which field names, is read from the header at run
//! time through the C preprocessor (compat mode renames p11-kit's own `struct ck_info` and
//! `cryptoki_version` to `CK_INFO` and `cryptokiVersion` with macros). A generated C program
//! prints the C side; it is compiled with `cc` under `CARGO_TARGET_TMPDIR`. A missing
//! header or compiler fails the test with the install command; it never passes silently.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pkcs11_sys as ours;

include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/abi_items.rs"));

/// Where Debian installs p11-kit's headers (`#include <p11-kit/pkcs11.h>`).
const INCLUDE_DIR: &str = "/usr/include/p11-kit-1";

const INSTALL_HINT: &str = "install them with `apt-get install libp11-kit-dev gcc`";

/// Constants whose p11-kit value is known to differ: (name, p11-kit's value, reason). A
/// difference is allowed only when p11-kit has exactly that value; agreement is fine too
/// (a fixed p11-kit).
const ALLOWED_VALUE_DIFFERENCES: &[(&str, u128, &str)] = &[
    (
        "CRYPTOKI_VERSION_MAJOR",
        2,
        "p11-kit's header declares the version it implements, 2.40",
    ),
    (
        "CRYPTOKI_VERSION_MINOR",
        40,
        "p11-kit's header declares the version it implements, 2.40",
    ),
    ("CKR_EXCEEDED_MAX_ITERATIONS", 0x1c0, P11_KIT_CKR_ERRATUM),
    ("CKR_FIPS_SELF_TEST_FAILED", 0x1c1, P11_KIT_CKR_ERRATUM),
    ("CKR_LIBRARY_LOAD_FAILED", 0x1c2, P11_KIT_CKR_ERRATUM),
    ("CKR_PIN_TOO_WEAK", 0x1c3, P11_KIT_CKR_ERRATUM),
    ("CKR_PUBLIC_KEY_INVALID", 0x1c4, P11_KIT_CKR_ERRATUM),
];

/// Why five `CKR_*` values of p11-kit (0.24) are not compared.
const P11_KIT_CKR_ERRATUM: &str = "p11-kit's header numbers the five return values added in \
    2.40 0x1C0..0x1C4; PKCS #11 2.40 and 3.x define CKR_EXCEEDED_MAX_ITERATIONS = 0x1B5, \
    CKR_FIPS_SELF_TEST_FAILED = 0x1B6, CKR_LIBRARY_LOAD_FAILED = 0x1B7, CKR_PIN_TOO_WEAK = \
    0x1B8, CKR_PUBLIC_KEY_INVALID = 0x1B9, as ours and cryptoki-sys (OASIS headers) do";

/// Constants not compared at all, with the reason.
const NOT_COMPARED: &[(&str, &str)] = &[(
    "NULL_PTR",
    "a pointer in p11-kit (`NULL`), the includer's macro in ours; not a PKCS #11 value",
)];

/// Our struct's layout, from the Rust types.
#[derive(Debug)]
struct Layout {
    name: &'static str,
    size: usize,
    align: usize,
    /// C field names (`type_` is `type`) with their offsets and sizes, in order.
    fields: Vec<(&'static str, usize, usize)>,
}

/// The C name of a Rust field: bindgen appends `_` to names that are Rust keywords.
fn c_field_name(rust: &'static str) -> &'static str {
    const KEYWORDS: &[&str] = &[
        "type", "ref", "match", "fn", "mod", "move", "loop", "impl", "trait", "use", "where",
        "self", "super", "crate", "pub", "in", "as", "dyn", "async", "await", "box", "final",
        "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "abstract",
        "become", "do", "let", "mut", "static", "struct", "enum", "const", "extern", "unsafe",
    ];
    match rust.strip_suffix('_') {
        Some(stem) if KEYWORDS.contains(&stem) => stem,
        _ => rust,
    }
}

fn our_constants() -> Vec<(&'static str, u128)> {
    macro_rules! constants {
        ($($name:ident),* $(,)?) => {
            [$((stringify!($name), ours::$name as u128)),*]
        };
    }
    for_each_constant!(constants).to_vec()
}

/// The size of a field, given a closure reading it (by value, so that it also works for
/// the packed structs of Windows).
fn field_size<T, F>(_: impl Fn(T) -> F) -> usize {
    size_of::<F>()
}

fn our_layouts() -> Vec<Layout> {
    let mut layouts = Vec::new();
    macro_rules! layouts {
        ($name:ident { $($field:ident),* $(,)? }) => {
            layouts.push(Layout {
                name: stringify!($name),
                size: size_of::<ours::$name>(),
                align: align_of::<ours::$name>(),
                fields: vec![$((
                    c_field_name(stringify!($field)),
                    offset_of!(ours::$name, $field),
                    field_size(|s: ours::$name| s.$field),
                )),*],
            });
        };
    }
    for_each_struct!(layouts);
    layouts
}

/// C tokens: identifiers and numbers whole, every other character on its own.
fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if c.is_alphanumeric() || c == '_' {
            rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        if !c.is_whitespace() {
            tokens.push(&rest[..len]);
        }
        rest = &rest[len..];
    }
    tokens
}

fn is_ident(token: &str) -> bool {
    token.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// The field names of the struct body starting after the `{` at `tokens[start]`, and the
/// index after the closing `}`.
fn struct_body(tokens: &[&str], start: usize) -> (Vec<String>, usize) {
    let mut fields = Vec::new();
    let mut depth = 0_usize;
    let mut declaration: Vec<&str> = Vec::new();
    let mut i = start + 1;
    while i < tokens.len() {
        let token = tokens[i];
        i += 1;
        match token {
            "{" | "(" | "[" => depth += 1,
            ")" | "]" => depth -= 1,
            "}" if depth == 0 => break,
            "}" => depth -= 1,
            ";" if depth == 0 => {
                // `type name;`, `type name[N];` or `ret (*name)(args);`
                let name = match declaration.iter().position(|t| *t == "(") {
                    Some(open) => declaration[open..].iter().find(|t| is_ident(t)),
                    None => declaration
                        .iter()
                        .take_while(|t| **t != "[")
                        .filter(|t| is_ident(t))
                        .last(),
                };
                if let Some(name) = name {
                    fields.push((*name).to_owned());
                }
                declaration.clear();
                continue;
            }
            _ => {}
        }
        declaration.push(token);
    }
    (fields, i)
}

/// The complete structs that the preprocessed header makes available under a typedef
/// name: typedef name -> field names in order.
fn reference_structs(preprocessed: &str) -> BTreeMap<String, Vec<String>> {
    let tokens = tokenize(preprocessed);
    let mut bodies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut typedefs: BTreeMap<String, String> = BTreeMap::new();
    let mut i = 0;
    while i < tokens.len() {
        let typedef = tokens[i] == "typedef";
        let at = if typedef { i + 1 } else { i };
        if tokens.get(at) != Some(&"struct") {
            i += 1;
            continue;
        }
        let mut j = at + 1;
        let tag = tokens
            .get(j)
            .filter(|t| is_ident(t))
            .map(|t| (*t).to_owned());
        if tag.is_some() {
            j += 1;
        }
        let mut tag = tag.unwrap_or_default();
        if tokens.get(j) == Some(&"{") {
            let (fields, after) = struct_body(&tokens, j);
            j = after;
            if tag.is_empty() {
                // `typedef struct { ... } NAME;`
                tag = format!("<anonymous {i}>");
            }
            bodies.insert(tag.clone(), fields);
        }
        if typedef {
            if let (Some(name), Some(&";")) = (tokens.get(j), tokens.get(j + 1)) {
                if is_ident(name) {
                    typedefs.insert((*name).to_owned(), tag);
                }
            }
        }
        i = j.max(i + 1);
    }
    typedefs
        .into_iter()
        .filter_map(|(name, tag)| bodies.get(&tag).map(|fields| (name, fields.clone())))
        .collect()
}

/// Runs `cmd`; panics with its output when it cannot run or fails.
fn run(cmd: &mut Command, what: &str) -> Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what} ({cmd:?}): {e}; {INSTALL_HINT}"));
    assert!(
        output.status.success(),
        "{what} failed ({cmd:?}, {}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `cc` for the target the tests are built for.
fn cc() -> Command {
    let mut cc = Command::new("cc");
    cc.arg("-std=c11").arg(format!("-I{INCLUDE_DIR}"));
    if cfg!(target_arch = "x86") {
        cc.arg("-m32");
    }
    cc
}

/// The C program that prints p11-kit's values and layouts for the items we have.
fn probe_program(
    constants: &[(&'static str, u128)],
    layouts: &[Layout],
    reference: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <p11-kit/pkcs11.h>\n\n\
         int main(void)\n{\n",
    );
    for (name, _) in constants {
        if NOT_COMPARED.iter().any(|(n, _)| n == name) {
            continue;
        }
        writeln!(
            c,
            "#ifdef {name}\n    printf(\"const {name} %llu\\n\", \
             (unsigned long long)({name}));\n#endif"
        )
        .expect("write to String");
    }
    for layout in layouts {
        let Some(fields) = reference.get(layout.name) else {
            continue;
        };
        let name = layout.name;
        writeln!(
            c,
            "    printf(\"struct {name} %zu %zu\\n\", sizeof({name}), (size_t)_Alignof({name}));"
        )
        .expect("write to String");
        for (field, _, _) in &layout.fields {
            if fields.iter().any(|f| f == field) {
                writeln!(
                    c,
                    "    printf(\"field {name} {field} %zu %zu\\n\", offsetof({name}, {field}), \
                     sizeof((({name} *)0)->{field}));"
                )
                .expect("write to String");
            }
        }
    }
    c.push_str("    return 0;\n}\n");
    c
}

/// What was compared, for the lower bounds and the summary.
#[derive(Debug, Default)]
struct Counts {
    constants: usize,
    structs: usize,
    fields: usize,
}

#[test]
fn rule_25_26_same_values_and_layouts_as_p11_kit() {
    let header = Path::new(INCLUDE_DIR).join("p11-kit/pkcs11.h");
    assert!(
        header.is_file(),
        "p11-kit's {} is missing: the ABI conformance test needs it and a C compiler; \
         {INSTALL_HINT}",
        header.display()
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("abi_p11kit");
    std::fs::create_dir_all(&dir).expect("create the scratch directory");

    // Which CK_* structs (and field names) compat mode provides.
    let include = dir.join("include_only.c");
    std::fs::write(&include, "#include <p11-kit/pkcs11.h>\n").expect("write a C file");
    let preprocessed = run(cc().arg("-E").arg("-P").arg(&include), "the C preprocessor");
    let reference = reference_structs(&String::from_utf8_lossy(&preprocessed.stdout));

    let constants = our_constants();
    let layouts = our_layouts();
    let source = dir.join("probe.c");
    let program = dir.join("probe");
    std::fs::write(&source, probe_program(&constants, &layouts, &reference))
        .expect("write the probe program");
    run(cc().arg("-o").arg(&program).arg(&source), "the C compiler");
    let output = run(&mut Command::new(&program), "the probe program");
    let output = String::from_utf8(output.stdout).expect("the probe prints ASCII");

    let mut c_constants: BTreeMap<&str, u128> = BTreeMap::new();
    let mut c_structs: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut c_fields: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    for line in output.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let number = |i: usize| -> u128 {
            words[i]
                .parse()
                .unwrap_or_else(|e| panic!("probe output `{line}`: {e}"))
        };
        match words[..] {
            ["const", name, _] => {
                c_constants.insert(name, number(2));
            }
            ["struct", name, _, _] => {
                c_structs.insert(name, (number(2) as usize, number(3) as usize));
            }
            ["field", name, field, _, _] => {
                c_fields.insert((name, field), (number(3) as usize, number(4) as usize));
            }
            _ => panic!("unexpected probe output `{line}`"),
        }
    }

    let mut mismatches = Vec::new();
    let mut counts = Counts::default();
    for (name, ours) in &constants {
        let Some(&theirs) = c_constants.get(name) else {
            continue;
        };
        if theirs == *ours {
            counts.constants += 1;
        } else if !ALLOWED_VALUE_DIFFERENCES
            .iter()
            .any(|(n, value, _)| n == name && *value == theirs)
        {
            mismatches.push(format!(
                "constant {name}: pkcs11-sys {ours:#x}, p11-kit {theirs:#x}"
            ));
        }
    }
    for layout in &layouts {
        let name = layout.name;
        let Some(c_field_names) = reference.get(name) else {
            continue;
        };
        counts.structs += 1;
        let our_field_names: Vec<&str> = layout.fields.iter().map(|(f, _, _)| *f).collect();
        if our_field_names != *c_field_names {
            mismatches.push(format!(
                "struct {name}: fields {our_field_names:?} in pkcs11-sys, {c_field_names:?} \
                 in p11-kit"
            ));
        }
        match c_structs.get(name) {
            None => mismatches.push(format!("struct {name}: the probe printed no layout")),
            Some(&(size, align)) => {
                if size != layout.size {
                    mismatches.push(format!(
                        "struct {name}: size {} in pkcs11-sys, {size} in p11-kit",
                        layout.size
                    ));
                }
                if align != layout.align {
                    mismatches.push(format!(
                        "struct {name}: alignment {} in pkcs11-sys, {align} in p11-kit",
                        layout.align
                    ));
                }
            }
        }
        for (field, offset, size) in &layout.fields {
            let Some(&(c_offset, c_size)) = c_fields.get(&(name, *field)) else {
                continue;
            };
            counts.fields += 1;
            if c_offset != *offset {
                mismatches.push(format!(
                    "struct {name}: field {field} at offset {offset} in pkcs11-sys, {c_offset} \
                     in p11-kit"
                ));
            }
            if c_size != *size {
                mismatches.push(format!(
                    "struct {name}: field {field} has size {size} in pkcs11-sys, {c_size} in \
                     p11-kit"
                ));
            }
        }
    }
    let our_names: BTreeSet<&str> = layouts.iter().map(|l| l.name).collect();
    let only_p11_kit: Vec<&String> = reference
        .keys()
        .filter(|name| name.starts_with("CK_") && !our_names.contains(name.as_str()))
        .collect();
    for name in only_p11_kit {
        mismatches.push(format!("struct {name} is in p11-kit, not in pkcs11-sys"));
    }

    eprintln!(
        "compared with {}: {counts:?} (of {} constants and {} structs in pkcs11-sys)",
        header.display(),
        constants.len(),
        layouts.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} ABI mismatches between pkcs11-sys and p11-kit's {}:\n  {}",
        mismatches.len(),
        header.display(),
        mismatches.join("\n  ")
    );
    // Comparing nothing must not pass: p11-kit 0.24 defines ~700 CK* constants and 22
    // complete CK_* structs; these bounds sit below that.
    assert!(
        counts.constants >= 600,
        "too few constants compared: {counts:?}"
    );
    assert!(counts.structs >= 20, "too few structs compared: {counts:?}");
    assert!(counts.fields >= 150, "too few fields compared: {counts:?}");
}

#[test]
fn parses_struct_definitions_and_typedefs() {
    let text = "typedef unsigned long CK_ULONG;\n\
                struct _CK_A { CK_ULONG type; void *pValue; unsigned char b[4]; };\n\
                typedef struct _CK_A CK_A;\n\
                typedef struct _CK_A *CK_A_PTR;\n\
                typedef struct CK_B { CK_ULONG (*f)(void *x); struct _CK_A a; } CK_B;\n\
                typedef struct _CK_INCOMPLETE CK_INCOMPLETE;\n";
    let structs = reference_structs(text);
    let names: Vec<&String> = structs.keys().collect();
    assert_eq!(names, ["CK_A", "CK_B"]);
    assert_eq!(structs["CK_A"], ["type", "pValue", "b"]);
    assert_eq!(structs["CK_B"], ["f", "a"]);
    assert_eq!(c_field_name("type_"), "type");
    assert_eq!(c_field_name("ulCount"), "ulCount");
}
