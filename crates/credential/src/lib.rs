//! xcert credentials: certificate numbers (证书编号), TEO keys, Open Badges 3.0 credentials
//! with eddsa-rdfc-2022 proofs and VC-JOSE JWTs, did:web/did:key, Bitstring Status Lists,
//! and verification. No I/O: every JSON-LD context is bundled.

pub mod credential;
pub mod did;
pub mod jsonld;
pub mod jwt;
pub mod keys;
pub mod number;
pub mod proof;
pub mod status;
pub mod verify;

pub use credential::{CertificateClaims, StatusEntry, build_credential};
pub use keys::{IssuerKey, KeyError, VerifyingKey};
pub use number::{CertificateNumber, NumberError};
pub use status::{StatusError, StatusList};

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn shared_types_are_send_sync() {
        assert_send_sync::<crate::IssuerKey>();
        assert_send_sync::<crate::jsonld::Canonicalizer>();
        assert_send_sync::<crate::StatusList>();
        assert_send_sync::<crate::verify::DidDocuments>();
    }
}
