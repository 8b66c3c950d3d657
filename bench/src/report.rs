//! The markdown report of one module's run: medians, the ratios safe/raw and
//! safe/cryptoki, and the targets.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::{Api, Op, Sharing, Target, POOL_THREADS};

/// The medians of one run, in nanoseconds per iteration.
#[derive(Debug, Default)]
pub struct Results {
    /// (operation key, API or sharing key) → median ns.
    pub medians: HashMap<(String, String), f64>,
    /// Operation key → why it was not measured on this module.
    pub skipped: HashMap<String, String>,
    /// Notes printed under the table.
    pub notes: Vec<String>,
}

impl Results {
    fn get(&self, group: &str, function: &str) -> Option<f64> {
        self.medians
            .get(&(group.to_owned(), function.to_owned()))
            .copied()
    }
}

/// The pool benchmark's criterion group for `threads` threads.
pub fn pool_group(threads: usize) -> String {
    format!("pool_sha256_{threads}_threads")
}

/// Nanoseconds as a short human string.
pub fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e4 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The safe/cryptoki target for `op`.
pub fn cryptoki_target(op: Op) -> f64 {
    match op {
        Op::Read3 | Op::ReadAll1k | Op::Find10k => 0.6,
        _ => 1.0,
    }
}

/// Whether the safe/raw target (≤ 1.05) applies on `target`.
pub fn raw_target_applies(target: Target) -> bool {
    matches!(target, Target::Kryoptic | Target::Noop)
}

fn ratio_cell(ratio: Option<f64>, limit: Option<f64>) -> String {
    match (ratio, limit) {
        (None, _) => "—".into(),
        (Some(r), None) => format!("{r:.2}"),
        (Some(r), Some(limit)) if r <= limit => format!("{r:.2} ✓"),
        (Some(r), Some(limit)) => format!("**{r:.2}** ✗ (≤ {limit})"),
    }
}

/// The markdown report of `target`'s run.
pub fn markdown(target: Target, heading: &str, results: &Results) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "### {heading}\n");
    let _ = writeln!(
        md,
        "| operation | safe | raw (C-style) | cryptoki | safe/raw | safe/cryptoki | safe, `Vec` form | safe `Vec`/cryptoki |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
    let raw_limit = raw_target_applies(target).then_some(1.05);
    for op in Op::ALL {
        if let Some(reason) = results.skipped.get(op.key()) {
            let _ = writeln!(md, "| {} | skipped: {reason} | | | | | | |", op.title());
            continue;
        }
        let safe = results.get(op.key(), Api::Safe.key());
        let vec = results.get(op.key(), Api::SafeVec.key());
        let raw = results.get(op.key(), Api::Raw.key());
        let ck = results.get(op.key(), Api::Cryptoki.key());
        let cell = |v: Option<f64>| v.map(time).unwrap_or_else(|| "—".into());
        let div = |a: Option<f64>, b: Option<f64>| Some(a? / b?);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            op.title(),
            cell(safe),
            cell(raw),
            cell(ck),
            ratio_cell(div(safe, raw), raw_limit),
            ratio_cell(div(safe, ck), Some(cryptoki_target(op))),
            if op.has_vec_variant() {
                cell(vec)
            } else {
                String::new()
            },
            if op.has_vec_variant() {
                ratio_cell(div(vec, ck), Some(1.0))
            } else {
                String::new()
            },
        );
    }
    let _ = writeln!(
        md,
        "\nSession sharing (safe crate, SHA-256 of 64 B per thread and iteration; time per \
         iteration = every thread did one digest; throughput in digests/s):\n"
    );
    let _ = writeln!(
        md,
        "| threads | pool | one shared session | per-thread sessions |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|");
    for threads in POOL_THREADS {
        let group = pool_group(threads);
        let cells: Vec<String> = Sharing::ALL
            .iter()
            .map(|s| match results.get(&group, s.key()) {
                Some(ns) => format!("{} ({:.0} k/s)", time(ns), threads as f64 / ns * 1e9 / 1e3),
                None => "—".into(),
            })
            .collect();
        let _ = writeln!(md, "| {threads} | {} |", cells.join(" | "));
    }
    if !results.notes.is_empty() {
        md.push('\n');
        for note in &results.notes {
            let _ = writeln!(md, "- {note}");
        }
    }
    md
}
