//! `cargo xtask bench` runs this once per module (`PKCS11_BENCH_MODULE`): every
//! operation with the safe crate, direct table calls and cryptoki side by side, then the
//! session-sharing benchmark, then the markdown table of medians into
//! `target/bench/<module>.md`.
//!
//! Environment: `PKCS11_BENCH_MODULE` (softhsm, kryoptic, noop), `PKCS11_BENCH_QUICK`
//! (a smoke run), `PKCS11_BENCH_OUT` (the output directory, default `target/bench`),
//! `PKCS11_BENCH_FAULT_MODULE` (a release build of the fault module), `KRYOPTIC_MODULE`.
//! Criterion's own arguments (a name filter) pass through `cargo bench -- <args>`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use pkcs11_bench::report::{self, Results};
use pkcs11_bench::{Api, Env, Op, Sharing, Target, POOL_THREADS};

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Benchmarks one (operation, API) cell: `$method` of [`Env`] per iteration.
macro_rules! cell {
    ($group:expr, $env:expr, $api:expr, $method:ident) => {
        $group.bench_function($api.key(), |b| b.iter(|| $env.$method()))
    };
}

fn out_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PKCS11_BENCH_OUT") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("bench")
}

fn configure(quick: bool, dir: &Path) -> Criterion {
    let (warm_up, measure, samples) = if quick {
        (Duration::from_millis(100), Duration::from_millis(400), 10)
    } else {
        (Duration::from_millis(500), Duration::from_millis(1500), 30)
    };
    Criterion::default()
        .output_directory(dir)
        .warm_up_time(warm_up)
        .measurement_time(measure)
        .sample_size(samples)
        .nresamples(10_000)
        .configure_from_args()
}

fn single(group: &mut Group<'_>, env: &Env, op: Op) {
    match op {
        Op::Random32 => {
            cell!(group, env, Api::Safe, safe_random);
            cell!(group, env, Api::Raw, raw_random);
            cell!(group, env, Api::Cryptoki, ck_random);
        }
        Op::Sha256 => {
            cell!(group, env, Api::Safe, safe_digest);
            cell!(group, env, Api::SafeVec, safe_vec_digest);
            cell!(group, env, Api::Raw, raw_digest);
            cell!(group, env, Api::Cryptoki, ck_digest);
        }
        Op::AesGcm => {
            cell!(group, env, Api::Safe, safe_gcm);
            cell!(group, env, Api::SafeVec, safe_vec_gcm);
            cell!(group, env, Api::Raw, raw_gcm);
            cell!(group, env, Api::Cryptoki, ck_gcm);
        }
        Op::Ecdsa => {
            cell!(group, env, Api::Safe, safe_ecdsa);
            cell!(group, env, Api::SafeVec, safe_vec_ecdsa);
            cell!(group, env, Api::Raw, raw_ecdsa);
            cell!(group, env, Api::Cryptoki, ck_ecdsa);
        }
        Op::Hmac => {
            cell!(group, env, Api::Safe, safe_hmac);
            cell!(group, env, Api::SafeVec, safe_vec_hmac);
            cell!(group, env, Api::Raw, raw_hmac);
            cell!(group, env, Api::Cryptoki, ck_hmac);
        }
        Op::Find1k | Op::Find10k => {
            cell!(group, env, Api::Safe, safe_find);
            cell!(group, env, Api::Raw, raw_find);
            cell!(group, env, Api::Cryptoki, ck_find);
        }
        Op::Read3 => {
            cell!(group, env, Api::Safe, safe_read3);
            cell!(group, env, Api::SafeVec, safe_vec_read3);
            cell!(group, env, Api::Raw, raw_read3);
            cell!(group, env, Api::Cryptoki, ck_read3);
        }
        Op::ReadAll1k => {
            cell!(group, env, Api::Safe, safe_read_all);
            cell!(group, env, Api::SafeVec, safe_vec_read_all);
            cell!(group, env, Api::Raw, raw_read_all);
            cell!(group, env, Api::Cryptoki, ck_read_all);
        }
        Op::OpenClose => {
            cell!(group, env, Api::Safe, safe_open_close);
            cell!(group, env, Api::Raw, raw_open_close);
            cell!(group, env, Api::Cryptoki, ck_open_close);
        }
        Op::Threads2Own | Op::Threads2Shared => {
            let shared = op == Op::Threads2Shared;
            for api in [Api::Safe, Api::Raw, Api::Cryptoki] {
                group.bench_function(api.key(), |b| {
                    b.iter_custom(|iters| env.threads(api, shared, iters))
                });
            }
        }
    }
}

fn run_op(c: &mut Criterion, env: &Env, op: Op, results: &mut Results) {
    if let Some(reason) = env.skip(op) {
        eprintln!("SKIPPED on {}: {}: {reason}", env.target.name(), op.key());
        results.skipped.insert(op.key().to_owned(), reason);
        return;
    }
    let mut group = c.benchmark_group(op.key());
    if op.is_slow() {
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
    }
    single(&mut group, env, op);
    group.finish();
}

fn run_pool(c: &mut Criterion, env: &Env) {
    for threads in POOL_THREADS {
        let mut group = c.benchmark_group(report::pool_group(threads));
        for sharing in Sharing::ALL {
            let setup = env.pool_setup(sharing, threads);
            group.bench_function(sharing.key(), |b| {
                b.iter_custom(|iters| env.pool_run(&setup, threads, iters))
            });
        }
        group.finish();
    }
}

/// The median of one benchmark from criterion's `estimates.json`, in ns.
fn median(dir: &Path, group: &str, function: &str) -> Option<f64> {
    let file = dir.join(group).join(function).join("new/estimates.json");
    let text = std::fs::read_to_string(file).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn collect(dir: &Path, results: &mut Results) {
    let apis = [Api::Safe, Api::SafeVec, Api::Raw, Api::Cryptoki];
    for op in Op::ALL {
        for api in apis {
            if let Some(ns) = median(dir, op.key(), api.key()) {
                results
                    .medians
                    .insert((op.key().to_owned(), api.key().to_owned()), ns);
            }
        }
    }
    for threads in POOL_THREADS {
        let group = report::pool_group(threads);
        for sharing in Sharing::ALL {
            if let Some(ns) = median(dir, &group, sharing.key()) {
                results
                    .medians
                    .insert((group.clone(), sharing.key().to_owned()), ns);
            }
        }
    }
}

fn main() {
    let target = Target::from_env();
    let quick = std::env::var_os("PKCS11_BENCH_QUICK").is_some_and(|v| !v.is_empty());
    let out = out_dir();
    let dir = out.join(format!("criterion-{}", target.key()));
    // Earlier runs' estimates must not stand in for cells this run skips or filters out.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the criterion directory");
    let mut c = configure(quick, &dir);
    let mut results = Results::default();

    let mut env = Env::new(target);
    env.populate(1000);
    if env.uses_token_objects() {
        results.notes.push(
            "objects are token objects: this module's session objects are not visible \
             from the other bindings' sessions"
                .into(),
        );
    }
    for op in Op::ALL {
        if op == Op::Find10k {
            continue;
        }
        run_op(&mut c, &env, op, &mut results);
    }
    run_pool(&mut c, &env);
    env.populate(10_000);
    run_op(&mut c, &env, Op::Find10k, &mut results);

    collect(&dir, &mut results);
    if target == Target::Noop {
        results.notes.push(
            "noop: random, digest, encrypt and sign are answered without work (fixed \
             output, no session lookup); objects, attributes and sessions are the fault \
             module's real in-memory code"
                .into(),
        );
    }
    let heading = format!(
        "{}{}",
        target.name(),
        if quick { " (quick run)" } else { "" }
    );
    let md = report::markdown(target, &heading, &results);
    let file = out.join(format!("{}.md", target.key()));
    std::fs::write(&file, &md).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    println!("\n{md}");
    eprintln!("bench: wrote {}", file.display());
}
