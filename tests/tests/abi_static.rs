//! Compile-time checks of the target-dependent ABI facts of PKCS #11.
//!
//! `CK_ULONG` is C `unsigned long` (32 bits on Windows and on 32-bit Unix, 64 bits on LP64),
//! structs are packed to one byte on Windows only, `CK_UNAVAILABLE_INFORMATION` is
//! `CK_ULONG::MAX` everywhere, and the three function tables have 68, 92 and 104 slots after
//! their `CK_VERSION`. Every check is a `const` assertion, so merely compiling this file for
//! a target proves them there: `cargo xtask test` type-checks it for a 32-bit and a Windows
//! target (see `cross_check` in `xtask/src/bindings.rs`).

use core::ffi::{c_ulong, c_void};
use core::mem::{align_of, offset_of, size_of};

use pkcs11_sys::{
    CK_C_Initialize, CK_ATTRIBUTE, CK_BBOOL, CK_BYTE, CK_DATE, CK_FUNCTION_LIST,
    CK_FUNCTION_LIST_3_0, CK_FUNCTION_LIST_3_2, CK_INFO, CK_MECHANISM, CK_ULONG,
    CK_UNAVAILABLE_INFORMATION, CK_VERSION,
};

/// Size of a data or function pointer.
const PTR: usize = size_of::<*const c_void>();
/// Size of `CK_ULONG`.
const UL: usize = size_of::<CK_ULONG>();
/// Whether structs are packed to one byte (Windows).
const PACKED: bool = cfg!(windows);

/// `n` rounded up to a multiple of `align` (no rounding when packed).
const fn pad(n: usize, align: usize) -> usize {
    if PACKED {
        n
    } else {
        n.div_ceil(align) * align
    }
}

// Scalars.
const _: () = assert!(size_of::<CK_ULONG>() == size_of::<c_ulong>());
const _: () = assert!(CK_UNAVAILABLE_INFORMATION == CK_ULONG::MAX);
const _: () = assert!(size_of::<CK_BYTE>() == 1 && size_of::<CK_BBOOL>() == 1);
#[cfg(windows)]
const _: () = assert!(UL == 4, "CK_ULONG is 32 bits on Windows");
#[cfg(unix)]
const _: () = assert!(
    UL == PTR,
    "CK_ULONG is pointer-sized on ILP32 and LP64 Unix"
);

// CK_ATTRIBUTE { type, pValue, ulValueLen }.
#[cfg(windows)]
const _: () = {
    assert!(size_of::<CK_ATTRIBUTE>() == 4 + PTR + 4);
    assert!(align_of::<CK_ATTRIBUTE>() == 1);
    assert!(offset_of!(CK_ATTRIBUTE, pValue) == 4);
};
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
const _: () = {
    assert!(size_of::<CK_ATTRIBUTE>() == 24);
    assert!(align_of::<CK_ATTRIBUTE>() == 8);
    assert!(offset_of!(CK_ATTRIBUTE, pValue) == 8);
    assert!(offset_of!(CK_ATTRIBUTE, ulValueLen) == 16);
};
#[cfg(all(target_os = "linux", target_arch = "x86"))]
const _: () = {
    assert!(size_of::<CK_ATTRIBUTE>() == 12);
    assert!(align_of::<CK_ATTRIBUTE>() == 4);
};
const _: () = assert!(size_of::<CK_ATTRIBUTE>() == pad(UL + PTR + UL, PTR));
const _: () = assert!(size_of::<CK_MECHANISM>() == pad(UL + PTR + UL, PTR));

// Byte-only structs have no padding anywhere.
const _: () = assert!(size_of::<CK_VERSION>() == 2 && align_of::<CK_VERSION>() == 1);
const _: () = assert!(size_of::<CK_DATE>() == 8 && align_of::<CK_DATE>() == 1);

// CK_INFO { CK_VERSION, [u8; 32], CK_FLAGS, [u8; 32], CK_VERSION }.
const _: () = {
    let flags = pad(2 + 32, UL);
    assert!(offset_of!(CK_INFO, flags) == flags);
    assert!(offset_of!(CK_INFO, libraryVersion) == flags + UL + 32);
    assert!(size_of::<CK_INFO>() == pad(flags + UL + 32 + 2, UL));
};

/// Offset of the first function pointer: after the 2-byte `CK_VERSION`, padded to a
/// pointer except when packed.
const FIRST_SLOT: usize = pad(2, PTR);

/// Size of a function table with `slots` function pointers after its version.
const fn table_size(slots: usize) -> usize {
    FIRST_SLOT + slots * PTR
}

// Every slot is one nullable function pointer.
const _: () = assert!(size_of::<CK_C_Initialize>() == PTR);

// CK_FUNCTION_LIST: 68 slots (2.x).
const _: () = {
    assert!(size_of::<CK_FUNCTION_LIST>() == table_size(68));
    assert!(align_of::<CK_FUNCTION_LIST>() == if PACKED { 1 } else { PTR });
    assert!(offset_of!(CK_FUNCTION_LIST, C_Initialize) == FIRST_SLOT);
    assert!(offset_of!(CK_FUNCTION_LIST, C_WaitForSlotEvent) == FIRST_SLOT + 67 * PTR);
};

// CK_FUNCTION_LIST_3_0: 92 slots, the 2.x ones first.
const _: () = {
    assert!(size_of::<CK_FUNCTION_LIST_3_0>() == table_size(92));
    assert!(offset_of!(CK_FUNCTION_LIST_3_0, C_Initialize) == FIRST_SLOT);
    assert!(offset_of!(CK_FUNCTION_LIST_3_0, C_WaitForSlotEvent) == FIRST_SLOT + 67 * PTR);
    assert!(offset_of!(CK_FUNCTION_LIST_3_0, C_GetInterfaceList) == FIRST_SLOT + 68 * PTR);
    assert!(offset_of!(CK_FUNCTION_LIST_3_0, C_MessageVerifyFinal) == FIRST_SLOT + 91 * PTR);
};

// CK_FUNCTION_LIST_3_2: 104 slots, the 3.0 ones first.
const _: () = {
    assert!(size_of::<CK_FUNCTION_LIST_3_2>() == table_size(104));
    assert!(offset_of!(CK_FUNCTION_LIST_3_2, C_Initialize) == FIRST_SLOT);
    assert!(offset_of!(CK_FUNCTION_LIST_3_2, C_MessageVerifyFinal) == FIRST_SLOT + 91 * PTR);
    assert!(offset_of!(CK_FUNCTION_LIST_3_2, C_EncapsulateKey) == FIRST_SLOT + 92 * PTR);
    assert!(offset_of!(CK_FUNCTION_LIST_3_2, C_UnwrapKeyAuthenticated) == FIRST_SLOT + 103 * PTR);
};

/// The number of function slots of a table of `size` bytes.
fn slots(size: usize) -> usize {
    (size - FIRST_SLOT) / PTR
}

#[test]
fn rule_25_26_function_tables_have_68_92_and_104_slots() {
    // The same facts the const assertions prove, reported for the target at hand.
    let counts = [
        slots(size_of::<CK_FUNCTION_LIST>()),
        slots(size_of::<CK_FUNCTION_LIST_3_0>()),
        slots(size_of::<CK_FUNCTION_LIST_3_2>()),
    ];
    eprintln!(
        "CK_ULONG {UL} bytes, pointers {PTR} bytes, packed: {PACKED}, \
         CK_ATTRIBUTE {} bytes, table slots {counts:?}",
        size_of::<CK_ATTRIBUTE>()
    );
    assert_eq!(counts, [68, 92, 104]);
}
