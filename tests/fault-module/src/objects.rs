//! Objects and their attributes: create, copy, destroy, read and write attributes, find,
//! generate secret keys.
//!
//! Objects are data objects, secret keys, or anything else with a `CKA_CLASS`; values
//! are stored as bytes (nested templates — `CKA_WRAP_TEMPLATE`... — as lists of typed
//! byte strings). Private objects are visible only while the user is logged in; token
//! objects need a read-write session to be created, changed or destroyed; session
//! objects vanish with the session that made them.

use std::collections::{BTreeMap, VecDeque};

use pkcs11_sys::{
    CKA_ALWAYS_AUTHENTICATE, CKA_ALWAYS_SENSITIVE, CKA_CERTIFICATE_TYPE, CKA_CLASS, CKA_COPYABLE,
    CKA_DECRYPT, CKA_DERIVE, CKA_DESTROYABLE, CKA_ENCRYPT, CKA_EXTRACTABLE, CKA_ID,
    CKA_KEY_GEN_MECHANISM, CKA_KEY_TYPE, CKA_LABEL, CKA_LOCAL, CKA_MODIFIABLE,
    CKA_NEVER_EXTRACTABLE, CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN, CKA_SIGN_RECOVER, CKA_TOKEN,
    CKA_TRUSTED, CKA_UNIQUE_ID, CKA_UNWRAP, CKA_VALUE, CKA_VALUE_LEN, CKA_VERIFY,
    CKA_VERIFY_RECOVER, CKA_WRAP, CKA_WRAP_WITH_TRUSTED, CKK_AES, CKK_GENERIC_SECRET,
    CKM_AES_KEY_GEN, CKM_GENERIC_SECRET_KEY_GEN, CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_SECRET_KEY,
    CKR_ACTION_PROHIBITED, CKR_ARGUMENTS_BAD, CKR_ATTRIBUTE_READ_ONLY, CKR_ATTRIBUTE_SENSITIVE,
    CKR_ATTRIBUTE_TYPE_INVALID, CKR_ATTRIBUTE_VALUE_INVALID, CKR_BUFFER_TOO_SMALL,
    CKR_KEY_FUNCTION_NOT_PERMITTED, CKR_KEY_HANDLE_INVALID, CKR_KEY_SIZE_RANGE,
    CKR_KEY_TYPE_INCONSISTENT, CKR_MECHANISM_INVALID, CKR_OBJECT_HANDLE_INVALID,
    CKR_OPERATION_ACTIVE, CKR_OPERATION_NOT_INITIALIZED, CKR_SESSION_READ_ONLY,
    CKR_TEMPLATE_INCOMPLETE, CKR_TEMPLATE_INCONSISTENT, CKR_USER_NOT_LOGGED_IN, CK_ATTRIBUTE,
    CK_ATTRIBUTE_PTR, CK_ATTRIBUTE_TYPE, CK_MECHANISM_PTR, CK_MECHANISM_TYPE, CK_OBJECT_HANDLE,
    CK_OBJECT_HANDLE_PTR, CK_RV, CK_SESSION_HANDLE, CK_SLOT_ID, CK_ULONG, CK_ULONG_PTR,
    CK_UNAVAILABLE_INFORMATION, CK_VOID_PTR,
};

use crate::args::{self, is_array};
use crate::calls::Function;
use crate::entry::{effects, run, Ck};
use crate::out;
use crate::state::{self, OpKind, State};

/// An attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Bytes(Vec<u8>),
    /// A nested template (`CKA_WRAP_TEMPLATE`...).
    Template(Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>),
}

impl Value {
    fn ulong(value: CK_ULONG) -> Value {
        Value::Bytes(value.to_ne_bytes().to_vec())
    }

    fn bool(value: bool) -> Value {
        Value::Bytes(vec![u8::from(value)])
    }

    /// The bytes the value takes.
    fn size(&self) -> usize {
        match self {
            Value::Bytes(bytes) => bytes.len(),
            Value::Template(entries) => entries
                .iter()
                .map(|(_, value)| size_of::<CK_ATTRIBUTE>() + value.len())
                .sum(),
        }
    }
}

/// An object.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    pub(crate) slot: CK_SLOT_ID,
    /// The session that made a session object; `None` for a token object.
    pub(crate) session: Option<CK_SESSION_HANDLE>,
    attributes: BTreeMap<CK_ATTRIBUTE_TYPE, Value>,
}

impl Object {
    /// A byte-string attribute.
    pub(crate) fn bytes(&self, ty: CK_ATTRIBUTE_TYPE) -> Option<&[u8]> {
        match self.attributes.get(&ty)? {
            Value::Bytes(bytes) => Some(bytes),
            Value::Template(_) => None,
        }
    }

    /// A `CK_BBOOL` attribute (false if absent).
    pub(crate) fn flag(&self, ty: CK_ATTRIBUTE_TYPE) -> bool {
        self.bytes(ty)
            .is_some_and(|b| b.first().is_some_and(|&b| b != 0))
    }

    /// A `CK_ULONG` attribute.
    pub(crate) fn ulong(&self, ty: CK_ATTRIBUTE_TYPE) -> Option<CK_ULONG> {
        let bytes = self.bytes(ty)?;
        Some(CK_ULONG::from_ne_bytes(bytes.try_into().ok()?))
    }

    fn is_key(&self) -> bool {
        matches!(
            self.ulong(CKA_CLASS),
            Some(CKO_SECRET_KEY | CKO_PRIVATE_KEY | CKO_PUBLIC_KEY)
        )
    }

    /// Whether attribute `ty` may not be revealed.
    fn is_sensitive(&self, ty: CK_ATTRIBUTE_TYPE) -> bool {
        ty == CKA_VALUE
            && matches!(
                self.ulong(CKA_CLASS),
                Some(CKO_SECRET_KEY | CKO_PRIVATE_KEY)
            )
            && (self.flag(CKA_SENSITIVE) || !self.flag(CKA_EXTRACTABLE))
    }

    /// Whether the object has every attribute of `template` with the same value.
    fn matches(&self, template: &[(CK_ATTRIBUTE_TYPE, Value)]) -> bool {
        template
            .iter()
            .all(|(ty, value)| self.attributes.get(ty) == Some(value))
    }
}

/// `CK_BBOOL` attributes (values must be one byte).
fn is_bool(ty: CK_ATTRIBUTE_TYPE) -> bool {
    matches!(
        ty,
        CKA_TOKEN
            | CKA_PRIVATE
            | CKA_MODIFIABLE
            | CKA_COPYABLE
            | CKA_DESTROYABLE
            | CKA_SENSITIVE
            | CKA_EXTRACTABLE
            | CKA_ENCRYPT
            | CKA_DECRYPT
            | CKA_SIGN
            | CKA_VERIFY
            | CKA_SIGN_RECOVER
            | CKA_VERIFY_RECOVER
            | CKA_WRAP
            | CKA_UNWRAP
            | CKA_DERIVE
            | CKA_LOCAL
            | CKA_ALWAYS_SENSITIVE
            | CKA_NEVER_EXTRACTABLE
            | CKA_TRUSTED
            | CKA_WRAP_WITH_TRUSTED
            | CKA_ALWAYS_AUTHENTICATE
    )
}

/// `CK_ULONG` attributes (values must be `sizeof(CK_ULONG)` bytes).
fn is_ulong(ty: CK_ATTRIBUTE_TYPE) -> bool {
    matches!(
        ty,
        CKA_CLASS | CKA_KEY_TYPE | CKA_VALUE_LEN | CKA_CERTIFICATE_TYPE | CKA_KEY_GEN_MECHANISM
    )
}

/// Checks the size of a value given for `ty`.
fn check_value(ty: CK_ATTRIBUTE_TYPE, value: &Value) -> Ck {
    let ok = match value {
        Value::Bytes(bytes) if is_bool(ty) => bytes.len() == 1,
        Value::Bytes(bytes) if is_ulong(ty) => bytes.len() == size_of::<CK_ULONG>(),
        Value::Bytes(_) => !is_array(ty),
        Value::Template(_) => is_array(ty),
    };
    if ok {
        Ok(())
    } else {
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    }
}

/// Attributes only the token sets.
fn is_token_set(ty: CK_ATTRIBUTE_TYPE) -> bool {
    matches!(
        ty,
        CKA_LOCAL | CKA_ALWAYS_SENSITIVE | CKA_NEVER_EXTRACTABLE | CKA_UNIQUE_ID
    )
}

/// How an object comes to be.
enum Origin {
    /// `C_CreateObject`.
    Created,
    /// `C_GenerateKey` with this mechanism and key type, making this value.
    Generated(CK_MECHANISM_TYPE, CK_ULONG, Vec<u8>),
    /// `C_UnwrapKey`, giving this value.
    Unwrapped(Vec<u8>),
}

/// An object from `template` and its origin, with the defaults filled in.
fn build(
    slot: CK_SLOT_ID,
    template: Vec<(CK_ATTRIBUTE_TYPE, Value)>,
    origin: Origin,
) -> Ck<Object> {
    let mut attributes = BTreeMap::new();
    for (ty, value) in template {
        check_value(ty, &value)?;
        if is_token_set(ty) || ty == CKA_KEY_GEN_MECHANISM {
            return Err(CKR_ATTRIBUTE_READ_ONLY);
        }
        attributes.insert(ty, value);
    }
    let mut object = Object {
        slot,
        session: None,
        attributes,
    };
    let secret = |object: &mut Object, key_type| -> Ck {
        match object.ulong(CKA_CLASS) {
            None | Some(CKO_SECRET_KEY) => {}
            Some(_) => return Err(CKR_TEMPLATE_INCONSISTENT),
        }
        match object.ulong(CKA_KEY_TYPE) {
            None => {}
            Some(given) if Some(given) == key_type || key_type.is_none() => {}
            Some(_) => return Err(CKR_TEMPLATE_INCONSISTENT),
        }
        if object.attributes.contains_key(&CKA_VALUE) {
            return Err(CKR_TEMPLATE_INCONSISTENT);
        }
        object
            .attributes
            .insert(CKA_CLASS, Value::ulong(CKO_SECRET_KEY));
        if let Some(key_type) = key_type {
            object
                .attributes
                .insert(CKA_KEY_TYPE, Value::ulong(key_type));
        }
        Ok(())
    };
    match origin {
        Origin::Created => {
            if object.ulong(CKA_CLASS) == Some(CKO_SECRET_KEY)
                && object.attributes.contains_key(&CKA_VALUE_LEN)
            {
                return Err(CKR_TEMPLATE_INCONSISTENT);
            }
        }
        Origin::Generated(mechanism, key_type, value) => {
            secret(&mut object, Some(key_type))?;
            object.attributes.remove(&CKA_VALUE_LEN);
            object.attributes.insert(CKA_VALUE, Value::Bytes(value));
            object.attributes.insert(CKA_LOCAL, Value::bool(true));
            object
                .attributes
                .insert(CKA_KEY_GEN_MECHANISM, Value::ulong(mechanism));
        }
        Origin::Unwrapped(value) => {
            secret(&mut object, None)?;
            object.attributes.remove(&CKA_VALUE_LEN);
            object.attributes.insert(CKA_VALUE, Value::Bytes(value));
        }
    }
    let class = object.ulong(CKA_CLASS).ok_or(CKR_TEMPLATE_INCOMPLETE)?;
    let key = object.is_key();
    if key && object.ulong(CKA_KEY_TYPE).is_none() {
        return Err(CKR_TEMPLATE_INCOMPLETE);
    }
    let mut default = |ty, value: Value| {
        object.attributes.entry(ty).or_insert(value);
    };
    default(CKA_TOKEN, Value::bool(false));
    default(CKA_PRIVATE, Value::bool(key && class != CKO_PUBLIC_KEY));
    default(CKA_MODIFIABLE, Value::bool(true));
    default(CKA_COPYABLE, Value::bool(true));
    default(CKA_DESTROYABLE, Value::bool(true));
    default(CKA_LABEL, Value::Bytes(Vec::new()));
    if key {
        default(CKA_ID, Value::Bytes(Vec::new()));
        default(CKA_DERIVE, Value::bool(false));
        default(CKA_LOCAL, Value::bool(false));
        default(
            CKA_KEY_GEN_MECHANISM,
            Value::ulong(CK_UNAVAILABLE_INFORMATION),
        );
    }
    if class == CKO_SECRET_KEY {
        if !object.attributes.contains_key(&CKA_VALUE) {
            return Err(CKR_TEMPLATE_INCOMPLETE);
        }
        for usage in [
            CKA_ENCRYPT,
            CKA_DECRYPT,
            CKA_SIGN,
            CKA_VERIFY,
            CKA_WRAP,
            CKA_UNWRAP,
        ] {
            object.attributes.entry(usage).or_insert(Value::bool(true));
        }
        object
            .attributes
            .entry(CKA_SENSITIVE)
            .or_insert(Value::bool(false));
        object
            .attributes
            .entry(CKA_EXTRACTABLE)
            .or_insert(Value::bool(true));
        let local = object.flag(CKA_LOCAL);
        let (sensitive, extractable) = (object.flag(CKA_SENSITIVE), object.flag(CKA_EXTRACTABLE));
        let len = object.bytes(CKA_VALUE).map_or(0, <[u8]>::len) as CK_ULONG;
        object.attributes.insert(CKA_VALUE_LEN, Value::ulong(len));
        object
            .attributes
            .insert(CKA_ALWAYS_SENSITIVE, Value::bool(local && sensitive));
        object
            .attributes
            .insert(CKA_NEVER_EXTRACTABLE, Value::bool(local && !extractable));
    }
    Ok(object)
}

impl State {
    /// Object `h` as session `session` sees it.
    pub(crate) fn visible(
        &mut self,
        session: CK_SESSION_HANDLE,
        h: CK_OBJECT_HANDLE,
    ) -> Ck<&mut Object> {
        let slot = self.session(session)?.slot;
        let user = self.user_logged_in(session)?;
        match self.objects.get_mut(&h) {
            Some(object) if object.slot == slot && (user || !object.flag(CKA_PRIVATE)) => {
                Ok(object)
            }
            _ => Err(CKR_OBJECT_HANDLE_INVALID),
        }
    }

    /// Whether session `session` may make or change an object with these token and
    /// private flags.
    fn may_write(&mut self, session: CK_SESSION_HANDLE, token: bool, private: bool) -> Ck {
        if token && !self.session(session)?.rw {
            return Err(CKR_SESSION_READ_ONLY);
        }
        if private && !self.user_logged_in(session)? {
            return Err(CKR_USER_NOT_LOGGED_IN);
        }
        Ok(())
    }

    /// Stores a new object for session `session`.
    fn add_object(
        &mut self,
        session: CK_SESSION_HANDLE,
        mut object: Object,
    ) -> Ck<CK_OBJECT_HANDLE> {
        self.may_write(session, object.flag(CKA_TOKEN), object.flag(CKA_PRIVATE))?;
        object.session = (!object.flag(CKA_TOKEN)).then_some(session);
        Ok(self.new_object(object))
    }

    /// The value of secret key `key` for an operation needing `usage` (`CKA_SIGN`...).
    pub(crate) fn key(
        &mut self,
        session: CK_SESSION_HANDLE,
        key: CK_OBJECT_HANDLE,
        usage: CK_ATTRIBUTE_TYPE,
    ) -> Ck<Vec<u8>> {
        let key = self.visible(session, key).map_err(|rv| {
            if rv == CKR_OBJECT_HANDLE_INVALID {
                CKR_KEY_HANDLE_INVALID
            } else {
                rv
            }
        })?;
        if key.ulong(CKA_CLASS) != Some(CKO_SECRET_KEY) {
            return Err(CKR_KEY_TYPE_INCONSISTENT);
        }
        if !key.flag(usage) {
            return Err(CKR_KEY_FUNCTION_NOT_PERMITTED);
        }
        match key.bytes(CKA_VALUE) {
            Some(value) if !value.is_empty() => Ok(value.to_vec()),
            _ => Err(CKR_KEY_SIZE_RANGE),
        }
    }

    /// Creates a secret key from an unwrapped value (`C_UnwrapKey`).
    pub(crate) fn unwrapped_key(
        &mut self,
        session: CK_SESSION_HANDLE,
        template: Vec<(CK_ATTRIBUTE_TYPE, Value)>,
        value: Vec<u8>,
    ) -> Ck<CK_OBJECT_HANDLE> {
        let slot = self.session(session)?.slot;
        let object = build(slot, template, Origin::Unwrapped(value))?;
        self.add_object(session, object)
    }

    /// The value of key `key` for `C_WrapKey` (secret keys that may leave the token).
    pub(crate) fn wrappable(
        &mut self,
        session: CK_SESSION_HANDLE,
        key: CK_OBJECT_HANDLE,
    ) -> Ck<Vec<u8>> {
        let key = self.visible(session, key).map_err(|rv| {
            if rv == CKR_OBJECT_HANDLE_INVALID {
                CKR_KEY_HANDLE_INVALID
            } else {
                rv
            }
        })?;
        if key.ulong(CKA_CLASS) != Some(CKO_SECRET_KEY) {
            return Err(pkcs11_sys::CKR_KEY_NOT_WRAPPABLE);
        }
        if !key.flag(CKA_EXTRACTABLE) {
            return Err(pkcs11_sys::CKR_KEY_UNEXTRACTABLE);
        }
        Ok(key.bytes(CKA_VALUE).unwrap_or_default().to_vec())
    }
}

/// `C_CreateObject`.
pub(crate) unsafe extern "C" fn create_object(
    h: CK_SESSION_HANDLE,
    p_template: CK_ATTRIBUTE_PTR,
    count: CK_ULONG,
    ph_object: CK_OBJECT_HANDLE_PTR,
) -> CK_RV {
    run(Function::CreateObject, Some(h), || {
        state::with(|state| {
            let slot = state.session(h)?.slot;
            // SAFETY: the caller's template.
            let template = unsafe { args::template(p_template, count) }?;
            if ph_object.is_null() {
                return Err(CKR_ARGUMENTS_BAD);
            }
            let object = build(slot, template, Origin::Created)?;
            let handle = state.add_object(h, object)?;
            // SAFETY: non-NULL (checked) and writable (the caller's contract).
            unsafe { out::value(handle, ph_object) }
        })
    })
}

/// `C_CopyObject`: the copy may change `CKA_TOKEN`, `CKA_PRIVATE`, `CKA_MODIFIABLE`,
/// `CKA_DESTROYABLE`, `CKA_LABEL`, `CKA_ID`, and make a key more protected.
pub(crate) unsafe extern "C" fn copy_object(
    h: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
    p_template: CK_ATTRIBUTE_PTR,
    count: CK_ULONG,
    ph_new: CK_OBJECT_HANDLE_PTR,
) -> CK_RV {
    run(Function::CopyObject, Some(h), || {
        state::with(|state| {
            // SAFETY: the caller's template.
            let template = unsafe { args::template(p_template, count) }?;
            let mut copy = state.visible(h, h_object)?.clone();
            if !copy.flag(CKA_COPYABLE) {
                return Err(CKR_ACTION_PROHIBITED);
            }
            if ph_new.is_null() {
                return Err(CKR_ARGUMENTS_BAD);
            }
            for (ty, value) in template {
                check_value(ty, &value)?;
                let allowed = match ty {
                    CKA_TOKEN | CKA_PRIVATE | CKA_MODIFIABLE | CKA_DESTROYABLE | CKA_LABEL
                    | CKA_ID => true,
                    CKA_SENSITIVE => value == Value::bool(true) || !copy.flag(CKA_SENSITIVE),
                    CKA_EXTRACTABLE => value == Value::bool(false) || copy.flag(CKA_EXTRACTABLE),
                    _ => false,
                };
                if !allowed {
                    return Err(CKR_ATTRIBUTE_READ_ONLY);
                }
                copy.attributes.insert(ty, value);
            }
            let handle = state.add_object(h, copy)?;
            // SAFETY: non-NULL (checked) and writable (the caller's contract).
            unsafe { out::value(handle, ph_new) }
        })
    })
}

/// `C_DestroyObject`.
pub(crate) unsafe extern "C" fn destroy_object(
    h: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
) -> CK_RV {
    run(Function::DestroyObject, Some(h), || {
        state::with(|state| {
            let object = state.visible(h, h_object)?;
            let (token, private) = (object.flag(CKA_TOKEN), object.flag(CKA_PRIVATE));
            if !object.flag(CKA_DESTROYABLE) {
                return Err(CKR_ACTION_PROHIBITED);
            }
            state.may_write(h, token, private)?;
            state.objects.remove(&h_object);
            Ok(())
        })
    })
}

/// `C_GetObjectSize`: the bytes of all values.
pub(crate) unsafe extern "C" fn get_object_size(
    h: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
    pul_size: CK_ULONG_PTR,
) -> CK_RV {
    run(Function::GetObjectSize, Some(h), || {
        state::with(|state| {
            let object = state.visible(h, h_object)?;
            let size: usize = object.attributes.values().map(Value::size).sum();
            // SAFETY: NULL or writable (the caller's contract).
            unsafe { out::value(out::reported(size as CK_ULONG), pul_size) }
        })
    })
}

/// `C_SetAttributeValue`: all or nothing.
pub(crate) unsafe extern "C" fn set_attribute_value(
    h: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
    p_template: CK_ATTRIBUTE_PTR,
    count: CK_ULONG,
) -> CK_RV {
    run(Function::SetAttributeValue, Some(h), || {
        state::with(|state| {
            // SAFETY: the caller's template.
            let template = unsafe { args::template(p_template, count) }?;
            let object = state.visible(h, h_object)?;
            let (token, private) = (object.flag(CKA_TOKEN), object.flag(CKA_PRIVATE));
            if !object.flag(CKA_MODIFIABLE) {
                return Err(CKR_ACTION_PROHIBITED);
            }
            let mut changed = object.clone();
            for (ty, value) in template {
                check_value(ty, &value)?;
                let allowed = match ty {
                    CKA_CLASS
                    | CKA_KEY_TYPE
                    | CKA_VALUE_LEN
                    | CKA_TOKEN
                    | CKA_PRIVATE
                    | CKA_MODIFIABLE
                    | CKA_COPYABLE
                    | CKA_KEY_GEN_MECHANISM => false,
                    CKA_VALUE => !changed.is_key(),
                    CKA_SENSITIVE => value == Value::bool(true) || !changed.flag(CKA_SENSITIVE),
                    CKA_EXTRACTABLE => value == Value::bool(false) || changed.flag(CKA_EXTRACTABLE),
                    ty => !is_token_set(ty),
                };
                if !allowed {
                    return Err(CKR_ATTRIBUTE_READ_ONLY);
                }
                changed.attributes.insert(ty, value);
            }
            state.may_write(h, token, private)?;
            state.objects.insert(h_object, changed);
            Ok(())
        })
    })
}

/// `C_GetAttributeValue`, exactly as PKCS #11 describes it: per attribute, a sensitive
/// or absent attribute gets `CK_UNAVAILABLE_INFORMATION`, a NULL `pValue` gets the
/// length, a large enough buffer the value, a small one `CK_UNAVAILABLE_INFORMATION`;
/// the call answers `CKR_ATTRIBUTE_SENSITIVE`, `CKR_ATTRIBUTE_TYPE_INVALID` or
/// `CKR_BUFFER_TOO_SMALL` (in that order of precedence) if any attribute had that fate.
///
/// Nested templates (`CKA_WRAP_TEMPLATE`...) are filled entry by entry the same way.
/// Plan actions `len`, `nowrite` and `garbage` apply to every attribute, or to the one
/// named by `attr`; `garbage` on a nested template points its entries' `pValue` at the
/// module's own memory.
pub(crate) unsafe extern "C" fn get_attribute_value(
    h: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
    p_template: CK_ATTRIBUTE_PTR,
    count: CK_ULONG,
) -> CK_RV {
    run(Function::GetAttributeValue, Some(h), || {
        state::with(|state| {
            let object = state.visible(h, h_object)?;
            // SAFETY: the caller's template.
            let entries = unsafe { args::attributes(p_template, count) }?;
            let mut worst: [bool; 3] = [false; 3]; // sensitive, invalid, too small
            for (index, mut entry) in entries.into_iter().enumerate() {
                let ty = entry.type_;
                let faults = Faults::for_attribute(ty);
                let status = if object.is_sensitive(ty) {
                    entry.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    Some(CKR_ATTRIBUTE_SENSITIVE)
                } else {
                    match object.attributes.get(&ty) {
                        None => {
                            entry.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                            Some(CKR_ATTRIBUTE_TYPE_INVALID)
                        }
                        // SAFETY: `entry` is the caller's, with its buffer.
                        Some(value) => unsafe { fill(&mut entry, value, faults) },
                    }
                };
                match status {
                    Some(CKR_ATTRIBUTE_SENSITIVE) => worst[0] = true,
                    Some(CKR_ATTRIBUTE_TYPE_INVALID) => worst[1] = true,
                    Some(_) => worst[2] = true,
                    None => {}
                }
                if !faults.nowrite {
                    // SAFETY: `index < count` entries of the caller's writable template.
                    unsafe { p_template.add(index).write_unaligned(entry) };
                }
            }
            match worst {
                [true, _, _] => Err(CKR_ATTRIBUTE_SENSITIVE),
                [_, true, _] => Err(CKR_ATTRIBUTE_TYPE_INVALID),
                [_, _, true] => Err(CKR_BUFFER_TOO_SMALL),
                _ => Ok(()),
            }
        })
    })
}

/// The plan's faults for one attribute.
#[derive(Clone, Copy)]
struct Faults {
    lie: Option<crate::plan::Lie>,
    hit: u64,
    nowrite: bool,
    garbage: bool,
}

impl Faults {
    fn for_attribute(ty: CK_ATTRIBUTE_TYPE) -> Faults {
        let effects = effects();
        let actions = effects.actions;
        let applies = actions.attr.is_none_or(|attr| attr == ty);
        Faults {
            lie: actions.len.filter(|_| applies),
            hit: effects.hit,
            nowrite: applies && actions.nowrite,
            garbage: applies && actions.garbage,
        }
    }

    fn reported(self, truth: usize) -> CK_ULONG {
        let truth = truth as CK_ULONG;
        self.lie.map_or(truth, |lie| lie.apply(truth, self.hit))
    }

    fn needed(self, truth: usize) -> CK_ULONG {
        match self.lie {
            Some(crate::plan::Lie::Grow) => self.reported(truth),
            _ => truth as CK_ULONG,
        }
    }
}

/// Memory of the module that `garbage` points nested entries at.
static FOREIGN: [u8; 64] = [0x5a; 64];

/// Fills one attribute entry with `value`; the per-attribute status, if not OK.
///
/// # Safety
/// `entry.pValue` is NULL or valid for writing `entry.ulValueLen` bytes (for a nested
/// template: that many bytes of `CK_ATTRIBUTE`s, each with its own buffer likewise).
unsafe fn fill(entry: &mut CK_ATTRIBUTE, value: &Value, faults: Faults) -> Option<CK_RV> {
    let room = entry.ulValueLen;
    match value {
        Value::Bytes(bytes) => {
            if entry.pValue.is_null() {
                entry.ulValueLen = faults.reported(bytes.len());
                return None;
            }
            if room < faults.needed(bytes.len()) {
                entry.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                return Some(CKR_BUFFER_TOO_SMALL);
            }
            if !faults.nowrite {
                let data = if faults.garbage {
                    out::garbage(bytes.len())
                } else {
                    bytes.clone()
                };
                // SAFETY: room for `room >= bytes.len()` bytes (the caller's contract).
                unsafe {
                    core::ptr::copy_nonoverlapping(data.as_ptr(), entry.pValue.cast(), data.len())
                };
            }
            entry.ulValueLen = faults.reported(bytes.len());
            None
        }
        Value::Template(nested) => {
            let size = nested.len() * size_of::<CK_ATTRIBUTE>();
            if entry.pValue.is_null() {
                entry.ulValueLen = faults.reported(size);
                return None;
            }
            if room < size as CK_ULONG {
                entry.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                return Some(CKR_BUFFER_TOO_SMALL);
            }
            let inner = entry.pValue.cast::<CK_ATTRIBUTE>();
            let mut status = None;
            for (index, (ty, bytes)) in nested.iter().enumerate() {
                // SAFETY: room for `nested.len()` entries (checked above).
                let mut item = unsafe { inner.add(index).read_unaligned() };
                item.type_ = *ty;
                if faults.garbage {
                    item.pValue = FOREIGN.as_ptr().cast_mut() as CK_VOID_PTR;
                    item.ulValueLen = bytes.len() as CK_ULONG;
                } else if item.pValue.is_null() {
                    item.ulValueLen = bytes.len() as CK_ULONG;
                } else if item.ulValueLen < bytes.len() as CK_ULONG {
                    item.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    status = Some(CKR_BUFFER_TOO_SMALL);
                } else {
                    if !faults.nowrite {
                        // SAFETY: the entry's buffer holds `ulValueLen >= len` bytes.
                        unsafe {
                            core::ptr::copy_nonoverlapping(
                                bytes.as_ptr(),
                                item.pValue.cast(),
                                bytes.len(),
                            )
                        };
                    }
                    item.ulValueLen = bytes.len() as CK_ULONG;
                }
                if !faults.nowrite {
                    // SAFETY: as above.
                    unsafe { inner.add(index).write_unaligned(item) };
                }
            }
            entry.ulValueLen = faults.reported(size);
            status
        }
    }
}

/// `C_FindObjectsInit`: the matching objects are found now and handed out by
/// `C_FindObjects`.
pub(crate) unsafe extern "C" fn find_objects_init(
    h: CK_SESSION_HANDLE,
    p_template: CK_ATTRIBUTE_PTR,
    count: CK_ULONG,
) -> CK_RV {
    run(Function::FindObjectsInit, Some(h), || {
        state::with(|state| {
            if state.session(h)?.ops.find.is_some() {
                return Err(CKR_OPERATION_ACTIVE);
            }
            // SAFETY: the caller's template.
            let template = unsafe { args::template(p_template, count) }?;
            let slot = state.session(h)?.slot;
            let user = state.user_logged_in(h)?;
            let found = state
                .objects
                .iter()
                .filter(|(_, o)| o.slot == slot && (user || !o.flag(CKA_PRIVATE)))
                .filter(|(_, o)| o.matches(&template))
                .map(|(&handle, _)| handle)
                .collect();
            state.session(h)?.ops.find = Some(found);
            Ok(())
        })
    })
}

/// `C_FindObjects`: up to `max` handles.
pub(crate) unsafe extern "C" fn find_objects(
    h: CK_SESSION_HANDLE,
    ph_object: CK_OBJECT_HANDLE_PTR,
    max: CK_ULONG,
    pul_count: CK_ULONG_PTR,
) -> CK_RV {
    run(Function::FindObjects, Some(h), || {
        state::with(|state| {
            let found: &mut VecDeque<CK_OBJECT_HANDLE> = state
                .session(h)?
                .ops
                .find
                .as_mut()
                .ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
            if pul_count.is_null() || (ph_object.is_null() && max > 0) {
                return Err(CKR_ARGUMENTS_BAD);
            }
            let n = found.len().min(args::size(max)?);
            let batch: Vec<_> = found.drain(..n).collect();
            if !out::nowrite() {
                for (index, handle) in batch.iter().enumerate() {
                    // SAFETY: room for `max >= n` handles (the caller's contract).
                    unsafe { ph_object.add(index).write_unaligned(*handle) };
                }
            }
            // SAFETY: non-NULL (checked), writable (the caller's contract).
            unsafe { out::value(out::reported(n as CK_ULONG), pul_count) }
        })
    })
}

/// `C_FindObjectsFinal`.
pub(crate) unsafe extern "C" fn find_objects_final(h: CK_SESSION_HANDLE) -> CK_RV {
    run(Function::FindObjectsFinal, Some(h), || {
        state::with(|state| {
            let session = state.session(h)?;
            if session.ops.find.is_none() {
                return Err(CKR_OPERATION_NOT_INITIALIZED);
            }
            session.ops.end(OpKind::Find);
            Ok(())
        })
    })
}

/// `C_GenerateKey`: `CKM_GENERIC_SECRET_KEY_GEN` (any `CKA_VALUE_LEN` from 1 to 512) and
/// `CKM_AES_KEY_GEN` (16, 24 or 32), with bytes from the module's generator.
pub(crate) unsafe extern "C" fn generate_key(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
    p_template: CK_ATTRIBUTE_PTR,
    count: CK_ULONG,
    ph_key: CK_OBJECT_HANDLE_PTR,
) -> CK_RV {
    run(Function::GenerateKey, Some(h), || {
        state::with(|state| {
            let slot = state.session(h)?.slot;
            // SAFETY: the caller's mechanism.
            let mechanism = unsafe { args::mechanism(p_mechanism) }?.ok_or(CKR_ARGUMENTS_BAD)?;
            // SAFETY: the caller's template.
            let template = unsafe { args::template(p_template, count) }?;
            if ph_key.is_null() {
                return Err(CKR_ARGUMENTS_BAD);
            }
            let len = template
                .iter()
                .find(|(ty, _)| *ty == CKA_VALUE_LEN)
                .map(|(_, value)| {
                    check_value(CKA_VALUE_LEN, value)?;
                    match value {
                        Value::Bytes(bytes) => Ok(CK_ULONG::from_ne_bytes(
                            bytes
                                .as_slice()
                                .try_into()
                                .map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?,
                        )),
                        Value::Template(_) => Err(CKR_ATTRIBUTE_VALUE_INVALID),
                    }
                })
                .transpose()?
                .ok_or(CKR_TEMPLATE_INCOMPLETE)?;
            let key_type = match mechanism {
                CKM_GENERIC_SECRET_KEY_GEN if (1..=512).contains(&len) => CKK_GENERIC_SECRET,
                CKM_AES_KEY_GEN if matches!(len, 16 | 24 | 32) => CKK_AES,
                CKM_GENERIC_SECRET_KEY_GEN | CKM_AES_KEY_GEN => return Err(CKR_KEY_SIZE_RANGE),
                _ => return Err(CKR_MECHANISM_INVALID),
            };
            let value = crate::crypto::random_bytes(state, len as usize);
            let object = build(
                slot,
                template,
                Origin::Generated(mechanism, key_type, value),
            )?;
            let handle = state.add_object(h, object)?;
            // SAFETY: non-NULL (checked) and writable (the caller's contract).
            unsafe { out::value(handle, ph_key) }
        })
    })
}

/// `C_GenerateKeyPair`: no mechanism makes key pairs here.
pub(crate) unsafe extern "C" fn generate_key_pair(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
    _public_template: CK_ATTRIBUTE_PTR,
    _public_count: CK_ULONG,
    _private_template: CK_ATTRIBUTE_PTR,
    _private_count: CK_ULONG,
    _ph_public: CK_OBJECT_HANDLE_PTR,
    _ph_private: CK_OBJECT_HANDLE_PTR,
) -> CK_RV {
    run(Function::GenerateKeyPair, Some(h), || {
        state::with(|state| {
            state.session(h)?;
            if p_mechanism.is_null() {
                return Err(CKR_ARGUMENTS_BAD);
            }
            Err(CKR_MECHANISM_INVALID)
        })
    })
}
