//! Safe, thread-friendly access to PKCS #11 ("Cryptoki") modules.
//!
//! This crate is at its beginning: its error model ([`Rv`], [`Error`]) is here; the rest
//! of the safe API (shared module lifecycle, RAII sessions, the reentrant operation guard,
//! typed attributes) is being built on top of [`ffi`], the raw `pkcs11-sys` crate, which
//! is usable today.

pub use ffi;

mod error;

pub use error::{Category, Error, Result, Rv};
