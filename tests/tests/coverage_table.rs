//! The coverage table (`pkcs11/src/coverage.md`, the `pkcs11::coverage` docs) against the
//! code: every function of the PKCS #11 v3.2 function list has a row; every row names a
//! safe API (an intra-doc link, which `cargo doc -D warnings` checks exists) and the
//! modules it is tested on; and the safe crate really wraps the function: some item in
//! `pkcs11/src` carries `#[doc(alias = "C_Name")]` (the three negotiation entry points
//! are the loader's, in `pkcs11-sys`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/abi_items.rs"));

/// The function names of `CK_FUNCTION_LIST_3_2`, in table order.
fn v3_2_functions() -> Vec<&'static str> {
    let mut names = Vec::new();
    macro_rules! functions {
        (CK_FUNCTION_LIST_3_2 { version, $($field:ident),* $(,)? }) => {
            names.extend([$(stringify!($field)),*]);
        };
        ($other:ident { $($field:ident),* $(,)? }) => {};
    }
    for_each_struct!(functions);
    names
}

fn repo_file(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The function table's rows: `| `C_Name` | since | safe API | tested on |`.
fn table_rows() -> BTreeMap<String, Vec<String>> {
    let mut rows = BTreeMap::new();
    for line in repo_file("pkcs11/src/coverage.md").lines() {
        let cells: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect();
        let Some(first) = cells.first() else { continue };
        let name = first.trim_matches('`');
        if name.starts_with("C_") && first.starts_with('`') {
            assert!(
                rows.insert(name.to_owned(), cells.clone()).is_none(),
                "{name} has two rows in the coverage table"
            );
        }
    }
    rows
}

/// Every `#[doc(alias = "C_...")]` in the safe crate's sources.
fn aliases_in_source() -> BTreeSet<String> {
    fn walk(dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("doc(alias = \"").skip(1) {
                    if let Some(name) = piece.split('"').next() {
                        found.insert(name.to_owned());
                    }
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../pkcs11/src"),
        &mut found,
    );
    found
}

const LOADER: [&str; 3] = ["C_GetFunctionList", "C_GetInterfaceList", "C_GetInterface"];

#[test]
fn every_v3_2_function_has_a_row_naming_a_safe_api_and_where_it_is_tested() {
    let functions = v3_2_functions();
    assert_eq!(
        functions.len(),
        104,
        "CK_FUNCTION_LIST_3_2 has 104 functions"
    );
    let rows = table_rows();
    let mut problems = Vec::new();
    for name in &functions {
        let Some(cells) = rows.get(*name) else {
            problems.push(format!("{name}: no row"));
            continue;
        };
        if cells.len() != 4 {
            problems.push(format!("{name}: {} cells, expected 4", cells.len()));
            continue;
        }
        if !cells[2].contains("](") && !cells[2].contains("`]") {
            problems.push(format!(
                "{name}: the safe API cell has no link: {}",
                cells[2]
            ));
        }
        if cells[3].is_empty() {
            problems.push(format!("{name}: no module it is tested on"));
        }
    }
    for name in rows.keys() {
        if !functions.contains(&name.as_str()) {
            problems.push(format!("{name}: a row for a function not in v3.2"));
        }
    }
    assert!(
        problems.is_empty(),
        "coverage table:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_function_but_the_loaders_is_wrapped_by_an_aliased_item() {
    let aliases = aliases_in_source();
    let missing: Vec<_> = v3_2_functions()
        .into_iter()
        .filter(|name| !LOADER.contains(name) && !aliases.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "no #[doc(alias)] in pkcs11/src for: {missing:?}"
    );
    let stray: Vec<_> = aliases
        .iter()
        .filter(|a| a.starts_with("C_") && !v3_2_functions().contains(&a.as_str()))
        .collect();
    assert!(
        stray.is_empty(),
        "aliases naming no v3.2 function: {stray:?}"
    );
}
