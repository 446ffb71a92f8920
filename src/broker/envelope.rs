//! The wire form of a message on a shared broker (Redis channel, NATS subject): which
//! server sent it, its topic, its payload, and, when the servers share a secret, an
//! HMAC-SHA256 over all of that.
//!
//! Owns: encoding, decoding and checking a message. Does not own: where it travels
//! (`redis`, `nats`) or who gets it (`Remote`'s sink).
//!
//! Layout: `VIA1` · flags (1 byte; bit 0: signed) · origin (16 bytes) · topic length
//! (u16 BE) · topic · payload length (u32 BE) · payload · [HMAC-SHA256 (32 bytes) over
//! every byte before it]. A message that does not parse, is unsigned where a secret is
//! set, or carries a wrong signature is refused with the reason, never delivered.

use bytes::{BufMut, Bytes, BytesMut};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const MAGIC: &[u8; 4] = b"VIA1";
const SIGNED: u8 = 1;
const SIGNATURE_LEN: usize = 32;
const HEAD_LEN: usize = 4 + 1 + 16 + 2;

/// A server process's id on the broker: random, 16 bytes.
pub type Origin = [u8; 16];

/// A fresh random origin for this server process.
pub fn new_origin() -> Origin {
    let mut origin = [0u8; 16];
    let mut filled = 0;
    while filled < origin.len() {
        // SAFETY: getrandom writes at most `len - filled` bytes into the rest of `origin`.
        let n = unsafe { libc::getrandom(origin[filled..].as_mut_ptr().cast(), origin.len() - filled, 0) };
        if n <= 0 {
            // No entropy source: fall back to what is unique on this machine and moment.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            origin[..8].copy_from_slice(&(u64::from(std::process::id()) ^ nanos as u64).to_le_bytes());
            origin[8..]
                .copy_from_slice(&((nanos >> 64) as u64 ^ (nanos as u64).rotate_left(17)).to_le_bytes());
            break;
        }
        filled += n as usize;
    }
    origin
}

/// A message as it came off the broker, checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Message {
    pub origin: Origin,
    pub topic: Bytes,
    pub payload: Bytes,
}

/// Why a message from the broker was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a via message, or cut short.
    Malformed,
    /// A secret is set and the message carries no signature.
    Unsigned,
    /// The signature is not the secret's.
    BadSignature,
}

/// Encodes a message, signed with `secret` when there is one.
pub fn encode(origin: &Origin, topic: &[u8], payload: &[u8], secret: Option<&[u8]>) -> Bytes {
    let signed = secret.is_some();
    let len = HEAD_LEN + topic.len() + 4 + payload.len() + if signed { SIGNATURE_LEN } else { 0 };
    let mut out = BytesMut::with_capacity(len);
    out.put_slice(MAGIC);
    out.put_u8(if signed { SIGNED } else { 0 });
    out.put_slice(origin);
    out.put_u16(topic.len() as u16);
    out.put_slice(topic);
    out.put_u32(payload.len() as u32);
    out.put_slice(payload);
    if let Some(secret) = secret {
        let signature = mac(secret, &out);
        out.put_slice(&signature);
    }
    out.freeze()
}

/// Decodes and checks a message: with a secret, only a message signed with it passes.
pub fn decode(bytes: &Bytes, secret: Option<&[u8]>) -> Result<Message, Refused> {
    if bytes.len() < HEAD_LEN || &bytes[..4] != MAGIC {
        return Err(Refused::Malformed);
    }
    let flags = bytes[4];
    let mut origin = [0u8; 16];
    origin.copy_from_slice(&bytes[5..21]);
    let topic_len = usize::from(u16::from_be_bytes([bytes[21], bytes[22]]));
    let topic_end = HEAD_LEN + topic_len;
    let Some(len_bytes) = bytes.get(topic_end..topic_end + 4) else { return Err(Refused::Malformed) };
    let payload_len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
    let payload_start = topic_end + 4;
    let payload_end = payload_start.checked_add(payload_len).ok_or(Refused::Malformed)?;
    let signed = flags & SIGNED != 0;
    let expected_len = payload_end + if signed { SIGNATURE_LEN } else { 0 };
    if bytes.len() != expected_len || flags & !SIGNED != 0 {
        return Err(Refused::Malformed);
    }
    if let Some(secret) = secret {
        if !signed {
            return Err(Refused::Unsigned);
        }
        let mut check = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        check.update(&bytes[..payload_end]);
        check.verify_slice(&bytes[payload_end..]).map_err(|_| Refused::BadSignature)?;
    }
    Ok(Message {
        origin,
        topic: bytes.slice(HEAD_LEN..topic_end),
        payload: bytes.slice(payload_start..payload_end),
    })
}

fn mac(secret: &[u8], bytes: &[u8]) -> [u8; SIGNATURE_LEN] {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(bytes);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_round_trips_signed_and_unsigned() {
        let origin = new_origin();
        for secret in [None, Some(&b"s3cret"[..])] {
            let wire = encode(&origin, b"room:1", b"{\"x\":1}", secret);
            let m = decode(&wire, secret).expect("decodes");
            assert_eq!((m.origin, &m.topic[..], &m.payload[..]), (origin, &b"room:1"[..], &b"{\"x\":1}"[..]));
        }
    }

    #[test]
    fn with_a_secret_only_messages_signed_with_it_pass() {
        let origin = new_origin();
        let unsigned = encode(&origin, b"t", b"p", None);
        let other = encode(&origin, b"t", b"p", Some(b"other"));
        assert_eq!(decode(&unsigned, Some(b"mine")), Err(Refused::Unsigned));
        assert_eq!(decode(&other, Some(b"mine")), Err(Refused::BadSignature));
        let mut tampered = encode(&origin, b"t", b"p", Some(b"mine")).to_vec();
        tampered[HEAD_LEN + 1 + 4] ^= 1;
        assert_eq!(decode(&Bytes::from(tampered), Some(b"mine")), Err(Refused::BadSignature));
    }

    #[test]
    fn malformed_input_is_refused_not_trusted() {
        let wire = encode(&new_origin(), b"topic", b"payload", None);
        for cut in 0..wire.len() {
            assert_eq!(decode(&wire.slice(..cut), None), Err(Refused::Malformed), "cut at {cut}");
        }
        let mut longer = wire.to_vec();
        longer.push(0);
        assert_eq!(decode(&Bytes::from(longer), None), Err(Refused::Malformed));
        assert_eq!(
            decode(&Bytes::from_static(b"hello world, not via at all"), None),
            Err(Refused::Malformed)
        );
    }

    #[test]
    fn origins_differ() {
        assert_ne!(new_origin(), new_origin());
    }
}
