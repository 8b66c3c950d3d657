//! The plan: which misbehaviour this copy of the module shows.
//!
//! The plans are listed in the crate documentation (`src/lib.rs`).

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The environment variable read when the file name names no plan.
const PLAN_VARIABLE: &str = "PKCS11_FAULT_PLAN";
/// The file name prefix that carries a plan: `fault-<plan>.so`.
const FILE_PREFIX: &str = "fault-";

/// A scenario of the negotiation entry points (see the crate documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    Normal,
    ListOnly3_0,
    ListNotSupported,
    ListNullTables,
    InterfaceOkNull,
    ListCountLies,
    ListCountGrows,
    FunctionListFails,
    FunctionListNull,
    FunctionListClaims3,
    NullSlots,
}

impl Plan {
    const ALL: [Plan; 11] = [
        Plan::Normal,
        Plan::ListOnly3_0,
        Plan::ListNotSupported,
        Plan::ListNullTables,
        Plan::InterfaceOkNull,
        Plan::ListCountLies,
        Plan::ListCountGrows,
        Plan::FunctionListFails,
        Plan::FunctionListNull,
        Plan::FunctionListClaims3,
        Plan::NullSlots,
    ];

    /// The plan's kebab-case name, as it appears in file names.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Plan::Normal => "normal",
            Plan::ListOnly3_0 => "list-only-3-0",
            Plan::ListNotSupported => "list-not-supported",
            Plan::ListNullTables => "list-null-tables",
            Plan::InterfaceOkNull => "interface-ok-null",
            Plan::ListCountLies => "list-count-lies",
            Plan::ListCountGrows => "list-count-grows",
            Plan::FunctionListFails => "function-list-fails",
            Plan::FunctionListNull => "function-list-null",
            Plan::FunctionListClaims3 => "function-list-claims-3",
            Plan::NullSlots => "null-slots",
        }
    }

    fn from_name(name: &str) -> Option<Plan> {
        Plan::ALL.into_iter().find(|plan| plan.name() == name)
    }
}

/// The plan named by the file name `fault-<plan>.<ext>`: `None` if the name does not
/// carry one, `Some(None)` if it carries an unknown one.
fn from_file_name(file_name: &OsStr) -> Option<Option<Plan>> {
    let file_name = file_name.to_str()?;
    let stem = file_name.strip_prefix(FILE_PREFIX)?;
    let plan = stem
        .rsplit_once('.')
        .map_or(stem, |(plan, _extension)| plan);
    Some(Plan::from_name(plan))
}

/// This copy's plan; `None` for an unknown plan name.
pub(crate) fn current() -> Option<Plan> {
    static PLAN: OnceLock<Option<Plan>> = OnceLock::new();
    *PLAN.get_or_init(|| {
        if let Some(plan) = own_file().and_then(|path| from_file_name(path.file_name()?)) {
            return plan;
        }
        match std::env::var(PLAN_VARIABLE) {
            Ok(name) => Plan::from_name(&name),
            Err(std::env::VarError::NotPresent) => Some(Plan::Normal),
            Err(std::env::VarError::NotUnicode(_)) => None,
        }
    })
}

/// The path this copy of the library was loaded from, as the dynamic loader knows it.
#[cfg(unix)]
fn own_file() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;

    /// Any address inside this library will do.
    static ANCHOR: u8 = 0;
    let mut info = core::mem::MaybeUninit::<libc::Dl_info>::uninit();
    // SAFETY: `ANCHOR` is an address in this library; `info` is writable.
    let found = unsafe { libc::dladdr((&raw const ANCHOR).cast(), info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: dladdr succeeded, so it filled `info`.
    let info = unsafe { info.assume_init() };
    if info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: `dli_fname` is the loader's NUL-terminated name of the library, alive as
    // long as the library is loaded (we copy it at once).
    let name = unsafe { core::ffi::CStr::from_ptr(info.dli_fname) };
    Some(PathBuf::from(OsStr::from_bytes(name.to_bytes())))
}

/// Elsewhere only the environment variable selects a plan.
#[cfg(not(unix))]
fn own_file() -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_names_round_trip() {
        for plan in Plan::ALL {
            assert_eq!(Plan::from_name(plan.name()), Some(plan));
        }
    }

    #[test]
    fn plans_come_from_file_names() {
        let plan = |name: &str| from_file_name(OsStr::new(name));
        assert_eq!(plan("fault-null-slots.so"), Some(Some(Plan::NullSlots)));
        assert_eq!(
            plan("fault-list-only-3-0.dylib"),
            Some(Some(Plan::ListOnly3_0))
        );
        assert_eq!(plan("fault-normal"), Some(Some(Plan::Normal)));
        assert_eq!(plan("fault-no-such-plan.so"), Some(None));
        assert_eq!(plan("libpkcs11_fault_module.so"), None);
    }

    #[cfg(unix)]
    #[test]
    fn finds_its_own_file() {
        // In a unit test the "library" is the test executable itself.
        let own = own_file().expect("dladdr names the object");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(own.file_name(), exe.file_name());
    }
}
