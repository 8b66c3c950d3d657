//! `cargo xtask`: the maintainers' tasks for this workspace.
//!
//! ```text
//! cargo xtask bindgen [--check] [--headers DIR] [--extra FILE]... [--out FILE]
//! cargo xtask softhsm [--dir DIR] [--label LABEL] [--so-pin PIN] [--pin PIN]
//! cargo xtask kryoptic [--force] [--print-path]
//! cargo xtask demo
//! cargo xtask test
//! cargo xtask valgrind [--only NAME]...
//! ```

mod bench;
mod bindings;
mod deps;
mod kryoptic;
mod softhsm;
mod valgrind;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// A failed task: the message printed before exiting non-zero.
type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  bench [--quick] [--instructions] [--module NAME]... [--features FEATURE]...
      criterion benchmarks, one process per module (softhsm, kryoptic, noop: the fault
      module answering without work): the safe crate, direct function-table calls and
      the cryptoki crate side by side; medians and ratios to target/bench/<module>.md
      and target/bench/all.md; --quick is a smoke run; --instructions counts
      instructions per call with valgrind's callgrind on the noop module instead;
      --features builds the bench with a feature on (e.g. pkcs11/tracing)
  bindgen [--check] [--headers DIR] [--extra FILE]... [--out FILE]
      regenerate pkcs11-sys/src/bindings.rs from vendor/pkcs11 (needs libclang);
      --check fails if the checked-in file is stale
  softhsm [--dir DIR] [--label LABEL] [--so-pin PIN] [--pin PIN]
      create a throwaway SoftHSMv2 token and print the environment to use it
  kryoptic [--force] [--print-path]
      build the Kryoptic module (Cryptoki 3.2) from its crates.io source, unless the
      cache outside the repository already has it, and print its path; the cache is
      $PKCS11_RS_CACHE, else $XDG_CACHE_HOME/pkcs11-rs, else ~/.cache/pkcs11-rs;
      --force rebuilds, --print-path only prints where the library is cached
  demo
      show library info, slots, a token and its mechanisms of a throwaway token
  test
      install what is missing, then fmt, clippy, bindgen --check, build Kryoptic
      (cached), tests on SoftHSMv2 and Kryoptic, the tests under valgrind, and docs
  valgrind [--only NAME]...
      run the module-facing test suites under valgrind memcheck (no memory errors,
      no definite leaks); --only NAME runs one test binary (repeatable)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench") => bench::run(&args[1..]),
        Some("bindgen") => bindings::run(&args[1..]),
        Some("softhsm") => softhsm::run(&args[1..]),
        Some("kryoptic") => kryoptic::run(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("valgrind") => valgrind::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's directory).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Options of the form `--name value` and `--flag`, in order.
struct Args<'a> {
    rest: std::slice::Iter<'a, String>,
}

impl<'a> Args<'a> {
    fn new(args: &'a [String]) -> Self {
        Self { rest: args.iter() }
    }

    /// The next option name, if any.
    fn next_flag(&mut self) -> Option<&'a str> {
        self.rest.next().map(String::as_str)
    }

    /// The value that must follow option `name`.
    fn value(&mut self, name: &str) -> Result<&'a str> {
        self.rest
            .next()
            .map(String::as_str)
            .ok_or_else(|| format!("option {name} needs a value"))
    }
}

/// Runs `cmd` in the workspace root, echoing it; fails if it fails.
fn run_cmd(cmd: &mut Command) -> Result {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `cargo xtask demo`: a throwaway SoftHSM token, toured through the safe API.
fn demo(args: &[String]) -> Result {
    if let Some(extra) = args.first() {
        return Err(format!("demo takes no options (got `{extra}`)"));
    }
    deps::ensure(deps::Purpose::Demo)?;
    let dir = workspace_root().join("target/xtask-demo");
    let (label, pin) = ("xtask-demo", "1234");
    let token = softhsm::Token::create(&dir, label, "so-pin-1234", pin)?;
    run_cmd(
        cargo()
            .args([
                "run",
                "--quiet",
                "--package",
                "pkcs11",
                "--example",
                "tour",
                "--",
            ])
            .arg(&token.module)
            .args([label, pin])
            .env("SOFTHSM2_CONF", &token.conf),
    )
}

/// `cargo xtask test`: everything CI checks, in order, stopping at the first failure.
fn test(args: &[String]) -> Result {
    if let Some(extra) = args.first() {
        return Err(format!("test takes no options (got `{extra}`)"));
    }
    deps::ensure(deps::Purpose::Test)?;
    run_cmd(cargo().args(["fmt", "--all", "--check"]))?;
    run_cmd(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    bindings::run(&["--check".to_owned()])?;
    bindings::cross_check()?;
    // The operation suites run on Kryoptic too (tests/src/modules.rs).
    let kryoptic = kryoptic::ensure(false)?;
    run_cmd(
        cargo()
            .args(["test", "--workspace"])
            .env("KRYOPTIC_MODULE", &kryoptic),
    )?;
    valgrind::check(&[])?;
    run_cmd(
        cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    eprintln!("xtask test: all checks passed");
    Ok(())
}
