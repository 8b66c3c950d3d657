//! Objects on a token: search, create, copy, destroy, attributes, size.
//!
//! ```no_run
//! use pkcs11::{Attribute, AttributeType, ObjectClass, Pin, Pkcs11, UserType};
//!
//! let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
//! let slot = p11.slots_with_token()?.remove(0);
//! let session = slot.open_rw_session()?;
//! session.login(UserType::User, &Pin::from("1234"))?;
//! for object in session.find(&[Attribute::Class(ObjectClass::PrivateKey)])? {
//!     let label = session.get_attribute(object?, AttributeType::Label)?;
//!     println!("{:?}", label.as_str());
//! }
//! # Ok::<(), pkcs11::Error>(())
//! ```

use ffi::{CK_OBJECT_HANDLE, CK_ULONG};

use crate::attribute::{self, Attribute, AttributeResult, AttributeType};
use crate::context::log_error;
use crate::error::{Error, Result, Rv};
use crate::raw;
use crate::raw::attribute::{Fetched, Outcome, Shape};
use crate::session::{Operation, OperationKind, Session};

/// A handle to an object (`CK_OBJECT_HANDLE`), valid in the session (or, for token
/// objects, the application) that found or made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectHandle(pub ffi::CK_OBJECT_HANDLE);

impl ObjectHandle {
    /// The raw handle.
    pub const fn raw(self) -> ffi::CK_OBJECT_HANDLE {
        self.0
    }
}

/// The first batch of handles a search asks for; each next batch is four times larger,
/// up to [`MAX_BATCH`], so that small results take one call and large ones few.
const FIRST_BATCH: usize = 16;
/// The largest batch of handles asked for at once.
const MAX_BATCH: usize = 1024;

/// An object search in progress (`C_FindObjectsInit` .. `C_FindObjectsFinal`): an
/// iterator over the handles found, fetched in growing batches.
///
/// It holds the session's lock (other threads wait) and the session's search: starting
/// another search on the session from this thread gives [`Error::OperationActive`].
/// The search always ends with `C_FindObjectsFinal`: when exhausted, with
/// [`FindObjects::finish`], or when dropped half-consumed.
#[must_use = "a search does nothing unless iterated"]
#[doc(alias = "C_FindObjectsInit")]
#[doc(alias = "C_FindObjects")]
#[doc(alias = "C_FindObjectsFinal")]
pub struct FindObjects<'s> {
    op: Operation<'s>,
    found: Vec<CK_OBJECT_HANDLE>,
    next: usize,
    batch: usize,
    done: bool,
}

impl std::fmt::Debug for FindObjects<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindObjects")
            .field(
                "buffered",
                &(self.found.len() - self.next.min(self.found.len())),
            )
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl FindObjects<'_> {
    /// `C_FindObjects` for up to `self.batch` handles.
    fn fetch(&mut self) -> Result<()> {
        let session = self.op.session();
        self.found.clear();
        self.found.resize(self.batch, ffi::CK_INVALID_HANDLE);
        self.next = 0;
        let mut count: CK_ULONG = 0;
        let returned = raw::object::find_objects(
            session.inner(),
            session.handle(),
            &mut self.found,
            &mut count,
        );
        // An error leaves the search to `C_FindObjectsFinal` (when dropped): not every
        // module ends it on a failed `C_FindObjects`.
        let result = session.track(returned).and_then(|r| r.ok());
        if let Err(error) = result {
            self.found.clear();
            return Err(error);
        }
        let count = usize::try_from(count)
            .ok()
            .filter(|&n| n <= self.found.len())
            .ok_or_else(|| {
                self.found.clear();
                Error::ModuleContract {
                    function: "C_FindObjects",
                    what: format!(
                        "reported {count} handles found, for room for {}",
                        self.batch
                    ),
                }
            })?;
        self.found.truncate(count);
        // The buffer was filled with CK_INVALID_HANDLE: one left within the reported
        // count was never written (a count larger than what the module wrote).
        if let Some(index) = self.found.iter().position(|&h| h == ffi::CK_INVALID_HANDLE) {
            self.found.clear();
            return Err(Error::ModuleContract {
                function: "C_FindObjects",
                what: format!(
                    "reported {count} handles found but handle {index} was not written \
                     (CK_INVALID_HANDLE)"
                ),
            });
        }
        self.batch = (self.batch * 4).min(MAX_BATCH);
        Ok(())
    }

    /// Ends the search now (`C_FindObjectsFinal`), returning the module's answer.
    /// Dropping the search ends it too, reporting errors only to the log.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_FindObjectsFinal`.
    #[doc(alias = "C_FindObjectsFinal")]
    pub fn finish(mut self) -> Result<()> {
        self.done = true;
        self.final_call()
    }

    fn final_call(&mut self) -> Result<()> {
        let session = self.op.session();
        if !self.op.is_running() || !session.is_usable() {
            // Ended, or unreachable (fork, finalization, poisoning): the guard's own
            // cancellation deals with it.
            return Ok(());
        }
        let returned = self.op.track(raw::object::find_objects_final(
            session.inner(),
            session.handle(),
        ));
        match returned {
            Ok(returned) => {
                // Any answer ends the search.
                self.op.ended();
                returned.ok()
            }
            // Not called (fork, finalization, no such function): the guard's
            // cancellation takes over.
            Err(error) => Err(error),
        }
    }
}

impl Iterator for FindObjects<'_> {
    type Item = Result<ObjectHandle>;

    fn next(&mut self) -> Option<Result<ObjectHandle>> {
        if let Some(&handle) = self.found.get(self.next) {
            self.next += 1;
            return Some(Ok(ObjectHandle(handle)));
        }
        if self.done {
            return None;
        }
        if let Err(error) = self.fetch() {
            self.done = true;
            return Some(Err(error));
        }
        match self.found.first() {
            Some(&handle) => {
                self.next = 1;
                Some(Ok(ObjectHandle(handle)))
            }
            None => {
                self.done = true;
                self.final_call().err().map(Err)
            }
        }
    }
}

impl std::iter::FusedIterator for FindObjects<'_> {}

impl Drop for FindObjects<'_> {
    fn drop(&mut self) {
        if let Err(error) = self.final_call() {
            log_error(&error);
        }
    }
}

/// The error for an attribute that has no value to give.
fn no_value(ty: AttributeType, result: AttributeResult) -> Error {
    let rv = match result {
        AttributeResult::Sensitive => Rv::AttributeSensitive,
        AttributeResult::Invalid => Rv::AttributeTypeInvalid,
        _ => {
            return Error::NotFound {
                what: format!("{ty}: the module reports the value unavailable"),
            }
        }
    };
    Error::Module {
        function: "C_GetAttributeValue",
        rv,
    }
}

/// The handle a module wrote for a new object after `CKR_OK`; one it did not write
/// (`CK_INVALID_HANDLE`) breaks the contract.
pub(crate) fn written_handle(
    function: &'static str,
    handle: CK_OBJECT_HANDLE,
) -> Result<ObjectHandle> {
    if handle == ffi::CK_INVALID_HANDLE {
        Err(Error::ModuleContract {
            function,
            what: "answered CKR_OK without writing the new object's handle".into(),
        })
    } else {
        Ok(ObjectHandle(handle))
    }
}

impl Session {
    /// A call that makes one object from `template` (create, copy, generate, unwrap,
    /// derive, decapsulate): takes the lock, encodes the template, checks the answer and
    /// the handle written.
    pub(crate) fn new_object(
        &self,
        template: &[Attribute],
        call: impl FnOnce(
            &mut raw::attribute::InTemplate<'_>,
            &mut CK_OBJECT_HANDLE,
        ) -> Result<raw::Returned>,
    ) -> Result<ObjectHandle> {
        let _lock = self.locked()?;
        let mut encoded = attribute::encode(template);
        let mut handle = ffi::CK_INVALID_HANDLE;
        let returned = self.track(call(&mut encoded, &mut handle))?;
        returned.ok()?;
        written_handle(returned.function, handle)
    }

    /// Starts a search for the objects matching `template` (all objects for an empty
    /// one). Iterate the returned guard for their handles.
    ///
    /// # Errors
    /// [`Error::OperationActive`] if this thread already has a search active on this
    /// session; [`Error::Module`] naming `C_FindObjectsInit`.
    #[doc(alias = "C_FindObjectsInit")]
    #[doc(alias = "C_FindObjects")]
    #[doc(alias = "C_FindObjectsFinal")]
    pub fn find(&self, template: &[Attribute]) -> Result<FindObjects<'_>> {
        self.find_with_batch(template, FIRST_BATCH)
    }

    fn find_with_batch(&self, template: &[Attribute], batch: usize) -> Result<FindObjects<'_>> {
        let mut op = self.begin(OperationKind::Find)?;
        let mut encoded = attribute::encode(template);
        let returned = raw::object::find_objects_init(self.inner(), self.handle(), &mut encoded);
        match op.track(returned) {
            Ok(returned) => returned.ok()?,
            Err(error) => {
                // Not called: nothing to end.
                op.ended();
                return Err(error);
            }
        }
        Ok(FindObjects {
            op,
            found: Vec::new(),
            next: 0,
            batch,
            done: false,
        })
    }

    /// The handles of every object matching `template`.
    ///
    /// # Errors
    /// As [`Session::find`], and [`Error::Module`] naming `C_FindObjects`.
    #[doc(alias = "C_FindObjectsInit")]
    #[doc(alias = "C_FindObjects")]
    #[doc(alias = "C_FindObjectsFinal")]
    pub fn find_all(&self, template: &[Attribute]) -> Result<Vec<ObjectHandle>> {
        let mut search = self.find(template)?;
        let found = search.by_ref().collect::<Result<Vec<_>>>()?;
        search.finish()?;
        Ok(found)
    }

    /// The handle of the one object matching `template`.
    ///
    /// # Errors
    /// [`Error::NotFound`] if none matches, [`Error::MoreThanOne`] if several do (both
    /// naming the template's attribute types, never their values); otherwise as
    /// [`Session::find_all`].
    #[doc(alias = "C_FindObjectsInit")]
    #[doc(alias = "C_FindObjects")]
    #[doc(alias = "C_FindObjectsFinal")]
    pub fn find_one(&self, template: &[Attribute]) -> Result<ObjectHandle> {
        let mut search = self.find_with_batch(template, 2)?;
        let first = search.next().transpose()?;
        let second = search.next().transpose()?;
        search.finish()?;
        let what = || format!("an object matching {}", attribute::describe_types(template));
        match (first, second) {
            (Some(object), None) => Ok(object),
            (None, _) => Err(Error::NotFound { what: what() }),
            (Some(_), Some(_)) => Err(Error::MoreThanOne { what: what() }),
        }
    }

    /// Creates an object from `template`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_CreateObject` (`CKR_TEMPLATE_INCOMPLETE`,
    /// `CKR_ATTRIBUTE_VALUE_INVALID`...).
    #[doc(alias = "C_CreateObject")]
    pub fn create_object(&self, template: &[Attribute]) -> Result<ObjectHandle> {
        self.new_object(template, |encoded, object| {
            raw::object::create_object(self.inner(), self.handle(), encoded, object)
        })
    }

    /// Copies `object`, with the attributes of `template` changed in the copy.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_CopyObject`.
    #[doc(alias = "C_CopyObject")]
    pub fn copy_object(
        &self,
        object: ObjectHandle,
        template: &[Attribute],
    ) -> Result<ObjectHandle> {
        self.new_object(template, |encoded, copy| {
            raw::object::copy_object(self.inner(), self.handle(), object.0, encoded, copy)
        })
    }

    /// Destroys `object`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DestroyObject`.
    #[doc(alias = "C_DestroyObject")]
    pub fn destroy_object(&self, object: ObjectHandle) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::object::destroy_object(
            self.inner(),
            self.handle(),
            object.0,
        ))
    }

    /// Reads the attributes `types` of `object`: one result per type, in order. A
    /// sensitive, unknown or unavailable attribute is a result of its own, never an
    /// error of the whole call.
    ///
    /// One `C_GetAttributeValue` call in the common case, as C would make it: the first
    /// call offers every attribute a buffer (fixed-size values their size, variable ones
    /// a guess of 128 bytes, together in one wiped scratch area); only a longer value
    /// takes a length query and a second fetch, and a nested template three calls.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GetAttributeValue` for answers about the object or
    /// session (`CKR_OBJECT_HANDLE_INVALID`...); [`Error::ModuleContract`] naming the
    /// attribute for lengths, sizes or pointers that cannot be right.
    #[doc(alias = "C_GetAttributeValue")]
    pub fn get_attributes(
        &self,
        object: ObjectHandle,
        types: &[AttributeType],
    ) -> Result<Vec<AttributeResult>> {
        let _lock = self.locked()?;
        raw::attribute::get_attribute_values(
            self,
            object.0,
            types.iter().map(|ty| ty.0),
            attribute::shape_of,
            AttributeResult::from_outcome,
        )
    }

    /// Reads one attribute of `object`.
    ///
    /// # Errors
    /// As [`Session::get_attributes`]; and [`Error::Module`] with
    /// [`Rv::AttributeSensitive`] or [`Rv::AttributeTypeInvalid`] naming
    /// `C_GetAttributeValue` for a sensitive or absent attribute, [`Error::NotFound`] for
    /// one the module reports unavailable without a reason.
    #[doc(alias = "C_GetAttributeValue")]
    pub fn get_attribute(&self, object: ObjectHandle, ty: AttributeType) -> Result<Attribute> {
        let _lock = self.locked()?;
        let result = raw::attribute::get_attribute_value(
            self,
            object.0,
            ty.0,
            attribute::shape_of(ty.0),
            attribute::shape_of,
            |outcome| AttributeResult::from_outcome(ty.0, outcome),
        )?;
        match result {
            AttributeResult::Value(attribute) => Ok(attribute),
            other => Err(no_value(ty, other)),
        }
    }

    /// Reads a `CK_ULONG` attribute of `object` (`CKA_CLASS`, `CKA_KEY_TYPE`,
    /// `CKA_VALUE_LEN`, `CKA_MODULUS_BITS`...; or a vendor-defined one) in one
    /// `C_GetAttributeValue` call, without allocating.
    ///
    /// ```no_run
    /// # fn f(session: &pkcs11::Session, key: pkcs11::ObjectHandle) -> pkcs11::Result<()> {
    /// use pkcs11::{AttributeType, ObjectClass};
    ///
    /// let class = session.get_ulong(key, AttributeType::Class)?;
    /// assert_eq!(ObjectClass::from_raw(class), ObjectClass::SecretKey);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an attribute of the table that is not a `CK_ULONG`;
    /// otherwise as [`Session::get_attribute`] ([`Error::ModuleContract`] for a value
    /// that is not exactly a `CK_ULONG`).
    #[doc(alias = "C_GetAttributeValue")]
    pub fn get_ulong(&self, object: ObjectHandle, ty: AttributeType) -> Result<CK_ULONG> {
        let bytes = self.get_fixed::<{ raw::attribute::ULONG_SIZE }>(object, ty, "a CK_ULONG")?;
        Ok(CK_ULONG::from_ne_bytes(bytes))
    }

    /// Reads a `CK_BBOOL` attribute of `object` (`CKA_TOKEN`, `CKA_SENSITIVE`,
    /// `CKA_EXTRACTABLE`...; or a vendor-defined one) in one `C_GetAttributeValue` call,
    /// without allocating. Any byte but `CK_FALSE` is true.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an attribute of the table that is not a `CK_BBOOL`;
    /// otherwise as [`Session::get_attribute`] ([`Error::ModuleContract`] for a value
    /// that is not exactly one byte).
    #[doc(alias = "C_GetAttributeValue")]
    pub fn get_bool(&self, object: ObjectHandle, ty: AttributeType) -> Result<bool> {
        let [byte] = self.get_fixed::<1>(object, ty, "a CK_BBOOL")?;
        Ok(byte != ffi::CK_FALSE)
    }

    /// Reads the fixed-size attribute `ty` of exactly `N` bytes (`what` names its type).
    fn get_fixed<const N: usize>(
        &self,
        object: ObjectHandle,
        ty: AttributeType,
        what: &str,
    ) -> Result<[u8; N]> {
        let shape = Shape::Fixed {
            size: N,
            empty_ok: false,
        };
        let known = attribute::shape_of(ty.0);
        if known != shape && !(ty.is_vendor_defined() && known == Shape::Bytes) {
            return Err(Error::InvalidInput {
                what: format!("{ty} is not {what}"),
            });
        }
        let _lock = self.locked()?;
        raw::attribute::get_attribute_value(
            self,
            object.0,
            ty.0,
            shape,
            attribute::shape_of,
            |outcome| match outcome {
                Outcome::Value(Fetched::Bytes(bytes)) => {
                    // Exactly `N` bytes: the engine checked the value against `shape`.
                    <[u8; N]>::try_from(bytes).map_err(|_| Error::ModuleContract {
                        function: "C_GetAttributeValue",
                        what: format!("{ty}: {} bytes for {what}", bytes.len()),
                    })
                }
                Outcome::Value(Fetched::Template(_)) => Err(Error::ModuleContract {
                    function: "C_GetAttributeValue",
                    what: format!("{ty}: a nested template for {what}"),
                }),
                Outcome::Sensitive => Err(no_value(ty, AttributeResult::Sensitive)),
                Outcome::Invalid => Err(no_value(ty, AttributeResult::Invalid)),
                Outcome::Unavailable => Err(no_value(ty, AttributeResult::Unavailable)),
            },
        )
    }

    /// Changes the attributes of `template` on `object`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SetAttributeValue` (`CKR_ATTRIBUTE_READ_ONLY`...).
    #[doc(alias = "C_SetAttributeValue")]
    pub fn set_attributes(&self, object: ObjectHandle, template: &[Attribute]) -> Result<()> {
        let _lock = self.locked()?;
        let mut encoded = attribute::encode(template);
        self.track_ok(raw::object::set_attribute_value(
            self.inner(),
            self.handle(),
            object.0,
            &mut encoded,
        ))
    }

    /// The size of `object` on the token, in bytes; `None` when the module does not
    /// tell (`CK_UNAVAILABLE_INFORMATION`).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GetObjectSize`.
    #[doc(alias = "C_GetObjectSize")]
    pub fn object_size(&self, object: ObjectHandle) -> Result<Option<u64>> {
        let _lock = self.locked()?;
        let mut size: CK_ULONG = 0;
        self.track_ok(raw::object::get_object_size(
            self.inner(),
            self.handle(),
            object.0,
            &mut size,
        ))?;
        #[allow(clippy::useless_conversion)] // CK_ULONG is 32 bits on Windows
        Ok((size != ffi::CK_UNAVAILABLE_INFORMATION).then(|| u64::from(size)))
    }
}

/// What to look for among certificate objects: every criterion given must match
/// (exact bytes). The class `CKO_CERTIFICATE` and, unless changed with
/// [`CertificateQuery::certificate_type`], the type `CKC_X_509` are always part of it.
///
/// ```
/// use pkcs11::CertificateQuery;
///
/// let query = CertificateQuery::new().subject(b"0\x0f1\r0\x0b\x06\x03U\x04\x03\x0c\x04demo").id([1]);
/// assert_eq!(query.template().len(), 4);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateQuery {
    certificate_type: Option<crate::attribute::CertificateType>,
    subject: Option<Vec<u8>>,
    issuer: Option<Vec<u8>>,
    serial_number: Option<Vec<u8>>,
    id: Option<Vec<u8>>,
    label: Option<String>,
}

impl CertificateQuery {
    /// All X.509 certificates.
    pub fn new() -> CertificateQuery {
        CertificateQuery::default()
    }

    /// Certificates of `kind` instead of X.509 ones.
    pub fn certificate_type(mut self, kind: crate::attribute::CertificateType) -> Self {
        self.certificate_type = Some(kind);
        self
    }

    /// With this `CKA_SUBJECT` (DER of the subject `Name`).
    pub fn subject(mut self, subject_der: impl AsRef<[u8]>) -> Self {
        self.subject = Some(subject_der.as_ref().to_vec());
        self
    }

    /// With this `CKA_ISSUER` (DER of the issuer `Name`).
    pub fn issuer(mut self, issuer_der: impl AsRef<[u8]>) -> Self {
        self.issuer = Some(issuer_der.as_ref().to_vec());
        self
    }

    /// With this `CKA_SERIAL_NUMBER`: the DER of the serial number `INTEGER`, tag and
    /// length included, as PKCS #11 stores it.
    pub fn serial_number(mut self, serial_der: impl AsRef<[u8]>) -> Self {
        self.serial_number = Some(serial_der.as_ref().to_vec());
        self
    }

    /// With this `CKA_ID` (usually the id of the certificate's key pair).
    pub fn id(mut self, id: impl AsRef<[u8]>) -> Self {
        self.id = Some(id.as_ref().to_vec());
        self
    }

    /// With this `CKA_LABEL`.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The search template.
    pub fn template(&self) -> Vec<Attribute> {
        let mut template = vec![
            Attribute::Class(crate::attribute::ObjectClass::Certificate),
            Attribute::CertificateType(
                self.certificate_type
                    .unwrap_or(crate::attribute::CertificateType::X509),
            ),
        ];
        template.extend(self.subject.clone().map(Attribute::Subject));
        template.extend(self.issuer.clone().map(Attribute::Issuer));
        template.extend(self.serial_number.clone().map(Attribute::SerialNumber));
        template.extend(self.id.clone().map(Attribute::Id));
        template.extend(self.label.clone().map(Attribute::Label));
        template
    }
}

impl Session {
    /// The certificate objects matching `query` (by subject, issuer, serial number, id,
    /// label).
    ///
    /// # Errors
    /// As [`Session::find_all`].
    #[doc(alias = "C_FindObjectsInit")]
    #[doc(alias = "C_FindObjects")]
    #[doc(alias = "C_FindObjectsFinal")]
    pub fn find_certificates(&self, query: &CertificateQuery) -> Result<Vec<ObjectHandle>> {
        self.find_all(&query.template())
    }

    /// The X.509 certificate objects with the same `CKA_ID` as `key` (the PKCS #11
    /// convention that ties a certificate to its key pair).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GetAttributeValue` if `key` has no readable
    /// `CKA_ID`; [`Error::InvalidInput`] if its `CKA_ID` is empty (it would match
    /// nothing reliably); as [`Session::find_all`].
    #[doc(alias = "C_GetAttributeValue")]
    #[doc(alias = "C_FindObjectsInit")]
    pub fn find_certificates_for_key(&self, key: ObjectHandle) -> Result<Vec<ObjectHandle>> {
        let id = self.get_attribute(key, AttributeType::Id)?;
        let id = id.as_bytes().unwrap_or_default();
        if id.is_empty() {
            return Err(Error::InvalidInput {
                what: format!("key {} has an empty CKA_ID: no certificate to match", key.0),
            });
        }
        self.find_certificates(&CertificateQuery::new().id(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_object_handle_must_be_written() {
        assert_eq!(written_handle("C_UnwrapKey", 7).unwrap(), ObjectHandle(7));
        let error = written_handle("C_DeriveKey", ffi::CK_INVALID_HANDLE).unwrap_err();
        assert!(
            matches!(
                error,
                Error::ModuleContract {
                    function: "C_DeriveKey",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
