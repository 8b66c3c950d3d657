//! `cargo xtask bench [--quick] [--instructions] [--module NAME]...`: the criterion
//! benchmarks of `bench/` (the safe crate, direct function-table calls and the cryptoki
//! crate side by side), one process per module, and the combined markdown report; or,
//! with `--instructions`, instruction counts per call under valgrind's callgrind on the
//! fault module's no-op plan.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, deps, describe, kryoptic, run_cmd, workspace_root, Args, Result};

/// The modules, in report order (the names `PKCS11_BENCH_MODULE` takes).
const MODULES: [&str; 3] = ["softhsm", "kryoptic", "noop"];

/// The operations and bindings counted with `--instructions` (names the
/// `pkcs11-bench-instructions` binary takes).
const COUNTED_OPS: [(&str, &str); 6] = [
    ("random_32", "C_GenerateRandom, 32 bytes"),
    ("sha256_64", "C_DigestInit + C_Digest, SHA-256 of 64 bytes"),
    (
        "hmac_sha256_64",
        "C_SignInit + C_Sign, HMAC-SHA-256 of 64 bytes",
    ),
    (
        "aes256_gcm_encrypt_1k",
        "C_EncryptInit + C_Encrypt, AES-GCM of 1 KiB",
    ),
    (
        "read_class_label_id",
        "C_GetAttributeValue, CLASS + LABEL + ID",
    ),
    ("open_close_session", "C_OpenSession + C_CloseSession"),
];
const COUNTED_APIS: [&str; 3] = ["safe", "raw", "cryptoki"];
/// Iterations per counted run: the per-call figure is the region's total divided by it.
const COUNTED_ITERATIONS: u64 = 20_000;
/// The target: a safe call within this many instructions of the raw call.
const INSTRUCTION_TARGET: f64 = 100.0;

/// The target directory (`$CARGO_TARGET_DIR`, else the workspace's `target`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

pub(crate) fn run(args: &[String]) -> Result {
    let mut args = Args::new(args);
    let (mut quick, mut instructions) = (false, false);
    let mut modules: Vec<String> = Vec::new();
    let mut features: Vec<String> = Vec::new();
    while let Some(flag) = args.next_flag() {
        match flag {
            "--quick" => quick = true,
            "--instructions" => instructions = true,
            // E.g. `--features pkcs11/tracing`: what the binding costs with a feature on.
            "--features" => features.push(args.value(flag)?.to_owned()),
            "--module" => {
                let name = args.value(flag)?;
                if !MODULES.contains(&name) {
                    return Err(format!(
                        "unknown module `{name}` (expected one of {})",
                        MODULES.join(", ")
                    ));
                }
                modules.push(name.to_owned());
            }
            other => return Err(format!("bench: unknown option `{other}`")),
        }
    }
    deps::ensure(deps::Purpose::Demo)?;
    let fault = build_fault_module()?;
    if instructions {
        return count_instructions(&fault, &features);
    }
    if modules.is_empty() {
        modules = MODULES.iter().map(|m| (*m).to_owned()).collect();
    }
    let kryoptic = if modules.iter().any(|m| m == "kryoptic") {
        Some(kryoptic::ensure(false)?)
    } else {
        None
    };
    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("create {}: {e}", out.display()))?;
    for module in &modules {
        let mut cmd = cargo();
        cmd.args(["bench", "--package", "pkcs11-bench", "--bench", "ops"])
            .args(features.iter().flat_map(|f| ["--features", f.as_str()]))
            .env("PKCS11_BENCH_MODULE", module)
            .env("PKCS11_BENCH_FAULT_MODULE", &fault)
            .env("PKCS11_BENCH_OUT", &out);
        if let Some(kryoptic) = &kryoptic {
            cmd.env("KRYOPTIC_MODULE", kryoptic);
        }
        if let Some(softhsm) = crate::softhsm::module_path() {
            cmd.env("SOFTHSM2_MODULE", softhsm);
        }
        if quick {
            cmd.env("PKCS11_BENCH_QUICK", "1");
        }
        run_cmd(&mut cmd)?;
    }
    let mut combined = String::from("## Medians (safe crate, direct table calls, cryptoki)\n\n");
    for module in &modules {
        let file = out.join(format!("{module}.md"));
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("read {}: {e}", file.display()))?;
        combined.push_str(&text);
        combined.push('\n');
    }
    let file = out.join("all.md");
    std::fs::write(&file, &combined).map_err(|e| format!("write {}: {e}", file.display()))?;
    println!("{combined}");
    eprintln!("xtask bench: wrote {}", file.display());
    Ok(())
}

/// Builds the fault module in release mode and returns its path.
fn build_fault_module() -> Result<PathBuf> {
    run_cmd(cargo().args(["build", "--release", "--package", "pkcs11-fault-module"]))?;
    let file = format!(
        "{}pkcs11_fault_module{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let path = target_dir().join("release").join(file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("the fault module build left no {}", path.display()))
    }
}

/// `--instructions`: callgrind's instruction count per call of the measured region,
/// for each counted operation and binding, on the no-op fault module.
fn count_instructions(fault: &Path, features: &[String]) -> Result {
    if Command::new("valgrind").arg("--version").output().is_err() {
        return Err("valgrind is not installed: run `apt-get install valgrind`".into());
    }
    run_cmd(
        cargo()
            .args([
                "build",
                "--profile",
                "bench",
                "--package",
                "pkcs11-bench",
                "--bin",
                "pkcs11-bench-instructions",
            ])
            .args(features.iter().flat_map(|f| ["--features", f.as_str()])),
    )?;
    let binary = target_dir().join("release/pkcs11-bench-instructions");
    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("create {}: {e}", out.display()))?;
    let mut md = String::from(
        "## Instructions per call (callgrind, fault module plan noop)\n\n\
         | operation | safe | raw (C-style) | cryptoki | safe − raw | target |\n\
         |---|---:|---:|---:|---:|---|\n",
    );
    for (op, title) in COUNTED_OPS {
        let mut counts = Vec::new();
        for api in COUNTED_APIS {
            counts.push(callgrind(&binary, fault, &out, op, api)?);
        }
        let diff = counts[0] - counts[1];
        let verdict = if diff <= INSTRUCTION_TARGET {
            format!("≤ {INSTRUCTION_TARGET} ✓")
        } else {
            format!("**✗** (≤ {INSTRUCTION_TARGET})")
        };
        md.push_str(&format!(
            "| {title} | {:.0} | {:.0} | {:.0} | {diff:+.0} | {verdict} |\n",
            counts[0], counts[1], counts[2]
        ));
    }
    let file = out.join("instructions.md");
    std::fs::write(&file, &md).map_err(|e| format!("write {}: {e}", file.display()))?;
    println!("{md}");
    eprintln!("xtask bench: wrote {}", file.display());
    Ok(())
}

/// One callgrind run: instructions per iteration of `op` with `api`, counting only
/// inside the binary's `bench_measured` function.
fn callgrind(binary: &Path, fault: &Path, out: &Path, op: &str, api: &str) -> Result<f64> {
    let data = out.join(format!("callgrind.{op}.{api}.out"));
    let mut cmd = Command::new("valgrind");
    cmd.args(["--tool=callgrind", "--toggle-collect=bench_measured"])
        .arg(format!("--callgrind-out-file={}", data.display()))
        .arg(binary)
        .args([op, api, &COUNTED_ITERATIONS.to_string()])
        .env("PKCS11_BENCH_FAULT_MODULE", fault)
        .current_dir(workspace_root());
    eprintln!("$ {}", describe(&cmd));
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{}` failed ({}):\n{}",
            describe(&cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text =
        std::fs::read_to_string(&data).map_err(|e| format!("read {}: {e}", data.display()))?;
    let total = text
        .lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or_else(|| line.strip_prefix("totals:"))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| format!("no instruction total in {}", data.display()))?;
    Ok(total / COUNTED_ITERATIONS as f64)
}
