//! X.509 certificate objects (`CKO_CERTIFICATE`, `CKC_X_509`).

use core::fmt;

use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader, Tag, TagNumber};

use super::bad_der;
use crate::attribute::{Attribute, AttributeType, CertificateType, ObjectClass};
use crate::error::{Error, Result};
use crate::object::ObjectHandle;
use crate::secret::SecretBytes;
use crate::session::Session;

/// An X.509 certificate (DER) with the fields PKCS #11 stores beside it: the subject,
/// issuer and serial number, each exactly the bytes of the certificate (not
/// re-encoded), so that searches by them match.
///
/// ```no_run
/// use pkcs11::formats::X509Certificate;
/// use pkcs11::{Attribute, CertificateQuery};
///
/// # fn f(session: &pkcs11::Session, der: &[u8]) -> pkcs11::Result<()> {
/// let cert = X509Certificate::from_der(der)?;
/// let object = session.create_x509_certificate(&cert, &[
///     Attribute::Token(true),
///     Attribute::Label("server".into()),
///     Attribute::Id(vec![0x42]),
/// ])?;
/// let found = session.find_certificates(
///     &CertificateQuery::new().issuer(cert.issuer_der()).serial_number(cert.serial_number_der()),
/// )?;
/// assert_eq!(found, [object]);
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct X509Certificate {
    der: Vec<u8>,
    serial: (usize, usize),
    issuer: (usize, usize),
    subject: (usize, usize),
    spki: (usize, usize),
}

/// The offset of `part` (a sub-slice of `whole`) in `whole`, and its length.
fn span(whole: &[u8], part: &[u8]) -> (usize, usize) {
    (part.as_ptr() as usize - whole.as_ptr() as usize, part.len())
}

impl X509Certificate {
    /// Parses a DER certificate (checked with the `x509-cert` crate) and locates its
    /// serial number, issuer, subject and public key.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming what is wrong (truncated DER, not a certificate).
    pub fn from_der(der: &[u8]) -> Result<X509Certificate> {
        let what = "X.509 certificate DER";
        x509_cert::Certificate::from_der(der).map_err(|e| bad_der(what, e))?;
        // The raw TLVs of the TBSCertificate fields, taken from the input itself.
        let mut reader = SliceReader::new(der).map_err(|e| bad_der(what, e))?;
        let fields = reader
            .sequence(|certificate| {
                certificate
                    .sequence(|tbs| {
                        let version_tag = Tag::ContextSpecific {
                            constructed: true,
                            number: TagNumber::N0,
                        };
                        if tbs.peek_tag()? == version_tag {
                            AnyRef::decode(tbs)?;
                        }
                        let serial = tbs.tlv_bytes()?;
                        let _signature = tbs.tlv_bytes()?;
                        let issuer = tbs.tlv_bytes()?;
                        let _validity = tbs.tlv_bytes()?;
                        let subject = tbs.tlv_bytes()?;
                        let spki = tbs.tlv_bytes()?;
                        while !tbs.is_finished() {
                            tbs.tlv_bytes()?;
                        }
                        Ok((serial, issuer, subject, spki))
                    })
                    .and_then(|fields| {
                        while !certificate.is_finished() {
                            certificate.tlv_bytes()?;
                        }
                        Ok(fields)
                    })
            })
            .and_then(|fields| reader.finish(fields))
            .map_err(|e| bad_der(what, e))?;
        let (serial, issuer, subject, spki) = fields;
        Ok(X509Certificate {
            serial: span(der, serial),
            issuer: span(der, issuer),
            subject: span(der, subject),
            spki: span(der, spki),
            der: der.to_vec(),
        })
    }

    fn part(&self, (start, len): (usize, usize)) -> &[u8] {
        &self.der[start..start + len]
    }

    /// The whole certificate (`CKA_VALUE`).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER of the subject `Name` (`CKA_SUBJECT`).
    pub fn subject_der(&self) -> &[u8] {
        self.part(self.subject)
    }

    /// The DER of the issuer `Name` (`CKA_ISSUER`).
    pub fn issuer_der(&self) -> &[u8] {
        self.part(self.issuer)
    }

    /// The DER of the serial number `INTEGER`, tag and length included
    /// (`CKA_SERIAL_NUMBER`).
    pub fn serial_number_der(&self) -> &[u8] {
        self.part(self.serial)
    }

    /// The serial number's content bytes (two's complement, big-endian).
    pub fn serial_number(&self) -> &[u8] {
        AnyRef::from_der(self.serial_number_der())
            .map(|any| any.value())
            .unwrap_or_default()
    }

    /// The DER of the certificate's `SubjectPublicKeyInfo`.
    pub fn public_key_info_der(&self) -> &[u8] {
        self.part(self.spki)
    }

    /// The template that creates this certificate as a token object: `CKA_CLASS`
    /// (`CKO_CERTIFICATE`), `CKA_CERTIFICATE_TYPE` (`CKC_X_509`), `CKA_VALUE`,
    /// `CKA_SUBJECT`, `CKA_ISSUER` and `CKA_SERIAL_NUMBER`. Add label, id, `CKA_TOKEN`,
    /// `CKA_TRUSTED`, `CKA_CERTIFICATE_CATEGORY`... before creating it.
    pub fn template(&self) -> Vec<Attribute> {
        vec![
            Attribute::Class(ObjectClass::Certificate),
            Attribute::CertificateType(CertificateType::X509),
            Attribute::Value(SecretBytes::new(self.der.clone())),
            Attribute::Subject(self.subject_der().to_vec()),
            Attribute::Issuer(self.issuer_der().to_vec()),
            Attribute::SerialNumber(self.serial_number_der().to_vec()),
        ]
    }
}

impl fmt::Debug for X509Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X509Certificate")
            .field("len", &self.der.len())
            .field(
                "serial_number",
                &format_args!("{:02x?}", self.serial_number()),
            )
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Creates an X.509 certificate object from `certificate`
    /// ([`X509Certificate::template`]) followed by `extra` (label, id, `CKA_TOKEN`...:
    /// give it the `CKA_ID` of its key pair so that it can be found from the key).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_CreateObject`.
    #[doc(alias = "C_CreateObject")]
    pub fn create_x509_certificate(
        &self,
        certificate: &X509Certificate,
        extra: &[Attribute],
    ) -> Result<ObjectHandle> {
        let mut template = certificate.template();
        template.extend_from_slice(extra);
        self.create_object(&template)
    }

    /// Reads the X.509 certificate object `object` (its `CKA_VALUE`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the object is not an X.509 certificate or its value
    /// does not parse; [`Error::Module`] naming `C_GetAttributeValue`.
    #[doc(alias = "C_GetAttributeValue")]
    pub fn read_x509_certificate(&self, object: ObjectHandle) -> Result<X509Certificate> {
        let results = self.get_attributes(
            object,
            &[AttributeType::Class, AttributeType::CertificateType],
        )?;
        let class = results[0].value().and_then(Attribute::as_ulong);
        let kind = results[1].value().and_then(Attribute::as_ulong);
        if class != Some(ffi::CKO_CERTIFICATE) || kind != Some(ffi::CKC_X_509) {
            return Err(Error::InvalidInput {
                what: format!("object {} is not an X.509 certificate", object.raw()),
            });
        }
        let value = self.get_attribute(object, AttributeType::Value)?;
        X509Certificate::from_der(value.as_bytes().unwrap_or_default())
    }
}
