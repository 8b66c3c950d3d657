//! `cargo xtask bench --instructions` runs this under valgrind's callgrind with
//! `--toggle-collect=bench_measured`: `pkcs11-bench-instructions <op> <api> <iterations>`
//! sets up the no-op fault module (`PKCS11_BENCH_FAULT_MODULE`) through the three
//! bindings, then runs the operation `<iterations>` times inside `bench_measured`, so
//! that only those calls are counted.

use pkcs11_bench::{Api, Env, Op, Target};

/// The measured region: callgrind counts instructions only inside this function.
#[no_mangle]
#[inline(never)]
fn bench_measured(env: &Env, op: Op, api: Api, iterations: u64) {
    for _ in 0..iterations {
        env.run(op, api);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [op, api, iterations] = args.as_slice() else {
        eprintln!("usage: pkcs11-bench-instructions <op> <safe|raw|cryptoki> <iterations>");
        std::process::exit(2);
    };
    let op = Op::ALL
        .into_iter()
        .find(|o| o.key() == op)
        .unwrap_or_else(|| panic!("unknown operation {op}"));
    let api = [Api::Safe, Api::SafeVec, Api::Raw, Api::Cryptoki]
        .into_iter()
        .find(|a| a.key() == api)
        .unwrap_or_else(|| panic!("unknown binding {api}"));
    let iterations: u64 = iterations.parse().expect("an iteration count");
    let env = Env::new(Target::Noop);
    // Warm up: first-call costs (thread-local set-up, lazily grown buffers) are not
    // per-call costs.
    bench_measured_warm_up(&env, op, api);
    bench_measured(&env, op, api, iterations);
}

#[inline(never)]
fn bench_measured_warm_up(env: &Env, op: Op, api: Api) {
    for _ in 0..10 {
        env.run(op, api);
    }
}
