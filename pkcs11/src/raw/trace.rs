//! Call tracing through the `tracing` crate (feature `tracing`): every module call as one
//! TRACE event on the target `pkcs11` — function, arguments in summary, return value,
//! duration — the way OpenSC's pkcs11-spy is used, without a second library.
//!
//! Arguments are summarized by type, never by content: integers (handles, lengths,
//! flags, types) as numbers, pointers as `ptr` or `NULL`, a `CK_MECHANISM` as its
//! mechanism name and parameter length, a template as its attribute types (the count
//! that follows the template pointer tells how many). No byte buffer is ever read, so no
//! PIN, key or plaintext can appear; the functions that carry a PIN or a user name
//! (`C_Login`, `C_LoginUser`, `C_InitPIN`, `C_SetPIN`, `C_InitToken`) show their first
//! argument only.
//!
//! Without the feature, [`wanted`] is `false` and the recording path is compiled out.
//! With it but no subscriber interested in TRACE on `pkcs11`, each call costs one check
//! of the callsite's cached interest, then takes the plain path.

/// The summary of one call's arguments, filled while the arguments are evaluated.
pub(crate) struct Args {
    #[cfg(feature = "tracing")]
    text: Option<String>,
    #[cfg(feature = "tracing")]
    shown: usize,
    #[cfg(feature = "tracing")]
    redacted: bool,
    /// A template pointer waiting for its count (the next integer argument).
    #[cfg(feature = "tracing")]
    template: Option<*const ffi::CK_ATTRIBUTE>,
}

/// Whether a subscriber wants this crate's TRACE events: the call macros then take the
/// recording path ([`super::invoke_traced`]). Always `false` without the feature, so
/// the recording path is compiled out.
#[inline]
pub(crate) fn wanted() -> bool {
    #[cfg(feature = "tracing")]
    {
        tracing::enabled!(target: "pkcs11", tracing::Level::TRACE)
    }
    #[cfg(not(feature = "tracing"))]
    {
        false
    }
}

/// Functions whose arguments after the first include a PIN or a user name.
#[cfg(feature = "tracing")]
const REDACTED: [&str; 5] = [
    "C_Login",
    "C_LoginUser",
    "C_InitPIN",
    "C_SetPIN",
    "C_InitToken",
];

impl Args {
    /// Starts the summary of a call of `function` (made only when [`wanted`]).
    #[inline]
    pub(crate) fn new(function: &'static str) -> Args {
        #[cfg(feature = "tracing")]
        {
            Args {
                text: Some(String::new()),
                shown: 0,
                redacted: REDACTED.contains(&function),
                template: None,
            }
        }
        #[cfg(not(feature = "tracing"))]
        {
            let _ = function;
            Args {}
        }
    }

    /// Records `value` and passes it through unchanged.
    ///
    /// # Safety
    /// A pointer argument is valid for the call (the contract of `invoke`): a
    /// `CK_MECHANISM` pointer points to a readable struct, a template pointer to as many
    /// readable `CK_ATTRIBUTE`s as the count argument that follows it says.
    #[inline]
    pub(crate) unsafe fn arg<T: Summary>(&mut self, value: T) -> T {
        #[cfg(feature = "tracing")]
        if self.text.is_some() {
            // SAFETY: the caller's contract, passed on.
            unsafe { self.record(&value) };
        }
        value
    }

    #[cfg(feature = "tracing")]
    unsafe fn record<T: Summary>(&mut self, value: &T) {
        use core::fmt::Write as _;
        let Some(text) = self.text.as_mut() else {
            return;
        };
        self.shown += 1;
        if self.redacted && self.shown > 1 {
            if self.shown == 2 {
                text.push_str(", <redacted>");
            }
            return;
        }
        if self.shown > 1 {
            text.push_str(", ");
        }
        match value.kind() {
            Kind::Integer(n) => match self.template.take() {
                Some(template) if !template.is_null() => {
                    let count = usize::try_from(n).unwrap_or(0).min(1024);
                    text.push('[');
                    for i in 0..count {
                        // SAFETY: the template holds `n` attributes (the caller's
                        // contract); only the type field is read.
                        let ty = unsafe { (*template.add(i)).type_ };
                        if i > 0 {
                            text.push_str(", ");
                        }
                        match ffi::cka_name(ty) {
                            Some(name) => text.push_str(name),
                            None => {
                                let _ = write!(text, "CKA(0x{ty:08X})");
                            }
                        }
                    }
                    text.push(']');
                }
                _ => {
                    let _ = write!(text, "{n}");
                }
            },
            Kind::Pointer(null) => text.push_str(if null { "NULL" } else { "ptr" }),
            Kind::Mechanism(pointer) if pointer.is_null() => text.push_str("NULL"),
            Kind::Mechanism(pointer) => {
                // SAFETY: a non-NULL CK_MECHANISM pointer is readable (the contract).
                let mechanism = unsafe { pointer.read_unaligned() };
                let (ty, len) = (mechanism.mechanism, mechanism.ulParameterLen);
                match ffi::ckm_name(ty) {
                    Some(name) => text.push_str(name),
                    None => {
                        let _ = write!(text, "CKM(0x{ty:08X})");
                    }
                }
                let _ = write!(text, "(param {len} bytes)");
            }
            Kind::Template(pointer) => {
                self.template = Some(pointer);
                self.shown -= 1; // printed with its count
                if self.shown > 0 && text.ends_with(", ") {
                    text.truncate(text.len() - 2);
                }
            }
        }
    }

    /// Emits the call's event (when recording).
    #[inline]
    pub(crate) fn finish(self, function: &'static str, rv: ffi::CK_RV, start: Start) {
        #[cfg(feature = "tracing")]
        if self.text.is_some() {
            self.emit(function, rv, start);
        }
        #[cfg(not(feature = "tracing"))]
        {
            let _ = (function, rv, start);
        }
    }

    /// Emits the event of a recorded call (kept out of line: only with a subscriber).
    #[cfg(feature = "tracing")]
    #[inline(never)]
    fn emit(self, function: &'static str, rv: ffi::CK_RV, start: Start) {
        if let (Some(args), Some(start)) = (self.text, start.0) {
            let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            let rv_name = ffi::ckr_name(rv).unwrap_or("CKR_VENDOR_OR_UNKNOWN");
            tracing::trace!(
                target: "pkcs11",
                function,
                rv = %format_args!("0x{rv:08X}"),
                micros,
                "{function}({args}) = {rv_name}"
            );
        }
    }

    /// When the call started (only taken when recording).
    #[inline]
    pub(crate) fn start(&self) -> Start {
        #[cfg(feature = "tracing")]
        {
            Start(self.text.as_ref().map(|_| std::time::Instant::now()))
        }
        #[cfg(not(feature = "tracing"))]
        {
            Start(())
        }
    }
}

/// The start time of a recorded call.
pub(crate) struct Start(
    #[cfg(feature = "tracing")] Option<std::time::Instant>,
    #[cfg(not(feature = "tracing"))] (),
);

/// How an argument is summarized.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))] // only recorded with the feature
pub(crate) enum Kind {
    /// A number (handle, length, flags, type).
    Integer(u64),
    /// A pointer that is only described (`true` when NULL).
    Pointer(bool),
    /// A `CK_MECHANISM` pointer: the mechanism name is shown.
    Mechanism(*const ffi::CK_MECHANISM),
    /// A template: its attribute types are shown with the count that follows.
    Template(*const ffi::CK_ATTRIBUTE),
}

/// An argument type of a PKCS #11 function.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))] // only recorded with the feature
pub(crate) trait Summary {
    /// How to summarize the value.
    fn kind(&self) -> Kind;
}

impl Summary for ffi::CK_ULONG {
    fn kind(&self) -> Kind {
        #[allow(clippy::useless_conversion)] // CK_ULONG is 32 bits on Windows
        Kind::Integer(u64::from(*self))
    }
}

impl Summary for ffi::CK_BYTE {
    fn kind(&self) -> Kind {
        Kind::Integer(u64::from(*self))
    }
}

impl Summary for *mut ffi::CK_MECHANISM {
    fn kind(&self) -> Kind {
        Kind::Mechanism(self.cast_const())
    }
}

impl Summary for *mut ffi::CK_ATTRIBUTE {
    fn kind(&self) -> Kind {
        Kind::Template(self.cast_const())
    }
}

impl<F> Summary for Option<F> {
    fn kind(&self) -> Kind {
        Kind::Pointer(self.is_none())
    }
}

/// Pointers shown as `ptr` / `NULL` only.
macro_rules! described_pointers {
    ($($ty:ty),* $(,)?) => {
        $(
            impl Summary for *mut $ty {
                fn kind(&self) -> Kind {
                    Kind::Pointer(self.is_null())
                }
            }
        )*
    };
}

described_pointers!(
    u8,
    ffi::CK_ULONG,
    core::ffi::c_void,
    ffi::CK_INFO,
    ffi::CK_SLOT_INFO,
    ffi::CK_TOKEN_INFO,
    ffi::CK_MECHANISM_INFO,
    ffi::CK_SESSION_INFO,
    ffi::CK_ASYNC_DATA,
    *mut u8,
);
