//! The few DER shapes the interop suites convert (X.690 distinguished encoding): the
//! `OCTET STRING` around `CKA_EC_POINT`, and the `SEQUENCE { INTEGER r, INTEGER s }` of
//! an ECDSA signature (RFC 3279), which PKCS #11 carries as the fixed-size `r || s`.
//!
//! Decoding goes through the RustCrypto `der` crate, which is strict: an encoding that is
//! not the one DER allows (a long length form where the short one fits, a needless
//! leading zero, a negative integer, trailing bytes) is refused, as a verifier must.

use der::asn1::{OctetStringRef, UintRef};
use der::{Decode, Encode, Reader, SliceReader};

/// `content` as a DER `OCTET STRING`.
///
/// # Panics
/// If `content` is longer than DER lengths allow here (256 MiB).
pub fn octet_string(content: &[u8]) -> Vec<u8> {
    OctetStringRef::new(content)
        .and_then(|octets| octets.to_der())
        .expect("an OCTET STRING of this length")
}

/// The content of `der` if it is exactly one DER `OCTET STRING`.
pub fn parse_octet_string(der: &[u8]) -> Option<&[u8]> {
    OctetStringRef::from_der(der)
        .ok()
        .map(|octets| octets.as_bytes())
}

/// What became of a DER ECDSA signature on its way to `r || s`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EcdsaDer {
    /// Well-formed DER with both integers fitting in the field: the `r || s` bytes, each
    /// left-padded with zeros to the field size.
    Raw(Vec<u8>),
    /// Not DER (or not a `SEQUENCE` of two non-negative `INTEGER`s): no verifier may
    /// accept it.
    NotDer,
    /// Well-formed, but an integer is longer than the field size, so it is at least the
    /// group order: no valid signature has it, and `r || s` cannot carry it.
    TooLong,
}

/// Converts the DER ECDSA signature `der` to the `r || s` form of PKCS #11 for a curve
/// whose order takes `field_len` bytes.
pub fn ecdsa_der_to_raw(der: &[u8], field_len: usize) -> EcdsaDer {
    // `UintRef` is a non-negative, minimally encoded INTEGER without its sign octet.
    let decoded = SliceReader::new(der).and_then(|mut reader| {
        let pair = reader.sequence(|seq| Ok((UintRef::decode(seq)?, UintRef::decode(seq)?)))?;
        reader.finish(pair)
    });
    let Ok((r, s)) = decoded else {
        return EcdsaDer::NotDer;
    };
    let (r, s) = (r.as_bytes(), s.as_bytes());
    if r.len() > field_len || s.len() > field_len {
        return EcdsaDer::TooLong;
    }
    let mut raw = vec![0u8; 2 * field_len];
    raw[field_len - r.len()..field_len].copy_from_slice(r);
    raw[2 * field_len - s.len()..].copy_from_slice(s);
    EcdsaDer::Raw(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octet_strings_round_trip() {
        for len in [0usize, 1, 32, 65, 127, 128, 255, 256, 1000] {
            let content: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let der = octet_string(&content);
            assert_eq!(parse_octet_string(&der), Some(&content[..]), "len {len}");
        }
        assert_eq!(octet_string(&[7; 65])[..2], [0x04, 0x41]);
        assert_eq!(octet_string(&[7; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(parse_octet_string(&[0x04, 0x81, 0x01, 0x00]), None); // long form
        assert_eq!(parse_octet_string(&[0x04, 0x01, 0x00, 0x00]), None); // trailing
        assert_eq!(parse_octet_string(&[0x04, 0x02, 0x00]), None); // truncated
    }

    #[test]
    fn ecdsa_signatures_convert_strictly() {
        // r = 1, s = 0x80 (needs a sign octet).
        let der = [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80];
        let EcdsaDer::Raw(raw) = ecdsa_der_to_raw(&der, 4) else {
            panic!("valid DER refused")
        };
        assert_eq!(raw, [0, 0, 0, 1, 0, 0, 0, 0x80]);
        // A needless leading zero, a negative integer, BER long length, trailing garbage.
        for bad in [
            &[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01][..],
            &[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01],
            &[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00],
            &[0x30, 0x03, 0x02, 0x01, 0x01],
            &[0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01],
        ] {
            assert_eq!(ecdsa_der_to_raw(bad, 4), EcdsaDer::NotDer, "{bad:02x?}");
        }
        let long = [0x30, 0x08, 0x02, 0x03, 0x01, 0x02, 0x03, 0x02, 0x01, 0x01];
        assert_eq!(ecdsa_der_to_raw(&long, 2), EcdsaDer::TooLong);
    }
}
