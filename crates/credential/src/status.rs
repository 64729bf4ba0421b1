//! W3C Bitstring Status List v1.0: the list, its encoding, random index allocation.

use std::io::{Read, Write};

use base64::Engine as _;
use serde_json::{Value, json};

/// The spec's minimum list size (16 KiB of bits), for herd privacy.
pub const MIN_LIST_SIZE: usize = 131_072;
/// Refuse to inflate lists beyond this many bytes (a gzip bomb guard): 128 Mi entries.
const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("encodedList must be multibase base64url (start with 'u')")]
    NotMultibase,
    #[error("encodedList is not valid base64url")]
    Base64,
    #[error("encodedList is not valid GZIP data")]
    Gzip,
    #[error("the decoded status list has {bits} entries; at least {MIN_LIST_SIZE} are required")]
    TooSmall { bits: usize },
    #[error("the decoded status list is larger than {MAX_LIST_BYTES} bytes")]
    TooLarge,
}

/// A bitstring; index 0 is the left-most (most significant) bit of the first byte.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for StatusList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self
            .bytes
            .iter()
            .map(|b| b.count_ones() as usize)
            .sum::<usize>();
        write!(f, "StatusList({} entries, {set} set)", self.size())
    }
}

impl StatusList {
    /// Panics unless `size` is a multiple of 8 and at least [`MIN_LIST_SIZE`].
    pub fn new(size: usize) -> Self {
        assert!(
            size >= MIN_LIST_SIZE && size.is_multiple_of(8),
            "status list size must be a multiple of 8 and >= {MIN_LIST_SIZE}"
        );
        Self {
            bytes: vec![0; size / 8],
        }
    }

    pub fn size(&self) -> usize {
        self.bytes.len() * 8
    }

    pub fn get(&self, index: usize) -> bool {
        self.bytes[index / 8] & (0x80 >> (index % 8)) != 0
    }

    pub fn set(&mut self, index: usize, value: bool) {
        let mask = 0x80 >> (index % 8);
        if value {
            self.bytes[index / 8] |= mask;
        } else {
            self.bytes[index / 8] &= !mask;
        }
    }

    /// GZIP, then base64url without padding, with the multibase prefix `u`.
    pub fn encode(&self) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&self.bytes).expect("writing to memory");
        let zipped = gz.finish().expect("writing to memory");
        format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(zipped)
        )
    }

    /// Also accepts padded base64url, which some issuers emit.
    pub fn decode(s: &str) -> Result<Self, StatusError> {
        let b64 = s
            .trim()
            .strip_prefix('u')
            .ok_or(StatusError::NotMultibase)?;
        let zipped = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64.trim_end_matches('='))
            .map_err(|_| StatusError::Base64)?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(zipped.as_slice())
            .take(MAX_LIST_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusError::Gzip)?;
        if bytes.len() > MAX_LIST_BYTES {
            return Err(StatusError::TooLarge);
        }
        if bytes.len() * 8 < MIN_LIST_SIZE {
            return Err(StatusError::TooSmall {
                bits: bytes.len() * 8,
            });
        }
        Ok(Self { bytes })
    }
}

fn mix(mut z: u64) -> u64 {
    // splitmix64 finalizer: a cheap, well-distributed round function.
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A keyed pseudorandom permutation of `0..size`: slot n (a counter) maps to a unique,
/// random-looking index, so indexes can be allocated without looking up used ones.
///
/// A 4-round balanced Feistel network on the smallest even bit width covering `size`,
/// with cycle-walking to stay inside `0..size`. Panics if `slot >= size`.
pub fn slot_to_index(list_secret: u64, size: usize, slot: usize) -> usize {
    assert!(slot < size, "slot {slot} out of range for a list of {size}");
    let bits = usize::BITS - (size - 1).max(1).leading_zeros();
    let half = bits.div_ceil(2);
    let mask = (1u64 << half) - 1;
    let mut x = slot as u64;
    loop {
        let (mut l, mut r) = (x >> half, x & mask);
        for round in 0..4u64 {
            let f = mix(list_secret ^ mix(r ^ (round << 56))) & mask;
            (l, r) = (r, l ^ f);
        }
        x = (l << half) | r;
        if (x as usize) < size {
            return x as usize;
        }
    }
}

/// The unsigned BitstringStatusListCredential for `list_url`.
pub fn status_list_credential(
    list_url: &str,
    issuer_did: &str,
    purpose: &str,
    list: &StatusList,
    valid_from: chrono::DateTime<chrono::Utc>,
) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": crate::credential::xsd_datetime(valid_from),
        "credentialSubject": {
            "id": format!("{list_url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": list.encode(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut l = StatusList::new(MIN_LIST_SIZE);
        for i in [0, 1, 7, 8, 4242, MIN_LIST_SIZE - 1] {
            l.set(i, true);
        }
        l.set(1, false);
        let d = StatusList::decode(&l.encode()).unwrap();
        assert_eq!(d, l);
        assert!(
            d.get(0)
                && !d.get(1)
                && d.get(7)
                && d.get(8)
                && d.get(4242)
                && d.get(MIN_LIST_SIZE - 1)
        );
        assert!(!d.get(2));
    }

    #[test]
    fn spec_example_is_empty_list() {
        // W3C Bitstring Status List v1.0, example "BitstringStatusListCredential".
        let l = StatusList::decode(
            "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
        )
        .unwrap();
        assert_eq!(l.size(), MIN_LIST_SIZE);
        assert!((0..l.size()).all(|i| !l.get(i)));
    }

    #[test]
    fn node_zlib_list() {
        // Made with Node's zlib.gzipSync over 16384 bytes with [0]=0x81, [100]=0x20, [16383]=0x01.
        let l = StatusList::decode(
            "uH4sIAAAAAAAAA-3NAQ0AAAQAMJqoqrkUbLa_wDv21cEBAAAAAAAAAAAAAAAAAAAAj-UAQIsYRABAAAA",
        )
        .unwrap();
        let set: Vec<usize> = (0..l.size()).filter(|&i| l.get(i)).collect();
        assert_eq!(set, vec![0, 7, 802, 131_071]);
    }

    #[test]
    fn decode_errors() {
        assert_eq!(
            StatusList::decode("H4sI").unwrap_err(),
            StatusError::NotMultibase
        );
        assert_eq!(StatusList::decode("u!!").unwrap_err(), StatusError::Base64);
        assert_eq!(StatusList::decode("uAAAA").unwrap_err(), StatusError::Gzip);
    }

    #[test]
    fn permutation() {
        for size in [1usize, 2, 3, 100, 1000] {
            let mut seen: Vec<usize> = (0..size).map(|s| slot_to_index(42, size, s)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..size).collect::<Vec<_>>());
        }
        let mut seen = vec![false; MIN_LIST_SIZE];
        for s in 0..MIN_LIST_SIZE {
            let i = slot_to_index(0xdead_beef, MIN_LIST_SIZE, s);
            assert!(!seen[i], "index {i} repeated");
            seen[i] = true;
        }
        // Random-looking: the first slots are not the first indexes, and keys differ.
        let first: Vec<usize> = (0..8).map(|s| slot_to_index(1, MIN_LIST_SIZE, s)).collect();
        assert_ne!(first, (0..8).collect::<Vec<_>>());
        assert_ne!(
            first,
            (0..8)
                .map(|s| slot_to_index(2, MIN_LIST_SIZE, s))
                .collect::<Vec<_>>()
        );
    }
}
