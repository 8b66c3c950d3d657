//! Property tests of the variable-length output helper (issue 5, item 8; RELIABILITY rules
//! 15–18 and 34) against generated module answers.
//!
//! A scripted module ([`Script`], shared with the unit tests) answers the length query and
//! every later call with a return value (`CKR_OK`, `CKR_BUFFER_TOO_SMALL`, a few errors, or
//! any value at all), a length (exact, smaller, larger, the buffer's size, more than the
//! buffer, 0, `CK_UNAVAILABLE_INFORMATION`, 2^40, the cap, one past it, or any value at
//! all) and whether it wrote its value; sequences range from modules that keep to the
//! two-call idiom to ones that answer anything at all. [`fetch`] (into a `Vec<u8>` and a
//! `SecretBytes`) and [`into_slice`] (with any caller buffer size) are run on it inside
//! `catch_unwind`, and what they return is compared with a model of the specification
//! written here, independently of the helper:
//!
//! - a module that answered by the rules gives exactly the first `len` bytes of the final
//!   buffer, `len` being the final call's length, never more than the buffer;
//! - a module that lied about a length gives [`Error::ModuleContract`], one that returned
//!   an error gives [`Error::Module`] with that value: never a panic, never a value longer
//!   than the buffer, padded or cut;
//! - no buffer larger than [`MAX_OUTPUT`] is ever asked for (the script records the size
//!   of every buffer it is handed), and the calls are the model's calls, no more;
//! - a secret output left in the caller's buffer is wiped on every outcome but success.
//!
//! A module that follows the specification (its value may grow between calls) always
//! gives its exact value: the model is not allowed to be satisfied by errors alone.
//!
//! Reproducibility: see [`config`].

use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use super::tests::Script;
use super::*;

/// The seed of every property test of the crate unless `PROPTEST_RNG_SEED` says otherwise.
const SEED: u64 = 0x504b_4353_3131; // "PKCS11"

/// The configuration of every property test of the crate.
///
/// 256 cases (`PROPTEST_CASES` overrides). The seed is fixed, so every run replays the
/// same cases and a failure in CI reproduces exactly with `cargo test -p pkcs11`; other
/// cases are explored with `PROPTEST_RNG_SEED=<n>` (the same `n` replays them).
/// Failure persistence is off: proptest would write regression files into the source
/// tree at test time (lost anyway in CI's fresh clone); a failing case found this way
/// becomes a named unit test instead, which also documents it.
// `Config` has private fields: no `Config { .., ..Config::default() }`.
#[allow(clippy::field_reassign_with_default)]
pub(crate) fn config() -> Config {
    let mut config = Config::default();
    config.failure_persistence = None;
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(SEED);
    }
    config
}

/// Runs `f`, turning a panic into a test failure that says where it came from.
pub(crate) fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            panic!("{what} panicked: {message}")
        }
    }
}

/// 2^40 as a `CK_ULONG` (the largest value short of it where `CK_ULONG` is 32 bits).
#[allow(clippy::useless_conversion)]
fn two_to_the_40() -> ffi::CK_ULONG {
    ffi::CK_ULONG::try_from(1u64 << 40).unwrap_or(ffi::CK_ULONG::MAX - 1)
}

/// A length the scripted module reports.
#[derive(Clone, Copy, Debug)]
enum Reported {
    /// The length of its value.
    Exact,
    /// That, less this (not below 0).
    Smaller(usize),
    /// That, plus this.
    Larger(usize),
    /// The size of the buffer it was handed (0 for the length query).
    Buffer,
    /// That, plus this: more than it was given.
    PastBuffer(usize),
    Zero,
    Unavailable,
    TwoTo40,
    /// [`MAX_OUTPUT`], the largest length the helper accepts.
    AtCap,
    /// One past it.
    OverCap,
    Any(ffi::CK_ULONG),
}

impl Reported {
    fn resolve(self, value: usize, buffer: usize) -> ffi::CK_ULONG {
        match self {
            Reported::Exact => value as ffi::CK_ULONG,
            Reported::Smaller(d) => value.saturating_sub(d) as ffi::CK_ULONG,
            Reported::Larger(d) => (value + d) as ffi::CK_ULONG,
            Reported::Buffer => buffer as ffi::CK_ULONG,
            Reported::PastBuffer(d) => buffer.saturating_add(d) as ffi::CK_ULONG,
            Reported::Zero => 0,
            Reported::Unavailable => ffi::CK_UNAVAILABLE_INFORMATION,
            Reported::TwoTo40 => two_to_the_40(),
            Reported::AtCap => MAX_OUTPUT as ffi::CK_ULONG,
            Reported::OverCap => MAX_OUTPUT as ffi::CK_ULONG + 1,
            Reported::Any(len) => len,
        }
    }
}

/// One answer of the scripted module.
#[derive(Clone, Copy, Debug)]
struct Step {
    rv: ffi::CK_RV,
    reported: Reported,
    /// Whether it wrote its value (as much as the buffer holds).
    writes: bool,
}

fn rv() -> impl Strategy<Value = ffi::CK_RV> {
    prop_oneof![
        6 => Just(ffi::CKR_OK),
        6 => Just(ffi::CKR_BUFFER_TOO_SMALL),
        2 => prop::sample::select(vec![
            ffi::CKR_DATA_LEN_RANGE,
            ffi::CKR_DEVICE_ERROR,
            ffi::CKR_OPERATION_NOT_INITIALIZED,
            ffi::CKR_GENERAL_ERROR,
            ffi::CKR_ARGUMENTS_BAD,
            ffi::CKR_VENDOR_DEFINED | 7,
        ]),
        1 => any::<ffi::CK_ULONG>(),
    ]
}

fn reported() -> impl Strategy<Value = Reported> {
    prop_oneof![
        6 => Just(Reported::Exact),
        2 => (1..=16usize).prop_map(Reported::Smaller),
        2 => (1..=16usize).prop_map(Reported::Larger),
        2 => Just(Reported::Buffer),
        3 => (1..=16usize).prop_map(Reported::PastBuffer),
        1 => Just(Reported::Zero),
        1 => Just(Reported::Unavailable),
        1 => Just(Reported::TwoTo40),
        1 => Just(Reported::AtCap),
        1 => Just(Reported::OverCap),
        1 => any::<ffi::CK_ULONG>().prop_map(Reported::Any),
    ]
}

/// A return value and length a module that keeps to the two-call idiom could give
/// (`CKR_OK` and `CKR_BUFFER_TOO_SMALL`, plausible lengths): sequences of these reach the
/// later attempts and the convergence limit.
fn tame_step() -> impl Strategy<Value = (ffi::CK_RV, Reported)> {
    prop_oneof![
        1 => (
            Just(ffi::CKR_OK),
            prop_oneof![
                3 => Just(Reported::Exact),
                1 => (1..=16usize).prop_map(Reported::Smaller),
                1 => Just(Reported::Buffer),
                1 => Just(Reported::Zero),
            ],
        ),
        2 => (
            Just(ffi::CKR_BUFFER_TOO_SMALL),
            prop_oneof![
                1 => Just(Reported::Exact),
                1 => (1..=16usize).prop_map(Reported::Larger),
                3 => (1..=16usize).prop_map(Reported::PastBuffer),
            ],
        ),
    ]
}

/// One answer: tame (see [`tame_step`]) or anything at all, `wild` of the time.
fn step(wild: f64) -> impl Strategy<Value = Step> {
    let answer = prop::bool::weighted(wild).prop_flat_map(|wild| {
        if wild {
            (rv(), reported()).boxed()
        } else {
            tame_step().boxed()
        }
    });
    (answer, prop::bool::weighted(0.8)).prop_map(|((rv, reported), writes)| Step {
        rv,
        reported,
        writes,
    })
}

/// The answers to the query and to every later call: from a module that never strays
/// from the idiom to one that answers anything at all.
fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::sample::select(vec![0.0, 0.1, 0.3, 1.0])
        .prop_flat_map(|wild| vec(step(wild), 2 + ATTEMPTS))
}

/// What the helper must give.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    /// These bytes: `(value written, zero bytes after it)`, compared without building
    /// a buffer of up to [`MAX_OUTPUT`] bytes.
    Value(Vec<u8>, usize),
    /// [`Error::ModuleContract`].
    Contract,
    /// [`Error::Module`] with this value.
    Module(ffi::CK_RV),
    /// Any other error: never right.
    Other(String),
}

/// Whether the module may report `len` as a size to allocate (rules 18 and 20).
fn plausible(len: ffi::CK_ULONG) -> Option<usize> {
    if len == ffi::CK_UNAVAILABLE_INFORMATION {
        return None;
    }
    usize::try_from(len).ok().filter(|&n| n <= MAX_OUTPUT)
}

/// The bytes a zeroed buffer of `buffer` bytes holds after the module's call, cut to
/// `len`: what it wrote of `value`, then zeros.
fn left(value: &[u8], writes: bool, buffer: usize, len: usize) -> Expected {
    let written = if writes { value.len().min(buffer) } else { 0 };
    let kept = written.min(len);
    Expected::Value(value[..kept].to_vec(), len - kept)
}

/// The specification of the two-call idiom, as a model: the answers (with lengths
/// resolved) and the buffer sizes handed to the module, in order.
fn model_fetch(value: &[u8], steps: &[(Step, ffi::CK_ULONG)]) -> (Expected, Vec<Option<usize>>) {
    let mut calls = vec![None];
    let (query, len) = steps[0];
    if query.rv != ffi::CKR_OK && query.rv != ffi::CKR_BUFFER_TOO_SMALL {
        return (Expected::Module(query.rv), calls);
    }
    let Some(mut need) = plausible(len) else {
        return (Expected::Contract, calls);
    };
    for &(step, len) in &steps[1..=ATTEMPTS] {
        calls.push(Some(need));
        match step.rv {
            ffi::CKR_OK => {
                // Never more than the buffer; otherwise exactly the final length.
                return match usize::try_from(len) {
                    Ok(len) if len <= need => (left(value, step.writes, need, len), calls),
                    _ => (Expected::Contract, calls),
                };
            }
            ffi::CKR_BUFFER_TOO_SMALL => match plausible(len) {
                // It must ask for more than it was given, and a size we allocate.
                Some(asked) if asked > need => need = asked,
                _ => return (Expected::Contract, calls),
            },
            rv => return (Expected::Module(rv), calls),
        }
    }
    // The length never converged.
    (Expected::Contract, calls)
}

/// What the helper gave, in the model's terms.
fn observed(result: std::result::Result<&[u8], &Error>) -> Expected {
    match result {
        Ok(bytes) => {
            let zeros = bytes.iter().rev().take_while(|&&b| b == 0).count();
            Expected::Value(bytes[..bytes.len() - zeros].to_vec(), zeros)
        }
        Err(Error::ModuleContract {
            function: "C_Test", ..
        }) => Expected::Contract,
        Err(Error::Module {
            function: "C_Test",
            rv,
        }) => Expected::Module(rv.raw()),
        Err(other) => Expected::Other(format!("{other:?}")),
    }
}

/// The same, with the value's trailing zeros counted the way [`observed`] does.
fn normalized(expected: Expected) -> Expected {
    match expected {
        Expected::Value(mut bytes, zeros) => {
            let trailing = bytes.iter().rev().take_while(|&&b| b == 0).count();
            bytes.truncate(bytes.len() - trailing);
            Expected::Value(bytes, zeros + trailing)
        }
        other => other,
    }
}

proptest! {
    #![proptest_config(config())]

    /// [`fetch`] against any answers: exactly the model's value or error, never more
    /// than the buffer, never an allocation past the cap, never a call the model does
    /// not make, never a panic.
    #[test]
    fn fetch_gives_the_exact_value_or_an_error_for_any_answers(
        value in vec(any::<u8>(), 0..=64),
        steps in steps(),
        secret in any::<bool>(),
    ) {
        // The buffer of call `i` is the length call `i - 1` reported (a call is only
        // made when that length was accepted), so lengths relative to it resolve now.
        let mut buffer = 0;
        let steps: Vec<(Step, ffi::CK_ULONG)> = steps
            .into_iter()
            .map(|step| {
                let len = step.reported.resolve(value.len(), buffer);
                buffer = usize::try_from(len).unwrap_or(0);
                (step, len)
            })
            .collect();
        let script = Script::new(
            steps
                .iter()
                .map(|&(step, len)| {
                    let bytes = if step.writes { value.clone() } else { Vec::new() };
                    (step.rv, len, bytes)
                })
                .collect(),
        );
        let got = no_panic("fetch", || {
            if secret {
                let result = fetch::<SecretBytes>(|o, l| script.call(o, l));
                observed(result.as_deref())
            } else {
                let result = fetch::<Vec<u8>>(|o, l| script.call(o, l));
                observed(result.as_deref())
            }
        });
        let (expected, calls) = model_fetch(&value, &steps);
        let seen = script.seen.borrow();
        prop_assert!(
            seen.iter().flatten().all(|&size| size <= MAX_OUTPUT),
            "a buffer past the cap was asked for: {seen:?}"
        );
        prop_assert_eq!(&*seen, &calls, "the calls made");
        if let Expected::Value(bytes, zeros) = &got {
            let last = seen.last().copied().flatten().unwrap_or(0);
            prop_assert!(bytes.len() + zeros <= last, "a value longer than its buffer");
        }
        prop_assert_eq!(got, normalized(expected));
    }

    /// [`into_slice`] against any answer and any caller buffer: exactly the model's
    /// outcome, the caller's buffer as the module left it, or wiped when the output is
    /// secret and the call did not succeed.
    #[test]
    fn into_slice_gives_the_exact_outcome_for_any_answer_and_buffer(
        value in vec(1..=u8::MAX, 0..=64),
        capacity in 0..=96usize,
        step in step(1.0),
        secret in any::<bool>(),
    ) {
        const SENTINEL: u8 = 0xA5;
        let len = step.reported.resolve(value.len(), capacity);
        let bytes = if step.writes { value.clone() } else { Vec::new() };
        let script = Script::new(vec![(step.rv, len, bytes)]);
        let mut out = vec![SENTINEL; capacity];
        let result = no_panic("into_slice", || {
            into_slice(&mut out, secret, |o, l| script.call(o, l))
        });
        prop_assert_eq!(&*script.seen.borrow(), &[Some(capacity)]);

        // The model: the answer's outcome, and the buffer as the module left it.
        let mut module_left = vec![SENTINEL; capacity];
        if step.writes {
            let n = value.len().min(capacity);
            module_left[..n].copy_from_slice(&value[..n]);
        }
        let expected: std::result::Result<Written, Expected> = match step.rv {
            ffi::CKR_OK => match usize::try_from(len) {
                Ok(len) if len <= capacity => Ok(Written::Done(len)),
                _ => Err(Expected::Contract),
            },
            ffi::CKR_BUFFER_TOO_SMALL => match plausible(len) {
                Some(needed) if needed > capacity => Ok(Written::TooSmall {
                    function: "C_Test",
                    needed,
                }),
                _ => Err(Expected::Contract),
            },
            rv => Err(Expected::Module(rv)),
        };
        let succeeded = matches!(expected, Ok(Written::Done(_)));
        match result {
            Ok(written) => prop_assert_eq!(Ok(written), expected),
            Err(error) => prop_assert_eq!(Err(observed(Err(&error))), expected),
        }
        if secret && !succeeded {
            prop_assert!(out.iter().all(|&b| b == 0), "secret output left behind: {out:?}");
        } else {
            prop_assert_eq!(out, module_left);
        }
    }

    /// A module that follows the specification gives its exact value through [`fetch`],
    /// whether its query answer is exact or an upper bound, answered `CKR_OK` or
    /// `CKR_BUFFER_TOO_SMALL`, and whether the value grows between calls (up to
    /// `ATTEMPTS - 1` times, each growth costing one `CKR_BUFFER_TOO_SMALL`).
    #[test]
    fn a_module_that_follows_the_rules_always_gives_its_exact_value(
        value in vec(any::<u8>(), 0..=64),
        cuts in vec(0..=64usize, 1..=ATTEMPTS),
        slack in 0..=8usize,
        query_too_small in any::<bool>(),
        secret in any::<bool>(),
    ) {
        // The value the module holds at each call: growing prefixes of `value`.
        let mut lengths: Vec<usize> = cuts.iter().map(|&c| c.min(value.len())).collect();
        lengths.sort_unstable();
        let final_len = *lengths.last().unwrap_or(&0);
        let value = &value[..final_len];
        let mut call = 0;
        let mut module = |out: Option<&mut [u8]>, len: &mut ffi::CK_ULONG| -> Result<Returned> {
            let now = lengths[call.min(lengths.len() - 1)];
            call += 1;
            let rv = match out {
                None => {
                    *len = (now + slack) as ffi::CK_ULONG;
                    if query_too_small { ffi::CKR_BUFFER_TOO_SMALL } else { ffi::CKR_OK }
                }
                Some(out) if out.len() < now => {
                    *len = now as ffi::CK_ULONG;
                    ffi::CKR_BUFFER_TOO_SMALL
                }
                Some(out) => {
                    out[..now].copy_from_slice(&value[..now]);
                    *len = now as ffi::CK_ULONG;
                    ffi::CKR_OK
                }
            };
            Ok(Returned { function: "C_Test", rv })
        };
        let got: Vec<u8> = no_panic("fetch", || {
            if secret {
                fetch::<SecretBytes>(&mut module).map(|bytes| bytes.to_vec())
            } else {
                fetch::<Vec<u8>>(&mut module)
            }
        })
        .map_err(|error| TestCaseError::fail(format!("a conformant module failed: {error}")))?;
        // The value at the call that succeeded: call `i` (the query is call 0) sees the
        // `i`-th length, the last one from then on.
        prop_assert!(value.starts_with(&got));
        prop_assert!(lengths.contains(&got.len()), "{} not among {lengths:?}", got.len());
    }
}
