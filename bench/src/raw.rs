//! The baseline: direct calls through the `pkcs11-sys` function table, written the way a
//! C program calls a module — the function pointer from the table, stack buffers sized
//! for the known output, one call where the output size is known, no allocation.

use std::path::Path;

use pkcs11_sys as ffi;
use pkcs11_sys::{
    CK_ATTRIBUTE, CK_BBOOL, CK_FUNCTION_LIST, CK_MECHANISM, CK_OBJECT_HANDLE, CK_RV,
    CK_SESSION_HANDLE, CK_SLOT_ID, CK_ULONG,
};

/// Calls `C_Name` through the table: `ck!(raw, C_Digest(args...))`. Must be used inside
/// `unsafe { }`: the caller vouches for the arguments. A NULL slot panics (the
/// benchmarks only use functions every module has).
macro_rules! ck {
    ($raw:expr, $function:ident($($arg:expr),* $(,)?)) => {
        ($raw.table.$function.expect(concat!(stringify!($function), " is NULL")))($($arg),*)
    };
}

/// Panics unless `rv` is `CKR_OK` (the benchmarks never expect an error).
#[inline(always)]
fn check(rv: CK_RV, function: &str) {
    if rv != ffi::CKR_OK {
        fail(rv, function);
    }
}

#[cold]
#[inline(never)]
fn fail(rv: CK_RV, function: &str) -> ! {
    panic!(
        "{function}: {} (0x{rv:08X})",
        ffi::ckr_name(rv).unwrap_or("unknown CKR")
    )
}

/// The module loaded a second time through `pkcs11_sys::Module` (the same library
/// handle, so the same initialized module), with its 2.x function table copied out.
pub struct Raw {
    _module: ffi::Module,
    table: ffi::Functions<CK_FUNCTION_LIST>,
    /// The slot the token is in.
    pub slot: CK_SLOT_ID,
    /// The session the single-threaded benchmarks use.
    pub session: CK_SESSION_HANDLE,
}

/// The largest value the attribute reads expect for a variable-length attribute.
pub const VALUE_ROOM: usize = 64;

impl Raw {
    /// Loads `path` (already initialized by the safe crate in this process) and opens a
    /// read-write session on `slot`.
    ///
    /// # Panics
    /// If the module does not load or the session does not open.
    pub fn new(path: &Path, slot: CK_SLOT_ID) -> Raw {
        let module = ffi::Module::load(path)
            .unwrap_or_else(|e| panic!("pkcs11_sys::Module::load({}): {e}", path.display()));
        let table = module.functions().clone();
        let mut raw = Raw {
            _module: module,
            table,
            slot,
            session: ffi::CK_INVALID_HANDLE,
        };
        raw.session = raw.open_session();
        raw
    }

    /// `C_OpenSession` (read-write, serial, no callback).
    pub fn open_session(&self) -> CK_SESSION_HANDLE {
        let mut h: CK_SESSION_HANDLE = ffi::CK_INVALID_HANDLE;
        let flags = ffi::CKF_SERIAL_SESSION | ffi::CKF_RW_SESSION;
        // SAFETY: NULL application data and callback are allowed; `h` is writable.
        let rv = unsafe {
            ck!(
                self,
                C_OpenSession(self.slot, flags, std::ptr::null_mut(), None, &mut h)
            )
        };
        check(rv, "C_OpenSession");
        h
    }

    /// `C_CloseSession`.
    pub fn close_session(&self, h: CK_SESSION_HANDLE) {
        // SAFETY: a plain handle.
        let rv = unsafe { ck!(self, C_CloseSession(h)) };
        check(rv, "C_CloseSession");
    }

    /// `C_GenerateRandom` into `out`.
    #[inline(never)]
    pub fn random(&self, h: CK_SESSION_HANDLE, out: &mut [u8]) {
        // SAFETY: `out` is writable for its length.
        let rv = unsafe {
            ck!(
                self,
                C_GenerateRandom(h, out.as_mut_ptr(), out.len() as CK_ULONG)
            )
        };
        check(rv, "C_GenerateRandom");
    }

    /// `C_DigestInit` + `C_Digest` with `mechanism` (no parameter) into `out` (one call:
    /// the digest size is known).
    #[inline(never)]
    pub fn digest(
        &self,
        h: CK_SESSION_HANDLE,
        mechanism: ffi::CK_MECHANISM_TYPE,
        data: &[u8],
        out: &mut [u8],
    ) -> usize {
        let mut mech = CK_MECHANISM {
            mechanism,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        let mut len = out.len() as CK_ULONG;
        // SAFETY: `mech` is a valid mechanism without parameter; `data` is readable and
        // `out` writable for their lengths; `len` is writable.
        unsafe {
            check(ck!(self, C_DigestInit(h, &mut mech)), "C_DigestInit");
            check(
                ck!(
                    self,
                    C_Digest(
                        h,
                        data.as_ptr().cast_mut(),
                        data.len() as CK_ULONG,
                        out.as_mut_ptr(),
                        &mut len
                    )
                ),
                "C_Digest",
            );
        }
        len as usize
    }

    /// `C_EncryptInit` + `C_Encrypt` with AES-GCM (`iv`, no AAD, 128-bit tag) into `out`.
    #[inline(never)]
    pub fn encrypt_gcm(
        &self,
        h: CK_SESSION_HANDLE,
        key: CK_OBJECT_HANDLE,
        iv: &[u8],
        data: &[u8],
        out: &mut [u8],
    ) -> usize {
        let mut params = ffi::CK_GCM_PARAMS {
            pIv: iv.as_ptr().cast_mut(),
            ulIvLen: iv.len() as CK_ULONG,
            ulIvBits: (iv.len() * 8) as CK_ULONG,
            pAAD: std::ptr::null_mut(),
            ulAADLen: 0,
            ulTagBits: 128,
        };
        let mut mech = CK_MECHANISM {
            mechanism: ffi::CKM_AES_GCM,
            pParameter: std::ptr::addr_of_mut!(params).cast(),
            ulParameterLen: std::mem::size_of::<ffi::CK_GCM_PARAMS>() as CK_ULONG,
        };
        let mut len = out.len() as CK_ULONG;
        // SAFETY: `mech` points at `params`, which points at `iv`, all alive for the
        // operation (init and the single-part call); `data` is readable and `out`
        // writable for their lengths.
        unsafe {
            check(ck!(self, C_EncryptInit(h, &mut mech, key)), "C_EncryptInit");
            check(
                ck!(
                    self,
                    C_Encrypt(
                        h,
                        data.as_ptr().cast_mut(),
                        data.len() as CK_ULONG,
                        out.as_mut_ptr(),
                        &mut len
                    )
                ),
                "C_Encrypt",
            );
        }
        len as usize
    }

    /// `C_SignInit` + `C_Sign` with `mechanism` (no parameter) into `out`.
    #[inline(never)]
    pub fn sign(
        &self,
        h: CK_SESSION_HANDLE,
        mechanism: ffi::CK_MECHANISM_TYPE,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        out: &mut [u8],
    ) -> usize {
        let mut mech = CK_MECHANISM {
            mechanism,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        let mut len = out.len() as CK_ULONG;
        // SAFETY: as `digest`.
        unsafe {
            check(ck!(self, C_SignInit(h, &mut mech, key)), "C_SignInit");
            check(
                ck!(
                    self,
                    C_Sign(
                        h,
                        data.as_ptr().cast_mut(),
                        data.len() as CK_ULONG,
                        out.as_mut_ptr(),
                        &mut len
                    )
                ),
                "C_Sign",
            );
        }
        len as usize
    }

    /// The objects whose `CKA_LABEL` is `label`: `C_FindObjectsInit`, `C_FindObjects`
    /// into a stack array until it returns none, `C_FindObjectsFinal`. Returns how many
    /// and the first handle.
    #[inline(never)]
    pub fn find_by_label(&self, h: CK_SESSION_HANDLE, label: &[u8]) -> (usize, CK_OBJECT_HANDLE) {
        let mut template = [CK_ATTRIBUTE {
            type_: ffi::CKA_LABEL,
            pValue: label.as_ptr().cast_mut().cast(),
            ulValueLen: label.len() as CK_ULONG,
        }];
        let mut handles = [ffi::CK_INVALID_HANDLE; 16];
        let mut total = 0;
        let mut first = ffi::CK_INVALID_HANDLE;
        // SAFETY: the template points at `label` for the call; `handles` has room for
        // the count given; `count` is writable.
        unsafe {
            check(
                ck!(self, C_FindObjectsInit(h, template.as_mut_ptr(), 1)),
                "C_FindObjectsInit",
            );
            loop {
                let mut count: CK_ULONG = 0;
                check(
                    ck!(
                        self,
                        C_FindObjects(
                            h,
                            handles.as_mut_ptr(),
                            handles.len() as CK_ULONG,
                            &mut count
                        )
                    ),
                    "C_FindObjects",
                );
                if count == 0 {
                    break;
                }
                if total == 0 {
                    first = handles[0];
                }
                total += count as usize;
            }
            check(ck!(self, C_FindObjectsFinal(h)), "C_FindObjectsFinal");
        }
        (total, first)
    }

    /// `CKA_CLASS`, `CKA_LABEL` and `CKA_ID` of `object` in one call (stack buffers of
    /// [`VALUE_ROOM`] bytes for the label and ID). Returns the class and both lengths.
    #[inline(never)]
    pub fn read3(
        &self,
        h: CK_SESSION_HANDLE,
        object: CK_OBJECT_HANDLE,
    ) -> (CK_ULONG, usize, usize) {
        let mut class: CK_ULONG = 0;
        let mut label = [0u8; VALUE_ROOM];
        let mut id = [0u8; VALUE_ROOM];
        let mut template = [
            attribute(
                ffi::CKA_CLASS,
                std::ptr::addr_of_mut!(class).cast(),
                ulong_size(),
            ),
            attribute(ffi::CKA_LABEL, label.as_mut_ptr().cast(), VALUE_ROOM),
            attribute(ffi::CKA_ID, id.as_mut_ptr().cast(), VALUE_ROOM),
        ];
        // SAFETY: every entry points at a writable buffer of the length it gives.
        let rv = unsafe {
            ck!(
                self,
                C_GetAttributeValue(h, object, template.as_mut_ptr(), template.len() as CK_ULONG)
            )
        };
        check(rv, "C_GetAttributeValue");
        (
            class,
            template[1].ulValueLen as usize,
            template[2].ulValueLen as usize,
        )
    }

    /// The public attributes of a data object ([`crate::DATA_ATTRIBUTES`]) in one call:
    /// fixed-size ones into their variables, variable ones into [`VALUE_ROOM`]-byte
    /// stack buffers. Returns the sum of the variable lengths.
    #[inline(never)]
    pub fn read_data_object(&self, h: CK_SESSION_HANDLE, object: CK_OBJECT_HANDLE) -> usize {
        let mut class: CK_ULONG = 0;
        let (mut token, mut private, mut modifiable): (CK_BBOOL, CK_BBOOL, CK_BBOOL) = (0, 0, 0);
        let mut label = [0u8; VALUE_ROOM];
        let mut application = [0u8; VALUE_ROOM];
        let mut value = [0u8; VALUE_ROOM];
        let b = std::mem::size_of::<CK_BBOOL>();
        let mut template = [
            attribute(
                ffi::CKA_CLASS,
                std::ptr::addr_of_mut!(class).cast(),
                ulong_size(),
            ),
            attribute(ffi::CKA_TOKEN, std::ptr::addr_of_mut!(token).cast(), b),
            attribute(ffi::CKA_PRIVATE, std::ptr::addr_of_mut!(private).cast(), b),
            attribute(
                ffi::CKA_MODIFIABLE,
                std::ptr::addr_of_mut!(modifiable).cast(),
                b,
            ),
            attribute(ffi::CKA_LABEL, label.as_mut_ptr().cast(), VALUE_ROOM),
            attribute(
                ffi::CKA_APPLICATION,
                application.as_mut_ptr().cast(),
                VALUE_ROOM,
            ),
            attribute(ffi::CKA_VALUE, value.as_mut_ptr().cast(), VALUE_ROOM),
        ];
        // SAFETY: every entry points at a writable buffer of the length it gives.
        let rv = unsafe {
            ck!(
                self,
                C_GetAttributeValue(h, object, template.as_mut_ptr(), template.len() as CK_ULONG)
            )
        };
        check(rv, "C_GetAttributeValue");
        std::hint::black_box((class, token, private, modifiable));
        template[4..].iter().map(|a| a.ulValueLen as usize).sum()
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: a plain handle; errors do not matter at exit.
        let _ = unsafe { ck!(self, C_CloseSession(self.session)) };
    }
}

fn ulong_size() -> usize {
    std::mem::size_of::<CK_ULONG>()
}

fn attribute(
    type_: ffi::CK_ATTRIBUTE_TYPE,
    value: *mut std::ffi::c_void,
    len: usize,
) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_,
        pValue: value,
        ulValueLen: len as CK_ULONG,
    }
}
