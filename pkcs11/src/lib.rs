//! Safe, thread-friendly access to PKCS #11 ("Cryptoki") modules.
//!
//! This crate is at its beginning: the safe API (shared module lifecycle, RAII sessions,
//! the reentrant operation guard, typed attributes and errors) is being built on top of
//! [`ffi`], the raw `pkcs11-sys` crate, which is usable today.

pub use ffi;
