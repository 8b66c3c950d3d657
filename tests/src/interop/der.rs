//! The few DER shapes the interop suites convert by hand (X.690 distinguished encoding):
//! the `OCTET STRING` around `CKA_EC_POINT`, and the `SEQUENCE { INTEGER r, INTEGER s }`
//! of an ECDSA signature (RFC 3279), which PKCS #11 carries as the fixed-size `r || s`.
//!
//! The parsers are strict: an encoding that is not the one DER allows (a long length
//! form where the short one fits, a needless leading zero, a negative integer, trailing
//! bytes) is refused, as a verifier must refuse it.

/// The DER length octets of `len`.
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// `content` as a DER `OCTET STRING`.
pub fn octet_string(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x04];
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// Reads one DER element with tag `tag` at the start of `input`: (its content, the rest).
/// `None` for another tag, a truncated element, an indefinite or non-minimal length.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&len_byte, mut rest) = rest.split_first()?;
    let len = if len_byte < 0x80 {
        usize::from(len_byte)
    } else {
        let count = usize::from(len_byte & 0x7f);
        // 0x80 is the indefinite form (not DER); more than 4 length octets is absurd here.
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (octets, after) = rest.split_at(count);
        rest = after;
        if octets[0] == 0 {
            return None; // a leading zero octet: not minimal
        }
        let len = octets
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if len < 0x80 {
            return None; // the short form fits: the long one is not DER
        }
        len
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

/// The content of `der` if it is exactly one DER `OCTET STRING`.
pub fn parse_octet_string(der: &[u8]) -> Option<&[u8]> {
    match element(der, 0x04)? {
        (content, []) => Some(content),
        _ => None,
    }
}

/// The magnitude of a DER `INTEGER`'s content that must be non-negative: without its
/// sign octet. `None` for an empty, negative or non-minimally encoded integer.
fn unsigned_integer(content: &[u8]) -> Option<&[u8]> {
    let (&first, rest) = content.split_first()?;
    if first & 0x80 != 0 {
        return None; // negative
    }
    if first == 0 {
        match rest.first() {
            None => return Some(content), // zero itself: one 0x00 octet
            Some(next) if next & 0x80 == 0 => return None, // a needless leading zero
            Some(_) => return Some(rest),
        }
    }
    Some(content)
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
    let Some((sequence, [])) = element(der, 0x30) else {
        return EcdsaDer::NotDer;
    };
    let Some((r, rest)) = element(sequence, 0x02) else {
        return EcdsaDer::NotDer;
    };
    let Some((s, [])) = element(rest, 0x02) else {
        return EcdsaDer::NotDer;
    };
    let (Some(r), Some(s)) = (unsigned_integer(r), unsigned_integer(s)) else {
        return EcdsaDer::NotDer;
    };
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
