//! `cargo xtask kryoptic`: builds the Kryoptic PKCS #11 module (the suites' second real
//! module, Cryptoki 3.2 with post-quantum mechanisms) from its crates.io source and caches
//! it outside the repository, keyed by version.
//!
//! The cache directory is `$PKCS11_RS_CACHE`, else `$XDG_CACHE_HOME/pkcs11-rs`, else
//! `$HOME/.cache/pkcs11-rs`, then `kryoptic-<version>/`; it holds the library and a stamp
//! file recording the build recipe. The test harness (`tests/src/modules.rs`) looks in the
//! same place; a test in `tests/tests/harness_modules.rs` checks that the two agree.
//!
//! The recipe: Kryoptic 1.5.4 needs OpenSSL >= 3.2 (Debian 12 has 3.0), so it is linked
//! statically against OpenSSL 3.5.5 from the `openssl-src` crate. Kryoptic's own
//! `Configure` call fails on that crate's trimmed sources but is skipped when
//! `libcrypto.a` already exists, so OpenSSL is configured and built here first.
//!
//! A cache hit costs two file reads. A build happens in a work directory inside the cache
//! directory, and the finished library is renamed into place, so an interrupted build
//! never leaves a half-written library behind; the stamp is written after the library.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{describe, Args, Result};

/// The Kryoptic version built (the harness's `KRYOPTIC_VERSION` must say the same).
pub(crate) const VERSION: &str = "1.5.4";

/// The library the `kryoptic` crate's cdylib target produces.
pub(crate) const LIBRARY: &str = "libkryoptic_pkcs11.so";

/// The stamp file next to the library: the recipe it was built with.
const STAMP: &str = "build-recipe.txt";

/// The `openssl-src` crate whose `openssl/` tree provides OpenSSL 3.5.5.
const OPENSSL_SRC_VERSION: &str = "300.5.5";

/// `Configure` options for the static OpenSSL Kryoptic links: the options Kryoptic's own
/// build script would pass on x86_64, plus no shared libraries and no loadable modules.
const OPENSSL_CONFIGURE: &[&str] = &[
    "no-deprecated",
    "no-aria",
    "no-argon2",
    "no-atexit",
    "no-des",
    "no-dsa",
    "no-cast",
    "no-mdc2",
    "no-ec2m",
    "no-rc2",
    "no-rc4",
    "no-rc5",
    "no-rmd160",
    "no-seed",
    "no-sm2",
    "no-sm3",
    "no-sm4",
    "no-docs",
    "no-tests",
    "enable-ec_nistp_64_gcc_128",
    "no-legacy",
    "no-shared",
    "no-module",
    // One argument; the backslashes survive into the Makefile, whose shell removes them.
    r#"-DDEVRANDOM=\"/dev/urandom\""#,
];

/// The `make` target: the libraries only (no apps, no docs).
const OPENSSL_MAKE_TARGET: &str = "build_libs";

/// Kryoptic's cargo features: the standard mechanism set, post-quantum, and the
/// statically linked OpenSSL from `KRYOPTIC_OPENSSL_SOURCES`.
const KRYOPTIC_FEATURES: &str = "standard,pqc,ossl/ossl-sys";

/// Bump when the build steps change in a way the constants above do not show.
const RECIPE_REVISION: u32 = 1;

/// Symbols a Cryptoki 3.x module exports; the build is refused without them.
const REQUIRED_SYMBOLS: &[&str] = &["C_GetInterface", "C_GetInterfaceList", "C_GetFunctionList"];

/// The recipe text stored in the stamp file; any change to it means a rebuild.
fn recipe() -> String {
    format!(
        "kryoptic {VERSION}\n\
         openssl-src {OPENSSL_SRC_VERSION}\n\
         openssl configure: {}\n\
         openssl make: {OPENSSL_MAKE_TARGET}\n\
         kryoptic cargo build: --release --locked --no-default-features --features {KRYOPTIC_FEATURES}\n\
         recipe revision: {RECIPE_REVISION}\n",
        OPENSSL_CONFIGURE.join(" ")
    )
}

/// The cache root: `$PKCS11_RS_CACHE`, else `$XDG_CACHE_HOME/pkcs11-rs`, else
/// `$HOME/.cache/pkcs11-rs`, else `<tmp>/pkcs11-rs-cache`. Empty variables count as unset.
///
/// `tests/src/modules.rs` (`kryoptic_cache_dir`) computes the same path.
fn cache_root() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    var("PKCS11_RS_CACHE")
        .map(PathBuf::from)
        .or_else(|| var("XDG_CACHE_HOME").map(|dir| PathBuf::from(dir).join("pkcs11-rs")))
        .or_else(|| var("HOME").map(|dir| PathBuf::from(dir).join(".cache/pkcs11-rs")))
        .unwrap_or_else(|| std::env::temp_dir().join("pkcs11-rs-cache"))
}

/// The cache directory of this version.
pub(crate) fn cache_dir() -> PathBuf {
    cache_root().join(format!("kryoptic-{VERSION}"))
}

/// `cargo xtask kryoptic [--force] [--print-path]`.
pub(crate) fn run(args: &[String]) -> Result {
    let mut force = false;
    let mut print_path = false;
    let mut args = Args::new(args);
    while let Some(flag) = args.next_flag() {
        match flag {
            "--force" => force = true,
            "--print-path" => print_path = true,
            other => return Err(format!("kryoptic: unknown option `{other}`")),
        }
    }
    if print_path {
        // Where the library is (or would be) cached, without building anything.
        println!("{}", cache_dir().join(LIBRARY).display());
        return Ok(());
    }
    let library = ensure(force)?;
    println!("export KRYOPTIC_MODULE={}", library.display());
    Ok(())
}

/// Makes sure the cached library exists and was built with the current recipe (always
/// rebuilding with `force`); returns its path.
pub(crate) fn ensure(force: bool) -> Result<PathBuf> {
    // Absolute: the build runs in other directories (a relative $PKCS11_RS_CACHE is taken
    // from the current directory).
    let dir = cache_dir();
    let dir = std::path::absolute(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let library = dir.join(LIBRARY);
    let stamp = dir.join(STAMP);
    let recipe = recipe();
    if !force && library.is_file() {
        match std::fs::read_to_string(&stamp) {
            Ok(text) if text == recipe => {
                eprintln!("xtask: Kryoptic {VERSION} is cached: {}", library.display());
                return Ok(library);
            }
            Ok(_) => eprintln!(
                "xtask: {} was built with another recipe ({}): rebuilding",
                library.display(),
                stamp.display()
            ),
            Err(_) => eprintln!(
                "xtask: {} has no build stamp ({}), so its recipe is unknown: rebuilding",
                library.display(),
                stamp.display()
            ),
        }
    }
    crate::deps::ensure(crate::deps::Purpose::Kryoptic)?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    remove_stale_work_dirs(&dir);
    let work = dir.join(format!("build-{}", std::process::id()));
    let started = Instant::now();
    eprintln!(
        "xtask: building Kryoptic {VERSION} in {} (several minutes; the work directory is \
         removed on success)",
        work.display()
    );
    let built = build(&work)?;
    check_library(&built)?;
    // The old stamp goes first: a library never sits next to a stamp it was not built by.
    if let Err(e) = std::fs::remove_file(&stamp) {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(format!("cannot remove {}: {e}", stamp.display()));
        }
    }
    // Same file system: the rename is atomic, and processes that have the old library
    // mapped keep their copy.
    std::fs::rename(&built, &library).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            built.display(),
            library.display()
        )
    })?;
    let stamp_tmp = work.join(STAMP);
    std::fs::write(&stamp_tmp, &recipe)
        .map_err(|e| format!("cannot write {}: {e}", stamp_tmp.display()))?;
    std::fs::rename(&stamp_tmp, &stamp).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            stamp_tmp.display(),
            stamp.display()
        )
    })?;
    if let Err(e) = std::fs::remove_dir_all(&work) {
        eprintln!("xtask: warning: cannot remove {}: {e}", work.display());
    }
    eprintln!(
        "xtask: built Kryoptic {VERSION} in {:.0?}: {}",
        started.elapsed(),
        library.display()
    );
    Ok(library)
}

/// The pid in a work directory's name `build-<pid>`.
fn work_dir_pid(name: &OsStr) -> Option<u32> {
    name.to_str()?.strip_prefix("build-")?.parse().ok()
}

/// Removes `build-<pid>` work directories whose process is gone (interrupted builds).
fn remove_stale_work_dirs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = work_dir_pid(&entry.file_name()) else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists();
        if !alive && entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            eprintln!(
                "xtask: removing the work directory of an interrupted build: {}",
                entry.path().display()
            );
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Fetches the sources, builds OpenSSL and then Kryoptic in `work`; returns the built
/// library (inside `work`).
fn build(work: &Path) -> Result<PathBuf> {
    if work.exists() {
        std::fs::remove_dir_all(work)
            .map_err(|e| format!("cannot clear {}: {e}", work.display()))?;
    }
    let (kryoptic_src, openssl_src) = fetch_sources(&work.join("fetch"))?;

    let openssl = work.join("openssl");
    copy_dir(&openssl_src.join("openssl"), &openssl)?;
    let log = work.join("openssl-build.log");
    run_logged(
        Command::new("./Configure")
            .args(OPENSSL_CONFIGURE)
            .current_dir(&openssl),
        &log,
    )?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    run_logged(
        Command::new("make")
            .arg(format!("-j{jobs}"))
            .arg(OPENSSL_MAKE_TARGET)
            .current_dir(&openssl),
        &log,
    )?;
    let libcrypto = openssl.join("libcrypto.a");
    if !libcrypto.is_file() {
        return Err(format!(
            "the OpenSSL build made no {} (see {})",
            libcrypto.display(),
            log.display()
        ));
    }

    let kryoptic = work.join("kryoptic");
    copy_dir(&kryoptic_src, &kryoptic)?;
    // A workspace of its own, even when the cache lies below another workspace's root
    // (changes nothing else: the dependency versions come from the crate's Cargo.lock).
    let manifest = kryoptic.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    if !text.lines().any(|line| line.trim() == "[workspace]") {
        write_file(&manifest, &format!("{text}\n[workspace]\n"))?;
    }
    let target = work.join("target");
    let mut cargo_build = inner_cargo();
    cargo_build
        .args(["build", "--release", "--locked", "--no-default-features"])
        .args(["--features", KRYOPTIC_FEATURES])
        .arg("--target-dir")
        .arg(&target)
        .env("KRYOPTIC_OPENSSL_SOURCES", &openssl)
        .current_dir(&kryoptic);
    run_in(&mut cargo_build)?;
    let built = target.join("release").join(LIBRARY);
    if !built.is_file() {
        return Err(format!(
            "`cargo build` of Kryoptic succeeded but made no {}",
            built.display()
        ));
    }
    Ok(built)
}

/// Downloads the `kryoptic` and `openssl-src` crates through a throwaway package in
/// `dir`; returns their source directories (in cargo's registry cache, read-only to us).
fn fetch_sources(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir.join("src"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let manifest = format!(
        "[package]\n\
         name = \"kryoptic-fetch\"\n\
         version = \"0.0.0\"\n\
         edition = \"2021\"\n\
         publish = false\n\n\
         [dependencies]\n\
         kryoptic = {{ version = \"={VERSION}\", default-features = false }}\n\
         openssl-src = \"={OPENSSL_SRC_VERSION}\"\n\n\
         [workspace]\n"
    );
    write_file(&dir.join("Cargo.toml"), &manifest)?;
    write_file(&dir.join("src/lib.rs"), "")?;
    run_in(inner_cargo().arg("fetch").current_dir(dir))?;
    let mut metadata = inner_cargo();
    metadata
        .args(["metadata", "--format-version", "1"])
        .current_dir(dir)
        .stderr(Stdio::inherit());
    eprintln!("$ {}", describe(&metadata));
    let output = metadata
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", describe(&metadata)))?;
    if !output.status.success() {
        return Err(format!(
            "`{}` failed ({})",
            describe(&metadata),
            output.status
        ));
    }
    let json = String::from_utf8_lossy(&output.stdout);
    let manifests = json_string_values(&json, "manifest_path");
    let crate_dir = |dir_name: &str| -> Result<PathBuf> {
        manifests
            .iter()
            .map(Path::new)
            .filter_map(Path::parent)
            .find(|parent| {
                parent
                    .file_name()
                    .and_then(OsStr::to_str)
                    .is_some_and(|name| {
                        name == dir_name || name.starts_with(&format!("{dir_name}+"))
                    })
            })
            .map(Path::to_path_buf)
            .ok_or_else(|| {
                format!(
                    "`cargo metadata` in {} does not list {dir_name}",
                    dir.display()
                )
            })
    };
    Ok((
        crate_dir(&format!("kryoptic-{VERSION}"))?,
        crate_dir(&format!("openssl-src-{OPENSSL_SRC_VERSION}"))?,
    ))
}

/// Every string value of `"key":` in a JSON document (enough for `cargo metadata`'s
/// `manifest_path`s: the escapes JSON allows in a path are undone).
fn json_string_values(json: &str, key: &str) -> Vec<String> {
    let needle = format!("\"{key}\":\"");
    let mut values = Vec::new();
    let mut rest = json;
    while let Some(start) = rest.find(&needle) {
        rest = &rest[start + needle.len()..];
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let mut end = rest.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    end = i + 1;
                    break;
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 't')) => value.push('\t'),
                    Some((_, other)) => value.push(other),
                    None => break,
                },
                c => value.push(c),
            }
        }
        values.push(value);
        rest = &rest[end..];
    }
    values
}

/// A cargo command for the inner builds, without the variables the outer cargo (which
/// runs this xtask) set, and without build settings meant for this workspace.
fn inner_cargo() -> Command {
    let mut cmd = crate::cargo();
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let keep = matches!(name, "CARGO_HOME" | "CARGO")
            || name.starts_with("CARGO_NET_")
            || name.starts_with("CARGO_HTTP_")
            || name.starts_with("CARGO_REGISTRIES_")
            || name.starts_with("CARGO_REGISTRY_")
            || name.starts_with("CARGO_TERM_");
        let drop = (name.starts_with("CARGO_") && !keep)
            || matches!(
                name,
                "RUSTFLAGS"
                    | "RUSTDOCFLAGS"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "OUT_DIR"
                    | "TARGET"
                    | "HOST"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
                    | "NUM_JOBS"
            );
        if drop {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// Runs `cmd` in its own directory, echoing it; fails if it fails.
fn run_in(cmd: &mut Command) -> Result {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

/// Runs `cmd` with its output appended to `log`; on failure the error shows the end of
/// the log.
fn run_logged(cmd: &mut Command, log: &Path) -> Result {
    eprintln!("$ {}  >> {}", describe(cmd), log.display());
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let file2 = file
        .try_clone()
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let status = cmd
        .stdout(file)
        .stderr(file2)
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", describe(cmd)))?;
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    Err(format!(
        "`{}` failed ({status}); the end of {}:\n{tail}",
        describe(cmd),
        log.display()
    ))
}

fn write_file(path: &Path, text: &str) -> Result {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Copies the tree `from` to `to` (files with their permissions, symbolic links as links).
fn copy_dir(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let (source, dest) = (entry.path(), to.join(entry.file_name()));
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot stat {}: {e}", source.display()))?;
        if kind.is_dir() {
            copy_dir(&source, &dest)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&source)
                .map_err(|e| format!("cannot read link {}: {e}", source.display()))?;
            std::os::unix::fs::symlink(&target, &dest)
                .map_err(|e| format!("cannot create link {}: {e}", dest.display()))?;
        } else {
            std::fs::copy(&source, &dest).map_err(|e| {
                format!(
                    "cannot copy {} to {}: {e}",
                    source.display(),
                    dest.display()
                )
            })?;
        }
    }
    Ok(())
}

/// Checks that `library` loads and exports the Cryptoki 3.x entry points (the test
/// suites check what it answers).
fn check_library(library: &Path) -> Result {
    // SAFETY: loading runs the library's initializers; this is the Kryoptic module just
    // built from its published source, whose initializers only set up its own state.
    let loaded = unsafe { libloading::Library::new(library) }
        .map_err(|e| format!("the built {} does not load: {e}", library.display()))?;
    for symbol in REQUIRED_SYMBOLS {
        // SAFETY: the symbol is only looked up, never called, so the function type given
        // here does not matter.
        let found = unsafe { loaded.get::<unsafe extern "C" fn()>(symbol.as_bytes()) };
        if let Err(e) = found {
            return Err(format!(
                "the built {} does not export {symbol}: {e}",
                library.display()
            ));
        }
    }
    eprintln!(
        "xtask: {} loads and exports {}",
        library.display(),
        REQUIRED_SYMBOLS.join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_are_read_from_metadata_json() {
        let json = r#"{"packages":[{"name":"a","manifest_path":"/r/kryoptic-1.5.4/Cargo.toml"},{"manifest_path":"/r/openssl-src-300.5.5+3.5.5/Cargo.toml","x":"y"},{"manifest_path":"/q\\\"x\/Cargo.toml"}]}"#;
        assert_eq!(
            json_string_values(json, "manifest_path"),
            [
                "/r/kryoptic-1.5.4/Cargo.toml",
                "/r/openssl-src-300.5.5+3.5.5/Cargo.toml",
                "/q\\\"x/Cargo.toml"
            ]
        );
    }

    #[test]
    fn only_build_pid_directories_are_work_directories() {
        assert_eq!(work_dir_pid(OsStr::new("build-4242")), Some(4242));
        for other in [STAMP, LIBRARY, "build-", "build-12x", "fetch"] {
            assert_eq!(work_dir_pid(OsStr::new(other)), None, "{other}");
        }
    }

    #[test]
    fn the_recipe_names_every_ingredient() {
        let recipe = recipe();
        for part in [VERSION, OPENSSL_SRC_VERSION, KRYOPTIC_FEATURES, "no-shared"] {
            assert!(recipe.contains(part), "{part} missing from\n{recipe}");
        }
    }
}
