//! Every PKCS #11 v3.2 function by name, and a call counter for each.
//!
//! The list below is the only list of functions in the module: it gives the [`Function`]
//! enum, the C names (`"C_Sign"`), and the code that leaves a function's slot NULL in
//! each table version (plan action `null`).

use core::ffi::CStr;
use core::sync::atomic::{AtomicU64, Ordering};

use pkcs11_sys::{CK_FUNCTION_LIST, CK_FUNCTION_LIST_3_0, CK_FUNCTION_LIST_3_2};

/// Writes [`Function`] and its tables from the three groups of the standard's function
/// list: 2.40, added in 3.0, added in 3.2 (each as `Variant = C_Name`, in table order).
macro_rules! functions {
    (
        v2: [$($v2:ident = $c2:ident,)*]
        v3_0: [$($v30:ident = $c30:ident,)*]
        v3_2: [$($v32:ident = $c32:ident,)*]
    ) => {
        /// A PKCS #11 function (of any version), named without its `C_` prefix.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(clippy::enum_variant_names)] // C_GetFunctionStatus, C_CancelFunction
        pub(crate) enum Function {
            $($v2,)* $($v30,)* $($v32,)*
        }

        impl Function {
            /// Every function, in table order.
            pub(crate) const ALL: &'static [Function] =
                &[$(Function::$v2,)* $(Function::$v30,)* $(Function::$v32,)*];

            /// The C name, e.g. `"C_Sign"`.
            pub(crate) const fn name(self) -> &'static str {
                match self {
                    $(Function::$v2 => stringify!($c2),)*
                    $(Function::$v30 => stringify!($c30),)*
                    $(Function::$v32 => stringify!($c32),)*
                }
            }
        }

        /// Leaves `function`'s slot of a 2.x table NULL (if the table has one).
        pub(crate) fn clear_2(table: &mut CK_FUNCTION_LIST, function: Function) {
            match function {
                $(Function::$v2 => table.$c2 = None,)*
                _ => {}
            }
        }

        /// Leaves `function`'s slot of a 3.0 table NULL (if the table has one).
        pub(crate) fn clear_3_0(table: &mut CK_FUNCTION_LIST_3_0, function: Function) {
            match function {
                $(Function::$v2 => table.$c2 = None,)*
                $(Function::$v30 => table.$c30 = None,)*
                _ => {}
            }
        }

        /// Leaves `function`'s slot of a 3.2 table NULL.
        pub(crate) fn clear_3_2(table: &mut CK_FUNCTION_LIST_3_2, function: Function) {
            match function {
                $(Function::$v2 => table.$c2 = None,)*
                $(Function::$v30 => table.$c30 = None,)*
                $(Function::$v32 => table.$c32 = None,)*
            }
        }
    };
}

functions! {
    v2: [
        Initialize = C_Initialize,
        Finalize = C_Finalize,
        GetInfo = C_GetInfo,
        GetFunctionList = C_GetFunctionList,
        GetSlotList = C_GetSlotList,
        GetSlotInfo = C_GetSlotInfo,
        GetTokenInfo = C_GetTokenInfo,
        GetMechanismList = C_GetMechanismList,
        GetMechanismInfo = C_GetMechanismInfo,
        InitToken = C_InitToken,
        InitPin = C_InitPIN,
        SetPin = C_SetPIN,
        OpenSession = C_OpenSession,
        CloseSession = C_CloseSession,
        CloseAllSessions = C_CloseAllSessions,
        GetSessionInfo = C_GetSessionInfo,
        GetOperationState = C_GetOperationState,
        SetOperationState = C_SetOperationState,
        Login = C_Login,
        Logout = C_Logout,
        CreateObject = C_CreateObject,
        CopyObject = C_CopyObject,
        DestroyObject = C_DestroyObject,
        GetObjectSize = C_GetObjectSize,
        GetAttributeValue = C_GetAttributeValue,
        SetAttributeValue = C_SetAttributeValue,
        FindObjectsInit = C_FindObjectsInit,
        FindObjects = C_FindObjects,
        FindObjectsFinal = C_FindObjectsFinal,
        EncryptInit = C_EncryptInit,
        Encrypt = C_Encrypt,
        EncryptUpdate = C_EncryptUpdate,
        EncryptFinal = C_EncryptFinal,
        DecryptInit = C_DecryptInit,
        Decrypt = C_Decrypt,
        DecryptUpdate = C_DecryptUpdate,
        DecryptFinal = C_DecryptFinal,
        DigestInit = C_DigestInit,
        Digest = C_Digest,
        DigestUpdate = C_DigestUpdate,
        DigestKey = C_DigestKey,
        DigestFinal = C_DigestFinal,
        SignInit = C_SignInit,
        Sign = C_Sign,
        SignUpdate = C_SignUpdate,
        SignFinal = C_SignFinal,
        SignRecoverInit = C_SignRecoverInit,
        SignRecover = C_SignRecover,
        VerifyInit = C_VerifyInit,
        Verify = C_Verify,
        VerifyUpdate = C_VerifyUpdate,
        VerifyFinal = C_VerifyFinal,
        VerifyRecoverInit = C_VerifyRecoverInit,
        VerifyRecover = C_VerifyRecover,
        DigestEncryptUpdate = C_DigestEncryptUpdate,
        DecryptDigestUpdate = C_DecryptDigestUpdate,
        SignEncryptUpdate = C_SignEncryptUpdate,
        DecryptVerifyUpdate = C_DecryptVerifyUpdate,
        GenerateKey = C_GenerateKey,
        GenerateKeyPair = C_GenerateKeyPair,
        WrapKey = C_WrapKey,
        UnwrapKey = C_UnwrapKey,
        DeriveKey = C_DeriveKey,
        SeedRandom = C_SeedRandom,
        GenerateRandom = C_GenerateRandom,
        GetFunctionStatus = C_GetFunctionStatus,
        CancelFunction = C_CancelFunction,
        WaitForSlotEvent = C_WaitForSlotEvent,
    ]
    v3_0: [
        GetInterfaceList = C_GetInterfaceList,
        GetInterface = C_GetInterface,
        LoginUser = C_LoginUser,
        SessionCancel = C_SessionCancel,
        MessageEncryptInit = C_MessageEncryptInit,
        EncryptMessage = C_EncryptMessage,
        EncryptMessageBegin = C_EncryptMessageBegin,
        EncryptMessageNext = C_EncryptMessageNext,
        MessageEncryptFinal = C_MessageEncryptFinal,
        MessageDecryptInit = C_MessageDecryptInit,
        DecryptMessage = C_DecryptMessage,
        DecryptMessageBegin = C_DecryptMessageBegin,
        DecryptMessageNext = C_DecryptMessageNext,
        MessageDecryptFinal = C_MessageDecryptFinal,
        MessageSignInit = C_MessageSignInit,
        SignMessage = C_SignMessage,
        SignMessageBegin = C_SignMessageBegin,
        SignMessageNext = C_SignMessageNext,
        MessageSignFinal = C_MessageSignFinal,
        MessageVerifyInit = C_MessageVerifyInit,
        VerifyMessage = C_VerifyMessage,
        VerifyMessageBegin = C_VerifyMessageBegin,
        VerifyMessageNext = C_VerifyMessageNext,
        MessageVerifyFinal = C_MessageVerifyFinal,
    ]
    v3_2: [
        EncapsulateKey = C_EncapsulateKey,
        DecapsulateKey = C_DecapsulateKey,
        VerifySignatureInit = C_VerifySignatureInit,
        VerifySignature = C_VerifySignature,
        VerifySignatureUpdate = C_VerifySignatureUpdate,
        VerifySignatureFinal = C_VerifySignatureFinal,
        GetSessionValidationFlags = C_GetSessionValidationFlags,
        AsyncComplete = C_AsyncComplete,
        AsyncGetID = C_AsyncGetID,
        AsyncJoin = C_AsyncJoin,
        WrapKeyAuthenticated = C_WrapKeyAuthenticated,
        UnwrapKeyAuthenticated = C_UnwrapKeyAuthenticated,
    ]
}

/// The number of functions.
pub(crate) const COUNT: usize = Function::ALL.len();

impl Function {
    /// The function with C name `name` (`"C_Sign"`).
    pub(crate) fn from_name(name: &str) -> Option<Function> {
        Function::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// This function's bit in a [`FunctionSet`].
    pub(crate) const fn bit(self) -> u128 {
        1 << self as u32
    }
}

/// A set of functions, one bit each.
pub(crate) type FunctionSet = u128;

const _: () = assert!(COUNT <= FunctionSet::BITS as usize);

static CALLS: [AtomicU64; COUNT] = [const { AtomicU64::new(0) }; COUNT];

/// Counts one call of `function`.
#[inline]
pub(crate) fn record(function: Function) {
    CALLS[function as usize].fetch_add(1, Ordering::Relaxed);
}

/// The number of calls of the function named `name`, if there is such a function.
pub(crate) fn count(name: &CStr) -> Option<u64> {
    let function = Function::from_name(name.to_str().ok()?)?;
    Some(CALLS[function as usize].load(Ordering::Relaxed))
}

/// The number of calls of all functions.
pub(crate) fn total() -> u64 {
    CALLS.iter().map(|c| c.load(Ordering::Relaxed)).sum()
}

/// Sets every counter back to zero.
pub(crate) fn reset() {
    for counter in &CALLS {
        counter.store(0, Ordering::Relaxed);
    }
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
        assert_eq!(count(c"C_UnwrapKeyAuthenticated"), Some(0));
        for (index, function) in Function::ALL.iter().enumerate() {
            assert_eq!(*function as usize, index, "{}", function.name());
        }
        assert_eq!(COUNT, 68 + 24 + 12);
    }

    #[test]
    fn clearing_a_slot_leaves_it_null() {
        // SAFETY: all-zero bytes are a valid table (every slot NULL).
        let mut table: CK_FUNCTION_LIST_3_2 = unsafe { core::mem::zeroed() };
        table.C_Sign = Some(dummy_sign);
        clear_3_2(&mut table, Function::Sign);
        assert!({ table.C_Sign }.is_none());
    }

    unsafe extern "C" fn dummy_sign(
        _: pkcs11_sys::CK_SESSION_HANDLE,
        _: pkcs11_sys::CK_BYTE_PTR,
        _: pkcs11_sys::CK_ULONG,
        _: pkcs11_sys::CK_BYTE_PTR,
        _: pkcs11_sys::CK_ULONG_PTR,
    ) -> pkcs11_sys::CK_RV {
        0
    }
}
