//! Property tests of the attribute engine (issue 5, item 8; RELIABILITY rules 18–24)
//! against generated module answers.
//!
//! Templates of 1–8 attributes of every shape (`CK_BBOOL`, `CK_ULONG`, `CK_DATE`,
//! `CK_VERSION`, bytes and text, `CK_ULONG` arrays, both short or around the room the
//! first call offers them, nested templates; the layouts come from the safe crate's own
//! table) are read from the simulated module of the unit tests
//! ([`SimModule`]), whose object holds, per attribute, a value of the right size or of any
//! size, a sensitive value, nothing (invalid), a nested template or a garbage
//! `CK_ATTRIBUTE` array. Each attribute may carry a [`Lie`], told in one, two or all of
//! its answers: skipped; unavailable without a reason; `CKR_BUFFER_TOO_SMALL` with
//! `CK_UNAVAILABLE_INFORMATION`, an absurd length or one past the buffer; a false length
//! for the query (unavailable, absurd, larger, smaller); a length past the buffer after
//! `CKR_OK`; the length left as given; another attribute's answer under its type; the
//! value pointed at the module's own memory; and for nested templates, values pointed at
//! the module's memory, the first entry filled with the second, lengths left as given, or
//! one byte too many for fixed-size and array entries. The module may stop at the first
//! error, return values consistent with the answers or not (a fixed per-attribute code,
//! `CKR_OK` hiding errors, a general error on the n-th call, any value at all), and grow a
//! value between calls.
//!
//! Properties, checked inside `catch_unwind`:
//!
//! - never a panic; every attribute's result is the exact value the module holds (any of
//!   its versions when it grows), of a size its shape allows, or `Sensitive`, `Invalid` or
//!   `Unavailable` when the module left that attribute `CK_UNAVAILABLE_INFORMATION` with
//!   that return value (`CKR_ATTRIBUTE_SENSITIVE`, `CKR_ATTRIBUTE_TYPE_INVALID`,
//!   `CKR_OK`) in some call; or the whole read is an [`Error::ModuleContract`] or an
//!   [`Error::Module`] (with a value the module returned for the call as a whole) naming
//!   `C_GetAttributeValue`. Never a wrong value, nor one read from memory the module
//!   pointed at (it holds a sentinel that would show);
//! - the number of calls stays within the engine's bounds;
//! - a module that follows the specification (stopping at the first error or not, values
//!   growing between calls or not) always gives every attribute's exact result.
//!
//! Three generators: whole templates with lies of every density (interactions: a lie next
//! to a stop at the first error or a false return value); every lie about one attribute
//! next to an honest one (each lie and shape reached in every run, not once in a while);
//! and modules that follow the specification.
//!
//! Lies that no reader can tell from the truth are not generated: `CKR_OK` with a
//! plausible length for bytes that were not written; fewer bytes reported than written
//! (the value may have shrunk); more than written but less than the buffer (it may have
//! grown); a length of 0 for a value held; `CKR_BUFFER_TOO_SMALL` with a length that fits
//! the buffer (the return value may be about another attribute).
//!
//! Reproducibility: see [`crate::output::proptests::config`].

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;

use super::tests::{read, Fetched, Len, Lie, Outcome, RvPolicy, Sim, SimModule};
use super::*;
use crate::attribute::shape_of;
use crate::output::proptests::{config, no_panic};

const VENDOR: CK_ATTRIBUTE_TYPE = ffi::CKA_VENDOR_DEFINED | 0x1234;

/// The attributes of the generated templates: every shape.
const TYPES: &[CK_ATTRIBUTE_TYPE] = &[
    ffi::CKA_TOKEN,
    ffi::CKA_SENSITIVE,
    ffi::CKA_CLASS,
    ffi::CKA_VALUE_LEN,
    ffi::CKA_START_DATE,
    ffi::CKA_END_DATE,
    ffi::CKA_VALIDATION_VERSION,
    ffi::CKA_LABEL,
    ffi::CKA_ID,
    ffi::CKA_VALUE,
    VENDOR,
    ffi::CKA_ALLOWED_MECHANISMS,
    ffi::CKA_HSS_LMS_TYPES,
    ffi::CKA_WRAP_TEMPLATE,
    ffi::CKA_UNWRAP_TEMPLATE,
    ffi::CKA_DERIVE_TEMPLATE,
];

/// The attributes a nested template may hold: every shape but a template.
fn plain_types() -> Vec<CK_ATTRIBUTE_TYPE> {
    TYPES
        .iter()
        .copied()
        .filter(|&ty| shape_of(ty) != Shape::Template)
        .collect()
}

/// The per-attribute return values.
const PER_ATTRIBUTE: [CK_RV; 4] = [
    ffi::CKR_OK,
    ffi::CKR_ATTRIBUTE_SENSITIVE,
    ffi::CKR_ATTRIBUTE_TYPE_INVALID,
    ffi::CKR_BUFFER_TOO_SMALL,
];

/// 2^40 as a `CK_ULONG` (the largest value short of it where `CK_ULONG` is 32 bits).
#[allow(clippy::useless_conversion)]
fn two_to_the_40() -> CK_ULONG {
    CK_ULONG::try_from(1u64 << 40).unwrap_or(CK_ULONG::MAX - 1)
}

/// A value of a size `shape` allows.
fn right_value(shape: Shape) -> BoxedStrategy<Vec<u8>> {
    match shape {
        Shape::Fixed { size, empty_ok } => {
            let full = vec(any::<u8>(), size);
            if empty_ok {
                prop_oneof![3 => full, 1 => Just(Vec::new())].boxed()
            } else {
                full.boxed()
            }
        }
        // Mostly short; sometimes around the first call's room (shorter, as long,
        // longer), which takes a length query and a fetch.
        Shape::Ulongs => {
            let room = GUESS_ROOM / ULONG_SIZE;
            prop_oneof![4 => 0..=5usize, 1 => (room - 1)..=(room + 2)]
                .prop_flat_map(|n| vec(any::<u8>(), n * ULONG_SIZE))
                .boxed()
        }
        Shape::Bytes => prop_oneof![
            4 => vec(any::<u8>(), 0..=40),
            1 => vec(any::<u8>(), (GUESS_ROOM - 2)..=(GUESS_ROOM + 40)),
        ]
        .boxed(),
        Shape::Template => vec(any::<u8>(), 0..=40).boxed(),
    }
}

/// A value of the right size, or of any size `wild` of the time.
fn any_value(shape: Shape, wild: f64) -> BoxedStrategy<Vec<u8>> {
    prop::bool::weighted(wild)
        .prop_flat_map(move |wild| {
            if wild {
                vec(any::<u8>(), 0..=24).boxed()
            } else {
                right_value(shape)
            }
        })
        .boxed()
}

/// The entries of a nested template: distinct plain types with their values.
fn nested(wild: f64) -> impl Strategy<Value = Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>> {
    prop::sample::subsequence(plain_types(), 0..=4).prop_flat_map(move |types| {
        types
            .into_iter()
            .map(|ty| (Just(ty), any_value(shape_of(ty), wild)))
            .collect::<Vec<_>>()
    })
}

/// The bytes of a `CK_ATTRIBUTE` array with these fields, as a module may copy them
/// where a nested template belongs: pointers anywhere, lengths of any size.
fn garbage_array() -> impl Strategy<Value = Vec<u8>> {
    let ty = prop_oneof![prop::sample::select(TYPES), any::<CK_ULONG>()];
    let pointer = prop_oneof![Just(0usize), any::<usize>()];
    let len = prop_oneof![0..=32 as CK_ULONG, any::<CK_ULONG>()];
    vec((ty, pointer, len), 0..=3).prop_map(|entries| {
        // The fields in order: the layout of `CK_ATTRIBUTE` on the usual targets (where
        // it has padding, the bytes are garbage all the same).
        let mut bytes = Vec::new();
        for (ty, pointer, len) in entries {
            bytes.extend_from_slice(&ty.to_ne_bytes());
            bytes.extend_from_slice(&pointer.to_ne_bytes());
            bytes.extend_from_slice(&len.to_ne_bytes());
        }
        bytes
    })
}

/// What the object holds for `ty`: `None` for nothing (`CKR_ATTRIBUTE_TYPE_INVALID`).
/// Values have a size their shape allows but `wild` of the time, when they have any size
/// (and nested templates are garbage arrays).
fn held(ty: CK_ATTRIBUTE_TYPE, wild: f64) -> BoxedStrategy<Option<Sim>> {
    let shape = shape_of(ty);
    let value = if shape == Shape::Template {
        prop::bool::weighted(wild / 2.0)
            .prop_flat_map(move |garbage| {
                if garbage {
                    prop_oneof![
                        garbage_array().prop_map(Sim::Bytes),
                        vec(any::<u8>(), 0..=30).prop_map(Sim::Bytes),
                    ]
                    .boxed()
                } else {
                    nested(wild / 2.0).prop_map(Sim::Template).boxed()
                }
            })
            .boxed()
    } else {
        any_value(shape, wild).prop_map(Sim::Bytes).boxed()
    };
    prop_oneof![
        6 => value.prop_map(Some),
        1 => Just(Some(Sim::Sensitive)),
        1 => Just(None),
    ]
    .boxed()
}

/// A length a lie reports where it will be caught: `CK_UNAVAILABLE_INFORMATION`,
/// absurd lengths, more than the buffer.
fn caught_len() -> impl Strategy<Value = Len> {
    prop_oneof![
        2 => Just(Len::Is(UNAVAILABLE)),
        1 => Just(Len::Is(two_to_the_40())),
        1 => Just(Len::Is(MAX_VALUE_LEN as CK_ULONG + 1)),
        1 => ((MAX_VALUE_LEN as CK_ULONG + 1)..=CK_ULONG::MAX).prop_map(Len::Is),
        2 => (1..=64 as CK_ULONG).prop_map(Len::PastBuffer),
    ]
}

/// The parameters of the lies about one attribute.
#[derive(Clone, Copy, Debug)]
struct LieParams {
    too_small: Len,
    query: Len,
    overstate: CK_ULONG,
}

fn lie_params() -> impl Strategy<Value = LieParams> {
    let query = prop_oneof![
        2 => caught_len(),
        1 => (1..=64 as CK_ULONG).prop_map(Len::Plus),
        1 => (1..=64 as CK_ULONG).prop_map(Len::Minus),
    ];
    let overstate = prop_oneof![3 => 1..=64 as CK_ULONG, 1 => any::<CK_ULONG>()];
    (caught_len(), query, overstate).prop_map(|(too_small, query, overstate)| LieParams {
        too_small,
        query,
        overstate,
    })
}

impl LieParams {
    /// Every lie about an attribute of `shape` (those about nested entries only for a
    /// nested template: elsewhere they change nothing).
    fn lies(self, shape: Shape) -> Vec<Lie> {
        let mut lies = vec![
            Lie::Skip,
            Lie::Unavailable,
            Lie::TooSmall(self.too_small),
            Lie::QueryLen(self.query),
            Lie::Overstate(self.overstate),
            Lie::KeepLength,
            Lie::Retype,
            Lie::Redirect,
        ];
        if shape == Shape::Template {
            lies.extend([
                Lie::KeepNestedLength,
                Lie::RedirectNested,
                Lie::RetypeNested,
                Lie::MisshapeNested(|ty| shape_of(ty) != Shape::Bytes),
            ]);
        }
        lies
    }
}

/// A lie about an attribute of `shape`.
fn lie(shape: Shape) -> impl Strategy<Value = Lie> {
    lie_params().prop_flat_map(move |params| prop::sample::select(params.lies(shape)))
}

/// One attribute of the template, what the object holds for it, and its lie.
#[derive(Clone, Debug)]
struct Case {
    ty: CK_ATTRIBUTE_TYPE,
    held: Option<Sim>,
    lie: Option<(Lie, usize)>,
}

/// An attribute: `wild` of them have a value of any size, and as many a lie.
fn case(wild: f64) -> impl Strategy<Value = Case> {
    prop::sample::select(TYPES).prop_flat_map(move |ty| {
        let lie = prop::bool::weighted(wild).prop_flat_map(move |lies| {
            if lies {
                let times = prop_oneof![Just(1usize), Just(2), Just(usize::MAX)];
                (lie(shape_of(ty)), times).prop_map(Some).boxed()
            } else {
                Just(None).boxed()
            }
        });
        (Just(ty), held(ty, wild), lie).prop_map(|(ty, held, lie)| Case { ty, held, lie })
    })
}

fn rv_policy() -> impl Strategy<Value = RvPolicy> {
    let per_attribute = prop::sample::select(PER_ATTRIBUTE.to_vec());
    let general = prop::sample::select(vec![
        ffi::CKR_OBJECT_HANDLE_INVALID,
        ffi::CKR_DEVICE_ERROR,
        ffi::CKR_SESSION_HANDLE_INVALID,
        ffi::CKR_GENERAL_ERROR,
    ]);
    let any_rv = prop_oneof![per_attribute, general, any::<CK_RV>()];
    prop_oneof![
        any_rv.clone().prop_map(RvPolicy::Always),
        (1..=6usize, any_rv).prop_map(|(n, rv)| RvPolicy::OnCall(n, rv)),
    ]
}

/// A module: the template's cases, how it answers as a whole, and growth.
#[derive(Clone, Debug)]
struct Scenario {
    cases: Vec<Case>,
    stop_at_first_error: bool,
    rv_policy: RvPolicy,
    /// The case whose value grows by 16 bytes before each of the next `n` calls.
    grow: Option<(prop::sample::Index, usize)>,
}

/// A module that follows the specification (`conformant`), or one with lies of every
/// density: a misbehaviour among many honest answers shows more than one lost among
/// others that already failed the read.
fn scenario(conformant: bool) -> impl Strategy<Value = Scenario> {
    let (wild, rv_policy, times) = if conformant {
        (
            Just(0.0).boxed(),
            Just(RvPolicy::Consistent).boxed(),
            (1..=2usize).boxed(),
        )
    } else {
        (
            prop::sample::select(vec![0.05, 0.15, 0.4]).boxed(),
            prop_oneof![1 => rv_policy(), 2 => Just(RvPolicy::Consistent)].boxed(),
            prop_oneof![1..=3usize, Just(usize::MAX)].boxed(),
        )
    };
    (
        wild.prop_flat_map(|wild| vec(case(wild), 1..=8)),
        any::<bool>(),
        rv_policy,
        prop::option::weighted(0.25, (any::<prop::sample::Index>(), times)),
    )
        .prop_map(|(cases, stop_at_first_error, rv_policy, grow)| Scenario {
            cases,
            stop_at_first_error,
            rv_policy,
            grow,
        })
}

impl Scenario {
    fn types(&self) -> Vec<CK_ATTRIBUTE_TYPE> {
        self.cases.iter().map(|case| case.ty).collect()
    }

    /// The attribute that grows, if it holds bytes that can grow (by whole `CK_ULONG`s).
    fn growing(&self, conformant: bool) -> Option<(CK_ATTRIBUTE_TYPE, usize)> {
        let (index, times) = self.grow.as_ref()?;
        let case = index.get(&self.cases);
        let grows = matches!(shape_of(case.ty), Shape::Bytes | Shape::Ulongs);
        (!conformant || grows).then_some((case.ty, *times))
    }

    /// The simulated module (the first case of a type decides what it holds and lies).
    fn module(&self, conformant: bool) -> SimModule {
        let mut object = BTreeMap::new();
        let mut lies = BTreeMap::new();
        let mut seen = Vec::new();
        for case in &self.cases {
            if seen.contains(&case.ty) {
                continue;
            }
            seen.push(case.ty);
            if let Some(held) = &case.held {
                object.insert(case.ty, held.clone());
            }
            if let Some(lie) = case.lie {
                lies.insert(case.ty, lie);
            }
        }
        let mut module = SimModule::with(object);
        module.lies = lies;
        module.stop_at_first_error = self.stop_at_first_error;
        module.rv_policy = self.rv_policy;
        module.grow = self.growing(conformant);
        module
    }
}

/// Whether `bytes` is one of the values `held` had during the read: as it was, or grown
/// by 16 bytes up to `grown` times.
fn is_version(held: &[u8], grown: usize, bytes: &[u8]) -> bool {
    (0..=grown).any(|k| {
        bytes.len() == held.len() + 16 * k
            && bytes.starts_with(held)
            && bytes[held.len()..].iter().all(|&b| b == b'+')
    })
}

/// Checks one attribute's value against what the object held.
fn check_value(
    ty: CK_ATTRIBUTE_TYPE,
    fetched: &Fetched,
    held: Option<&Sim>,
    grown: usize,
) -> std::result::Result<(), TestCaseError> {
    let name = AttributeType(ty);
    match (fetched, held) {
        (Fetched::Bytes(bytes), Some(Sim::Bytes(value))) => {
            let bytes = bytes.bytes();
            prop_assert!(
                is_version(value, grown, bytes),
                "{name}: got {bytes:02x?}, the module holds {value:02x?} (grown {grown} times)"
            );
            prop_assert!(
                check_shape(shape_of(ty), bytes.len()).is_ok(),
                "{name}: {} bytes do not fit its shape",
                bytes.len()
            );
        }
        (Fetched::Template(entries), Some(Sim::Template(held))) => {
            let got: Vec<(CK_ATTRIBUTE_TYPE, &[u8])> =
                entries.iter().map(|(t, b)| (*t, b.bytes())).collect();
            let want: Vec<(CK_ATTRIBUTE_TYPE, &[u8])> =
                held.iter().map(|(t, b)| (*t, &b[..])).collect();
            prop_assert_eq!(got, want, "{}: a wrong nested template", name);
            for (t, b) in entries {
                prop_assert!(check_shape(shape_of(*t), b.bytes().len()).is_ok());
            }
        }
        // An empty array is an empty template, whatever the module's notion of it.
        (Fetched::Template(entries), Some(Sim::Bytes(value))) if value.is_empty() => {
            prop_assert!(entries.is_empty(), "{name}: entries out of nothing");
        }
        (_, held) => {
            return Err(TestCaseError::fail(format!(
                "{name}: a value, the module holds {held:?}"
            )));
        }
    }
    Ok(())
}

/// A read of a scenario's template, and what the module saw and held.
struct Read {
    types: Vec<CK_ATTRIBUTE_TYPE>,
    /// The object as it was before the read.
    object: BTreeMap<CK_ATTRIBUTE_TYPE, Sim>,
    module: SimModule,
    /// The attribute that grew, and how often.
    grown: Option<(CK_ATTRIBUTE_TYPE, usize)>,
    result: Result<Vec<Outcome>>,
}

/// Reads the scenario's template from its module.
fn run(scenario: &Scenario, conformant: bool) -> Read {
    let mut module = scenario.module(conformant);
    let object = module.object.clone();
    let growing = module.grow;
    let types = scenario.types();
    let result = no_panic("the attribute engine", || {
        read(&mut module, &types, shape_of)
    });
    let grown = match (growing, module.grow) {
        (Some((ty, before)), Some((_, after))) => Some((ty, before - after)),
        _ => None,
    };
    Read {
        types,
        object,
        module,
        grown,
        result,
    }
}

impl Read {
    /// The properties every read must have, whatever the module did.
    fn check_sound(&self) -> std::result::Result<(), TestCaseError> {
        let module = &self.module;
        let bound = MAX_ROUNDS + self.types.len() * MAX_SOLO_CALLS as usize;
        prop_assert!(module.calls <= bound, "{} calls", module.calls);
        let outcomes = match &self.result {
            Ok(outcomes) => outcomes,
            Err(Error::ModuleContract { function, .. }) => {
                prop_assert_eq!(*function, FUNCTION);
                return Ok(());
            }
            Err(Error::Module { function, rv }) => {
                prop_assert_eq!(*function, FUNCTION);
                prop_assert!(
                    module.returned.contains(&rv.raw()) && !PER_ATTRIBUTE.contains(&rv.raw()),
                    "{rv:?} is not a value the module returned for the call as a whole"
                );
                return Ok(());
            }
            Err(other) => {
                return Err(TestCaseError::fail(format!("unexpected error {other:?}")));
            }
        };
        prop_assert_eq!(outcomes.len(), self.types.len());
        for (&ty, outcome) in self.types.iter().zip(outcomes) {
            let said = |rv: CK_RV| module.unavailable.contains(&(ty, rv));
            let name = AttributeType(ty);
            match outcome {
                Outcome::Value(fetched) => {
                    let grown = match self.grown {
                        Some((grew, times)) if grew == ty => times,
                        _ => 0,
                    };
                    check_value(ty, fetched, self.object.get(&ty), grown)?;
                }
                Outcome::Sensitive => prop_assert!(
                    said(ffi::CKR_ATTRIBUTE_SENSITIVE),
                    "{name}: sensitive, but never answered so"
                ),
                Outcome::Invalid => prop_assert!(
                    said(ffi::CKR_ATTRIBUTE_TYPE_INVALID),
                    "{name}: invalid, but never answered so"
                ),
                Outcome::Unavailable => prop_assert!(
                    said(ffi::CKR_OK),
                    "{name}: unavailable, but never answered so"
                ),
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the module answers, every attribute's result is its exact value or
    /// what the module said about it, or the read fails naming `C_GetAttributeValue`.
    #[test]
    fn every_result_is_the_exact_value_or_what_the_module_said_or_an_error(
        scenario in scenario(false),
    ) {
        run(&scenario, false).check_sound()?;
    }

    /// Every lie about one attribute of any shape, told in one, two or all of its
    /// answers, next to an honest attribute read in the same calls: caught, or harmless.
    #[test]
    fn every_lie_about_one_attribute_is_caught_or_harmless(
        liar in prop::sample::select(TYPES)
            .prop_flat_map(|ty| (Just(ty), held(ty, 0.2))),
        params in lie_params(),
        honest in case(0.0),
        liar_first in any::<bool>(),
        stop_at_first_error in any::<bool>(),
    ) {
        let (ty, held) = liar;
        for lie in params.lies(shape_of(ty)) {
            for times in [1, 2, usize::MAX] {
                let liar = Case { ty, held: held.clone(), lie: Some((lie, times)) };
                let cases = if liar_first {
                    vec![liar, honest.clone()]
                } else {
                    vec![honest.clone(), liar]
                };
                let scenario = Scenario {
                    cases,
                    stop_at_first_error,
                    rv_policy: RvPolicy::Consistent,
                    grow: None,
                };
                run(&scenario, false).check_sound().map_err(
                    |error| TestCaseError::fail(format!("{lie:?} in {times} answers: {error}")),
                )?;
            }
        }
    }

    /// A module that follows the specification gives every attribute's exact result.
    #[test]
    fn a_module_that_follows_the_rules_gives_every_exact_result(
        scenario in scenario(true),
    ) {
        let read = run(&scenario, true);
        read.check_sound()?;
        let outcomes = read.result.map_err(|error| {
            TestCaseError::fail(format!("a conformant module failed: {error}"))
        })?;
        for (&ty, outcome) in scenario.types().iter().zip(&outcomes) {
            let name = AttributeType(ty);
            match (read.object.get(&ty), outcome) {
                (Some(Sim::Bytes(_) | Sim::Template(_)), Outcome::Value(_))
                | (Some(Sim::Sensitive), Outcome::Sensitive)
                | (None, Outcome::Invalid) => {}
                (held, _) => {
                    return Err(TestCaseError::fail(format!(
                        "{name}: the module holds {held:?}, the engine gave another result"
                    )));
                }
            }
        }
    }
}
