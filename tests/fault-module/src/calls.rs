//! Per-function call counters of this copy of the module.

use core::ffi::CStr;
use core::sync::atomic::{AtomicU64, Ordering};

/// The functions whose calls are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Function {
    GetFunctionList,
    GetInterfaceList,
    GetInterface,
    Initialize,
    Finalize,
    GetInfo,
    GetSlotList,
    GetTokenInfo,
}

impl Function {
    const ALL: [Function; 8] = [
        Function::GetFunctionList,
        Function::GetInterfaceList,
        Function::GetInterface,
        Function::Initialize,
        Function::Finalize,
        Function::GetInfo,
        Function::GetSlotList,
        Function::GetTokenInfo,
    ];

    /// The C name, e.g. `C_GetInfo`.
    fn name(self) -> &'static str {
        match self {
            Function::GetFunctionList => "C_GetFunctionList",
            Function::GetInterfaceList => "C_GetInterfaceList",
            Function::GetInterface => "C_GetInterface",
            Function::Initialize => "C_Initialize",
            Function::Finalize => "C_Finalize",
            Function::GetInfo => "C_GetInfo",
            Function::GetSlotList => "C_GetSlotList",
            Function::GetTokenInfo => "C_GetTokenInfo",
        }
    }
}

static CALLS: [AtomicU64; Function::ALL.len()] = [const { AtomicU64::new(0) }; Function::ALL.len()];

/// Counts one call of `function`.
pub(crate) fn record(function: Function) {
    CALLS[function as usize].fetch_add(1, Ordering::Relaxed);
}

/// The number of calls of the function named `name`, if it is counted.
pub(crate) fn count(name: &CStr) -> Option<u64> {
    let name = name.to_bytes();
    Function::ALL
        .iter()
        .find(|function| function.name().as_bytes() == name)
        .map(|&function| CALLS[function as usize].load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_c_name() {
        let before = count(c"C_GetTokenInfo").unwrap();
        record(Function::GetTokenInfo);
        assert_eq!(count(c"C_GetTokenInfo"), Some(before + 1));
        assert_eq!(count(c"C_GetTokenInfoX"), None);
        for (index, function) in Function::ALL.iter().enumerate() {
            assert_eq!(*function as usize, index, "{}", function.name());
        }
    }
}
