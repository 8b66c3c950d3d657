//! Object functions: create, copy, destroy, set attributes, size, search, and key
//! generation. Templates are [`InTemplate`]s, whose values stay valid for the call.

use ffi::{CK_OBJECT_HANDLE, CK_SESSION_HANDLE, CK_ULONG};

use crate::context::Inner;
use crate::error::Result;
use crate::mechanism::Mechanism;
use crate::raw::attribute::InTemplate;
use crate::raw::{call, Returned};

/// `C_CreateObject`, writing the new handle to `object`.
pub(crate) fn create_object(
    inner: &Inner,
    session: CK_SESSION_HANDLE,
    template: &mut InTemplate<'_>,
    object: &mut CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let (pointer, count) = template.as_ck();
    // SAFETY: `pointer` holds `count` attributes whose values are valid for their
    // lengths until `template` is next used (after the call); `object` is writable.
    unsafe { call!(inner, C_CreateObject(session, pointer, count, object)) }
}

/// `C_CopyObject`, writing the copy's handle to `copy`.
pub(crate) fn copy_object(
    inner: &Inner,
    session: CK_SESSION_HANDLE,
    object: CK_OBJECT_HANDLE,
    template: &mut InTemplate<'_>,
    copy: &mut CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let (pointer, count) = template.as_ck();
    // SAFETY: as for `create_object`.
    unsafe { call!(inner, C_CopyObject(session, object, pointer, count, copy)) }
}

/// `C_DestroyObject`.
pub(crate) fn destroy_object(
    inner: &Inner,
    session: CK_SESSION_HANDLE,
    object: CK_OBJECT_HANDLE,
) -> Result<Returned> {
    // SAFETY: plain values only.
    unsafe { call!(inner, C_DestroyObject(session, object)) }
}

/// `C_SetAttributeValue`.
pub(crate) fn set_attribute_value(
    inner: &Inner,
    session: CK_SESSION_HANDLE,
    object: CK_OBJECT_HANDLE,
    template: &mut InTemplate<'_>,
) -> Result<Returned> {
    let (pointer, count) = template.as_ck();
    // SAFETY: `pointer` holds `count` attributes whose values are valid for their
    // lengths until `template` is next used (after the call).
    unsafe { call!(inner, C_SetAttributeValue(session, object, pointer, count)) }
}

/// `C_GetObjectSize`, writing the size to `size`.
pub(crate) fn get_object_size(
    inner: &Inner,
    session: CK_SESSION_HANDLE,
    object: CK_OBJECT_HANDLE,
    size: &mut CK_ULONG,
) -> Result<Returned> {
    // SAFETY: `size` is writable.
    unsafe { call!(inner, C_GetObjectSize(session, object, size)) }
}

/// `C_FindObjectsInit`. The module reads the template during the call only.
pub(crate) fn find_objects_init(
    inner: &Inner,
    session: CK_SESSION_HANDLE,
    template: &mut InTemplate<'_>,
) -> Result<Returned> {
    let (pointer, count) = template.as_ck();
    // SAFETY: `pointer` holds `count` attributes whose values are valid for their
    // lengths until `template` is next used (after the call).
    unsafe { call!(inner, C_FindObjectsInit(session, pointer, count)) }
}

/// `C_FindObjects` into `found`, writing the number found to `count`.
pub(crate) fn find_objects(
    inner: &Inner,
    session: CK_SESSION_HANDLE,
    found: &mut [CK_OBJECT_HANDLE],
    count: &mut CK_ULONG,
) -> Result<Returned> {
    let max = found.len() as CK_ULONG;
    let pointer = found.as_mut_ptr();
    // SAFETY: `pointer` has room for `max` handles; `count` is writable.
    unsafe { call!(inner, C_FindObjects(session, pointer, max, count)) }
}

/// `C_FindObjectsFinal`.
pub(crate) fn find_objects_final(inner: &Inner, session: CK_SESSION_HANDLE) -> Result<Returned> {
    // SAFETY: plain values only.
    unsafe { call!(inner, C_FindObjectsFinal(session)) }
}

/// `C_GenerateKey`, writing the key's handle to `key`.
pub(crate) fn generate_key(
    inner: &Inner,
    session: CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    template: &mut InTemplate<'_>,
    key: &mut CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let mut ck_mechanism = mechanism.to_ck();
    let (pointer, count) = template.as_ck();
    // SAFETY: `ck_mechanism`'s parameter points into `mechanism`, borrowed for the call;
    // `pointer` holds `count` attributes valid until `template` is next used; `key` is
    // writable.
    unsafe {
        call!(
            inner,
            C_GenerateKey(session, &mut ck_mechanism, pointer, count, key)
        )
    }
}

/// `C_GenerateKeyPair`, writing the keys' handles to `public_key` and `private_key`.
pub(crate) fn generate_key_pair(
    inner: &Inner,
    session: CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    public: &mut InTemplate<'_>,
    private: &mut InTemplate<'_>,
    public_key: &mut CK_OBJECT_HANDLE,
    private_key: &mut CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let mut ck_mechanism = mechanism.to_ck();
    let (public_pointer, public_count) = public.as_ck();
    let (private_pointer, private_count) = private.as_ck();
    // SAFETY: as for `generate_key`, with two templates and two writable handles.
    unsafe {
        call!(
            inner,
            C_GenerateKeyPair(
                session,
                &mut ck_mechanism,
                public_pointer,
                public_count,
                private_pointer,
                private_count,
                public_key,
                private_key
            )
        )
    }
}
