//! `cargo xtask valgrind`: the test suites that drive module code, run under valgrind
//! memcheck (issue 5, item 6: no invalid reads or writes, no definite leaks).
//!
//! The test binaries are built with `cargo test --workspace --no-run
//! --message-format=json`, which names each one's executable. The selection:
//!
//! - the unit tests of [`UNIT_TESTS`] (the safe crate, the fault module);
//! - the integration suites named in [`SUITES`], and every suite whose name starts with
//!   one of [`SUITE_PREFIXES`] (so new `safe_*`, `fault_*`... suites are picked up),
//!   except those in [`EXCLUDED`];
//! - minus the tests in [`SKIPS`] (too slow under valgrind, or forking), each with its
//!   reason.
//!
//! Each binary runs as `valgrind <FLAGS> <binary> --test-threads=2`, with the
//! suppressions in `xtask/valgrind/*.supp` (only what is not the library's: third-party
//! noise in glibc, SoftHSM and OpenSSL, deliberate leaks of test fixtures; each entry
//! says why) and a log per process in `target/valgrind/`. A binary fails when
//! valgrind reports an error or a definite leak (exit code [`ERROR_EXIT_CODE`]) or when
//! its tests fail; every binary runs, then the task fails naming each failed binary.
//! The environment is the caller's: the SoftHSM suites write their own `SOFTHSM2_CONF`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{cargo, deps, describe, workspace_root, Args, Result};

/// Library crates (by target name) whose unit tests run under valgrind.
const UNIT_TESTS: &[&str] = &["pkcs11", "pkcs11_fault_module"];

/// Integration suites (by test target name) that run under valgrind.
const SUITES: &[&str] = &["softhsm_raw"];

/// Integration suites whose name starts with one of these run too: the SoftHSM suites
/// (`safe_*`, `rules_softhsm`, `stress_softhsm`), the loader suites and the fault-module
/// suites.
const SUITE_PREFIXES: &[&str] = &["safe_", "rules_", "stress_", "loader_", "fault_"];

/// Suites that do not run under valgrind (whether or not a prefix matches), and why.
/// Besides these, `examples` and `compile_fail` (they run cargo and rustc) and the
/// `abi_*` suites (layouts checked at compile time and by a C program) are not selected.
const EXCLUDED: &[(&str, &str)] = &[
    (
        "safe_fork",
        "every test forks children that re-open SoftHSM and end with _exit: see the \
         `fork` skip (SKIPS)",
    ),
    (
        "secrets",
        "its allocator reads every byte of every freed block, struct padding included, \
         which memcheck rightly reports as reads of undefined bytes",
    ),
];

/// Tests skipped under valgrind: (suite, or `*` for every suite; test name filter;
/// reason). Each is passed as `--skip FILTER` (a substring filter of the test harness).
///
/// Add a test here only with the reason it cannot run under valgrind.
const SKIPS: &[(&str, &str, &str)] = &[
    (
        "*",
        "fork",
        "tests that fork the multi-threaded test process and end the child with _exit: in \
         the child, blocks that only the parent's other threads pointed to (from their \
         stacks) count as definitely lost, and --error-exitcode then turns the child's \
         exit status into 99, failing the test; safe_fork is left out for the same reason",
    ),
    (
        "stress_softhsm",
        "rule_09_eight_threads_two_thousand_mixed_operations_and_session_churn",
        "8 threads x 2,000 operations: valgrind runs one thread at a time, so it took \
         200 s of the run alone (2 cores), close to the test's own 300 s watchdog; every \
         kind of operation it mixes runs under valgrind in safe_crypto, rules_softhsm and \
         safe_reliability, and the stress test itself runs natively in `cargo test`",
    ),
];

/// The number of cases each property test runs under valgrind (`PROPTEST_CASES`, unless
/// the caller set it). `cargo test` has just run the full 256 with the same fixed seed,
/// natively; under valgrind the point is the memory checks on the code paths, which 32
/// cases reach, and 256 would make the pkcs11 unit tests alone take minutes.
const PROPTEST_CASES: &str = "32";

/// Valgrind's exit code when it found errors (our choice, distinct from the test
/// harness's 101).
const ERROR_EXIT_CODE: i32 = 99;

/// The memcheck options, besides the suppressions and the log file.
const VALGRIND_FLAGS: &[&str] = &[
    "--tool=memcheck",
    // Invalid reads and writes, uses of uninitialized values, bad frees: always errors.
    // Leaks: only definite ones fail the run ("possibly lost" blocks are interior
    // pointers the test harness's threads keep at exit), and only those are listed.
    "--leak-check=full",
    "--errors-for-leak-kinds=definite",
    "--show-leak-kinds=definite",
    // Origins of uninitialized values double the running time; rerun with
    // --track-origins=yes by hand to chase one.
    "--track-origins=no",
    "--num-callers=40",
    // Keep the symbols of libraries that were unloaded (module copies the loader tests
    // dlclose), so their frames have names in reports and suppressions.
    "--keep-debuginfo=yes",
    // Valgrind runs one thread at a time; a fair lock keeps threads that wait for each
    // other (callbacks, finalize while calls are in flight) from starving.
    "--fair-sched=try",
    // Children the tests spawn (softhsm2-util, cc) are not ours to check.
    "--trace-children=no",
];

const USAGE: &str = "\
usage: cargo xtask valgrind [--only NAME]...
  build the test binaries and run the selected ones under valgrind memcheck;
  --only NAME runs only the binary (suite or crate) NAME, repeatable";

/// `cargo xtask valgrind [--only NAME]...`.
pub(crate) fn run(args: &[String]) -> Result {
    let mut only = Vec::new();
    let mut args = Args::new(args);
    while let Some(flag) = args.next_flag() {
        match flag {
            "--only" => only.push(args.value(flag)?.to_owned()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown option `{other}`\n{USAGE}")),
        }
    }
    deps::ensure(deps::Purpose::Test)?;
    check(&only)
}

/// One test binary to run.
struct Binary {
    /// The test target's name (`safe_crypto`) or the library's (`pkcs11`).
    name: String,
    executable: PathBuf,
}

/// How one binary fared.
struct Outcome {
    name: String,
    elapsed: Duration,
    /// `None` when clean; otherwise what went wrong.
    failure: Option<String>,
}

/// Builds the test binaries and runs the selection (all of it when `only` is empty).
pub(crate) fn check(only: &[String]) -> Result {
    if !valgrind_present() {
        return Err(
            "valgrind is not installed: `apt-get install valgrind` (Debian package \
                    valgrind), or run `cargo xtask test` as root on Debian"
                .into(),
        );
    }
    let binaries = select(build()?, only)?;
    let suppressions = suppression_files()?;
    let logs = target_dir().join("valgrind");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;

    for (suite, test, reason) in SKIPS {
        let suite = if *suite == "*" { "every suite" } else { suite };
        eprintln!("xtask valgrind: skipping tests matching `{test}` in {suite}: {reason}");
    }
    eprintln!(
        "xtask valgrind: property tests run {} cases each (PROPTEST_CASES)",
        std::env::var("PROPTEST_CASES").unwrap_or_else(|_| PROPTEST_CASES.to_owned())
    );
    for (suite, reason) in EXCLUDED {
        eprintln!("xtask valgrind: not running {suite}: {reason}");
    }
    let start = Instant::now();
    let mut outcomes = Vec::new();
    for binary in &binaries {
        outcomes.push(run_one(binary, &suppressions, &logs)?);
    }
    let total = start.elapsed();

    eprintln!(
        "\nxtask valgrind: {} binaries in {total:.0?}",
        outcomes.len()
    );
    for outcome in &outcomes {
        let verdict = outcome.failure.as_deref().unwrap_or("clean");
        eprintln!(
            "  {:<24} {:>6.1?}  {verdict}",
            outcome.name, outcome.elapsed
        );
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.failure.as_ref().map(|f| format!("{}: {f}", o.name)))
        .collect();
    if failed.is_empty() {
        eprintln!("xtask valgrind: no memory errors, no definite leaks");
        Ok(())
    } else {
        Err(format!(
            "valgrind found problems in {} binaries:\n  {}",
            failed.len(),
            failed.join("\n  ")
        ))
    }
}

fn valgrind_present() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The target directory (`$CARGO_TARGET_DIR`, else the workspace's `target`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// `xtask/valgrind/*.supp`, sorted.
fn suppression_files() -> Result<Vec<PathBuf>> {
    let dir = workspace_root().join("xtask/valgrind");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "supp"))
        .collect();
    files.sort();
    Ok(files)
}

/// Builds every test binary of the workspace; returns (target name, kinds, executable)
/// of each.
fn build() -> Result<Vec<(String, Vec<String>, PathBuf)>> {
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--no-run", "--message-format=json"]);
    eprintln!("$ {}", describe(&cmd));
    let output = cmd
        .current_dir(workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", describe(&cmd)))?;
    if !output.status.success() {
        return Err(format!("`{}` failed ({})", describe(&cmd), output.status));
    }
    let mut artifacts = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = json::parse(line) else {
            continue;
        };
        if message.get("reason").and_then(json::Value::as_str) != Some("compiler-artifact") {
            continue;
        }
        let Some(executable) = message.get("executable").and_then(json::Value::as_str) else {
            continue;
        };
        let is_test = message
            .get("profile")
            .and_then(|p| p.get("test"))
            .and_then(json::Value::as_bool)
            == Some(true);
        let target = message.get("target");
        let name = target
            .and_then(|t| t.get("name"))
            .and_then(json::Value::as_str);
        let kinds: Vec<String> = target
            .and_then(|t| t.get("kind"))
            .and_then(json::Value::as_array)
            .unwrap_or(&[])
            .iter()
            .filter_map(json::Value::as_str)
            .map(str::to_owned)
            .collect();
        if let (true, Some(name)) = (is_test, name) {
            artifacts.push((name.to_owned(), kinds, PathBuf::from(executable)));
        }
    }
    Ok(artifacts)
}

/// The binaries to run, in the order cargo built them, sorted by name.
fn select(artifacts: Vec<(String, Vec<String>, PathBuf)>, only: &[String]) -> Result<Vec<Binary>> {
    let mut chosen: Vec<Binary> = artifacts
        .into_iter()
        .filter(|(name, kinds, _)| {
            let is_suite = kinds.iter().any(|k| k == "test");
            let is_library = kinds.iter().any(|k| k == "lib" || k == "cdylib");
            let wanted = if is_suite {
                (SUITES.contains(&name.as_str())
                    || SUITE_PREFIXES.iter().any(|p| name.starts_with(p)))
                    && !EXCLUDED.iter().any(|(excluded, _)| excluded == name)
            } else {
                is_library && UNIT_TESTS.contains(&name.as_str())
            };
            wanted && (only.is_empty() || only.contains(name))
        })
        .map(|(name, _, executable)| Binary { name, executable })
        .collect();
    chosen.sort_by(|a, b| a.name.cmp(&b.name));
    chosen.dedup_by(|a, b| a.name == b.name);
    if let Some(missing) = only.iter().find(|n| !chosen.iter().any(|b| &b.name == *n)) {
        return Err(format!(
            "no selected test binary is named `{missing}` (see the lists in \
             xtask/src/valgrind.rs)"
        ));
    }
    if chosen.is_empty() {
        return Err("no test binary was selected".into());
    }
    Ok(chosen)
}

/// Runs one binary under valgrind.
fn run_one(binary: &Binary, suppressions: &[PathBuf], logs: &Path) -> Result<Outcome> {
    // One log per process (a test that forks gets one per child).
    let prefix = format!("{}.", binary.name);
    clear_logs(logs, &prefix)?;
    let mut cmd = Command::new("valgrind");
    cmd.args(VALGRIND_FLAGS)
        .arg(format!("--error-exitcode={ERROR_EXIT_CODE}"));
    for file in suppressions {
        cmd.arg(format!("--suppressions={}", file.display()));
    }
    cmd.arg(format!(
        "--log-file={}",
        logs.join(format!("{prefix}%p.log")).display()
    ));
    cmd.arg(&binary.executable).arg("--test-threads=2");
    if std::env::var_os("PROPTEST_CASES").is_none() {
        cmd.env("PROPTEST_CASES", PROPTEST_CASES);
    }
    for (suite, test, _) in SKIPS {
        if *suite == "*" || *suite == binary.name {
            cmd.args(["--skip", test]);
        }
    }
    eprintln!("\n$ {}", describe(&cmd));
    let start = Instant::now();
    let status = cmd
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let elapsed = start.elapsed();

    let reports = logs_with_errors(logs, &prefix)?;
    for (path, text) in &reports {
        eprintln!("--- {} ---\n{}", path.display(), excerpt(text));
    }
    let failure = if status.code() == Some(ERROR_EXIT_CODE) || !reports.is_empty() {
        let paths: Vec<String> = reports
            .iter()
            .map(|(path, _)| path.display().to_string())
            .collect();
        Some(format!(
            "memory errors or definite leaks (see {})",
            if paths.is_empty() {
                logs.join(format!("{prefix}*.log")).display().to_string()
            } else {
                paths.join(", ")
            }
        ))
    } else if !status.success() {
        Some(format!("tests failed under valgrind ({status})"))
    } else {
        None
    };
    Ok(Outcome {
        name: binary.name.clone(),
        elapsed,
        failure,
    })
}

/// Removes the logs of an earlier run of the binary whose logs start with `prefix`.
fn clear_logs(logs: &Path, prefix: &str) -> Result {
    for path in logs_of(logs, prefix)? {
        std::fs::remove_file(&path)
            .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    }
    Ok(())
}

fn logs_of(logs: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(logs).map_err(|e| format!("cannot read {}: {e}", logs.display()))?;
    Ok(entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.strip_prefix(prefix)
                    .and_then(|rest| rest.strip_suffix(".log"))
                    .is_some_and(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
            })
        })
        .collect())
}

/// The logs that report errors (a non-zero `ERROR SUMMARY`), with their text.
fn logs_with_errors(logs: &Path, prefix: &str) -> Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    for path in logs_of(logs, prefix)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let errors = text
            .lines()
            .filter_map(|line| line.split_once("ERROR SUMMARY: "))
            .any(|(_, rest)| !rest.starts_with("0 errors"));
        if errors {
            found.push((path, text));
        }
    }
    found.sort();
    Ok(found)
}

/// The first lines of a log, enough to show the first errors.
fn excerpt(text: &str) -> String {
    const LINES: usize = 300;
    let lines: Vec<&str> = text.lines().collect();
    let mut shown = lines[..lines.len().min(LINES)].join("\n");
    if lines.len() > LINES {
        shown.push_str(&format!(
            "\n[... {} more lines in the log]",
            lines.len() - LINES
        ));
    }
    shown
}

/// Just enough JSON to read cargo's messages (no dependency for it).
mod json {
    /// A JSON value.
    #[derive(Debug, PartialEq)]
    pub(super) enum Value {
        Null,
        Bool(bool),
        Number,
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    impl Value {
        /// The member `key` of an object.
        pub(super) fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }

        pub(super) fn as_str(&self) -> Option<&str> {
            match self {
                Value::String(s) => Some(s),
                _ => None,
            }
        }

        pub(super) fn as_bool(&self) -> Option<bool> {
            match self {
                Value::Bool(b) => Some(*b),
                _ => None,
            }
        }

        pub(super) fn as_array(&self) -> Option<&[Value]> {
            match self {
                Value::Array(items) => Some(items),
                _ => None,
            }
        }
    }

    /// Parses one JSON document.
    pub(super) fn parse(text: &str) -> Result<Value, String> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = parser.value(0)?;
        parser.skip_space();
        if parser.pos != parser.bytes.len() {
            return Err(format!("trailing characters at {}", parser.pos));
        }
        Ok(value)
    }

    struct Parser<'a> {
        bytes: &'a [u8],
        pos: usize,
    }

    impl Parser<'_> {
        fn skip_space(&mut self) {
            while self
                .bytes
                .get(self.pos)
                .is_some_and(|b| b.is_ascii_whitespace())
            {
                self.pos += 1;
            }
        }

        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.pos).copied()
        }

        fn expect(&mut self, byte: u8) -> Result<(), String> {
            self.skip_space();
            if self.peek() == Some(byte) {
                self.pos += 1;
                Ok(())
            } else {
                Err(format!("expected `{}` at {}", byte as char, self.pos))
            }
        }

        fn value(&mut self, depth: usize) -> Result<Value, String> {
            if depth > 64 {
                return Err("nested too deeply".into());
            }
            self.skip_space();
            match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    let mut members = Vec::new();
                    self.skip_space();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(Value::Object(members));
                    }
                    loop {
                        self.skip_space();
                        let key = self.string()?;
                        self.expect(b':')?;
                        members.push((key, self.value(depth + 1)?));
                        self.skip_space();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                return Ok(Value::Object(members));
                            }
                            _ => return Err(format!("expected `,` or `}}` at {}", self.pos)),
                        }
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    let mut items = Vec::new();
                    self.skip_space();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        return Ok(Value::Array(items));
                    }
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.skip_space();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                return Ok(Value::Array(items));
                            }
                            _ => return Err(format!("expected `,` or `]` at {}", self.pos)),
                        }
                    }
                }
                Some(b'"') => self.string().map(Value::String),
                Some(b't') => self.word("true", Value::Bool(true)),
                Some(b'f') => self.word("false", Value::Bool(false)),
                Some(b'n') => self.word("null", Value::Null),
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.pos;
                    while self.peek().is_some_and(|b| {
                        matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    }) {
                        self.pos += 1;
                    }
                    let text = std::str::from_utf8(&self.bytes[start..self.pos])
                        .map_err(|e| e.to_string())?;
                    text.parse::<f64>()
                        .map(|_| Value::Number)
                        .map_err(|_| format!("bad number `{text}` at {start}"))
                }
                _ => Err(format!("unexpected input at {}", self.pos)),
            }
        }

        fn word(&mut self, word: &str, value: Value) -> Result<Value, String> {
            if self.bytes[self.pos..].starts_with(word.as_bytes()) {
                self.pos += word.len();
                Ok(value)
            } else {
                Err(format!("unexpected input at {}", self.pos))
            }
        }

        fn hex4(&mut self) -> Result<u32, String> {
            let digits = self
                .bytes
                .get(self.pos..self.pos + 4)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|d| u32::from_str_radix(d, 16).ok())
                .ok_or_else(|| format!("bad \\u escape at {}", self.pos))?;
            self.pos += 4;
            Ok(digits)
        }

        fn string(&mut self) -> Result<String, String> {
            if self.peek() != Some(b'"') {
                return Err(format!("expected a string at {}", self.pos));
            }
            self.pos += 1;
            let mut out = Vec::new();
            loop {
                let Some(byte) = self.peek() else {
                    return Err("unterminated string".into());
                };
                self.pos += 1;
                match byte {
                    b'"' => break,
                    b'\\' => {
                        let Some(escape) = self.peek() else {
                            return Err("unterminated escape".into());
                        };
                        self.pos += 1;
                        let c = match escape {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => {
                                let high = self.hex4()?;
                                let code = if (0xD800..0xDC00).contains(&high)
                                    && self.bytes[self.pos..].starts_with(b"\\u")
                                {
                                    self.pos += 2;
                                    let low = self.hex4()?;
                                    0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00))
                                } else {
                                    high
                                };
                                char::from_u32(code).unwrap_or('\u{fffd}')
                            }
                            other => {
                                return Err(format!("bad escape `\\{}`", other as char));
                            }
                        };
                        let mut buf = [0; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    other => out.push(other),
                }
            }
            String::from_utf8(out).map_err(|e| e.to_string())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_a_cargo_artifact_message() {
            let line = concat!(
                r#"{"reason":"compiler-artifact","target":{"kind":["test"],"#,
                r#""name":"safe_crypto"},"profile":{"test":true,"opt_level":"0"},"#,
                r#""filenames":["/t/a b\"c"],"executable":"/t/deps/safe_crypto-1\u00e9","#,
                r#""fresh":true,"n":-1.5e3,"x":null}"#
            );
            let value = parse(line).unwrap();
            assert_eq!(
                value.get("reason").and_then(Value::as_str),
                Some("compiler-artifact")
            );
            assert_eq!(
                value.get("executable").and_then(Value::as_str),
                Some("/t/deps/safe_crypto-1\u{e9}")
            );
            let target = value.get("target").unwrap();
            assert_eq!(
                target.get("name").and_then(Value::as_str),
                Some("safe_crypto")
            );
            assert_eq!(
                target
                    .get("kind")
                    .and_then(Value::as_array)
                    .map(<[Value]>::len),
                Some(1)
            );
            assert_eq!(
                value
                    .get("profile")
                    .and_then(|p| p.get("test"))
                    .and_then(Value::as_bool),
                Some(true)
            );
            assert_eq!(value.get("n"), Some(&Value::Number));
            assert_eq!(value.get("x"), Some(&Value::Null));
            assert!(parse("{\"a\":").is_err());
            assert!(parse("[1,2] x").is_err());
            assert_eq!(
                parse(r#""\ud83d\ude00""#).unwrap(),
                Value::String("😀".into())
            );
        }
    }
}
