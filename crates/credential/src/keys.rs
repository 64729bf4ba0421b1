//! TEO signing keys: Ed25519, shown as Multikey (`z6Mk…`) and did:key, sealed at rest.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signer, SigningKey};
use rand::RngCore;

pub use ed25519_dalek::VerifyingKey;

/// Multicodec prefixes (varint) for Ed25519 public and private keys.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a Multikey must be base58btc multibase (start with 'z')")]
    NotBase58Multibase,
    #[error("invalid base58 in the Multikey")]
    Base58,
    #[error("not an Ed25519 {0} key (wrong multicodec prefix or length)")]
    NotEd25519(&'static str),
    #[error("the Ed25519 public key is not a valid curve point")]
    InvalidPublicKey,
    #[error("not a did:key DID URL: {0}")]
    NotDidKey(String),
    #[error("the sealed key is not valid base64 or is too short")]
    SealedFormat,
    #[error("cannot open the sealed key: wrong master key, or the sealed text was altered")]
    WrongMasterKey,
}

/// A TEO's Ed25519 signing key. Cheap to share across threads (`Send + Sync`).
#[derive(Clone)]
pub struct IssuerKey {
    signing: SigningKey,
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        write!(f, "IssuerKey({})", self.public_multibase())
    }
}

impl IssuerKey {
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    pub fn from_secret_bytes(b: &[u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(b),
        }
    }

    /// From a `secretKeyMultibase` (`z3u2…`, multicodec 0x1300 ed25519-priv).
    pub fn from_secret_multibase(s: &str) -> Result<Self, KeyError> {
        let bytes = decode_multikey(s, ED25519_PRIV, "private")?;
        Ok(Self::from_secret_bytes(&bytes))
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// `publicKeyMultibase` of the Multikey: base58btc of 0xed01 ‖ key.
    pub fn public_multibase(&self) -> String {
        public_multibase(&self.verifying_key())
    }

    pub fn did_key(&self) -> String {
        format!("did:key:{}", self.public_multibase())
    }

    /// The did:key verification method, `did:key:z6Mk…#z6Mk…`.
    pub fn did_key_method(&self) -> String {
        let mb = self.public_multibase();
        format!("did:key:{mb}#{mb}")
    }

    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }
}

pub fn public_multibase(key: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB);
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

fn decode_multikey(s: &str, prefix: [u8; 2], what: &'static str) -> Result<[u8; 32], KeyError> {
    let b58 = s.strip_prefix('z').ok_or(KeyError::NotBase58Multibase)?;
    let bytes = bs58::decode(b58).into_vec().map_err(|_| KeyError::Base58)?;
    if bytes.len() != 34 || bytes[..2] != prefix {
        return Err(KeyError::NotEd25519(what));
    }
    Ok(bytes[2..].try_into().expect("32 bytes"))
}

/// Parses a `publicKeyMultibase` (`z6Mk…`).
pub fn public_key_from_multibase(s: &str) -> Result<VerifyingKey, KeyError> {
    let bytes = decode_multikey(s, ED25519_PUB, "public")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::InvalidPublicKey)
}

/// The public key a did:key DID or DID URL (`did:key:z6Mk…[#z6Mk…]`) stands for.
pub fn public_key_from_did_key(did_url: &str) -> Result<VerifyingKey, KeyError> {
    let rest = did_url
        .strip_prefix("did:key:")
        .ok_or_else(|| KeyError::NotDidKey(did_url.into()))?;
    let (id, fragment) = match rest.split_once('#') {
        Some((id, f)) => (id, Some(f)),
        None => (rest, None),
    };
    if fragment.is_some_and(|f| f != id) {
        return Err(KeyError::NotDidKey(did_url.into()));
    }
    public_key_from_multibase(id)
}

const NONCE_LEN: usize = 24;

/// Seals a secret key with a 32-byte master key: base64(nonce ‖ XChaCha20-Poly1305 ciphertext).
pub fn seal(master: &[u8; 32], secret: &[u8; 32]) -> String {
    let cipher = XChaCha20Poly1305::new(master.into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), secret.as_slice())
        .expect("encrypting 32 bytes cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    base64::engine::general_purpose::STANDARD.encode(out)
}

pub fn open(master: &[u8; 32], sealed: &str) -> Result<[u8; 32], KeyError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sealed.trim())
        .map_err(|_| KeyError::SealedFormat)?;
    if raw.len() != NONCE_LEN + 32 + 16 {
        return Err(KeyError::SealedFormat);
    }
    let cipher = XChaCha20Poly1305::new(master.into());
    let plain = cipher
        .decrypt(XNonce::from_slice(&raw[..NONCE_LEN]), &raw[NONCE_LEN..])
        .map_err(|_| KeyError::WrongMasterKey)?;
    Ok(plain.try_into().expect("32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multikey_round_trip_and_vector_key() {
        // W3C vc-di-eddsa TestVectors/keyPair.json
        let key =
            IssuerKey::from_secret_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
                .unwrap();
        assert_eq!(
            key.public_multibase(),
            "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
        );
        let vk = public_key_from_multibase(&key.public_multibase()).unwrap();
        assert_eq!(vk, key.verifying_key());
        assert_eq!(public_key_from_did_key(&key.did_key_method()).unwrap(), vk);
        assert!(
            public_key_from_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq").is_err()
        );
        let again = IssuerKey::from_secret_bytes(&key.secret_bytes());
        assert_eq!(again.sign(b"m"), key.sign(b"m"));
    }

    #[test]
    fn seal_open() {
        let master = [7u8; 32];
        let secret = IssuerKey::generate().secret_bytes();
        let sealed = seal(&master, &secret);
        assert_ne!(seal(&master, &secret), sealed, "random nonce");
        assert_eq!(open(&master, &sealed).unwrap(), secret);
        assert_eq!(
            open(&[8u8; 32], &sealed).unwrap_err(),
            KeyError::WrongMasterKey
        );
        assert_eq!(open(&master, "abc").unwrap_err(), KeyError::SealedFormat);
    }
}
