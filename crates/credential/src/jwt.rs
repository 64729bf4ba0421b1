//! VC-JOSE-COSE: a credential secured as a compact JWS (`vc+jwt`), EdDSA over Ed25519.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys::IssuerKey;
use crate::proof::ProofError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtHeader {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
}

/// Signs the unsecured credential (any embedded `proof` is dropped) as the JWS payload.
pub fn sign_jwt(doc: &Value, key: &IssuerKey, kid: &str) -> String {
    let header = JwtHeader {
        alg: "EdDSA".into(),
        kid: Some(kid.into()),
        typ: Some("vc+jwt".into()),
        cty: Some("vc".into()),
    };
    let mut payload = doc.clone();
    if let Some(o) = payload.as_object_mut() {
        o.remove("proof");
    }
    let signing_input = format!(
        "{}.{}",
        B64.encode(serde_json::to_vec(&header).expect("header serializes")),
        B64.encode(serde_json::to_vec(&payload).expect("JSON value serializes"))
    );
    let sig = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(sig))
}

fn parts(token: &str) -> Result<[&str; 3], ProofError> {
    let p: Vec<&str> = token.trim().split('.').collect();
    <[&str; 3]>::try_from(p)
        .map_err(|_| ProofError::Jwt("a compact JWS has three dot-separated parts".into()))
}

/// Decodes header and payload without verifying anything.
pub fn decode_jwt(token: &str) -> Result<(JwtHeader, Value), ProofError> {
    let [h, p, _] = parts(token)?;
    let header = B64
        .decode(h)
        .map_err(|_| ProofError::Jwt("header is not base64url".into()))?;
    let header: JwtHeader =
        serde_json::from_slice(&header).map_err(|e| ProofError::Jwt(format!("header: {e}")))?;
    let payload = B64
        .decode(p)
        .map_err(|_| ProofError::Jwt("payload is not base64url".into()))?;
    let payload: Value =
        serde_json::from_slice(&payload).map_err(|e| ProofError::Jwt(format!("payload: {e}")))?;
    Ok((header, payload))
}

pub fn verify_jwt(token: &str, public_key: &VerifyingKey) -> Result<Value, ProofError> {
    let (header, payload) = decode_jwt(token)?;
    if header.alg != "EdDSA" {
        return Err(ProofError::Unsupported(format!("JWS alg {}", header.alg)));
    }
    let token = token.trim();
    let [_, _, s] = parts(token)?;
    let sig = B64
        .decode(s)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .ok_or_else(|| ProofError::Jwt("signature is not a base64url Ed25519 signature".into()))?;
    let signing_input = &token[..token.len() - s.len() - 1];
    public_key
        .verify(signing_input.as_bytes(), &Signature::from_bytes(&sig))
        .map_err(|_| ProofError::BadSignature)?;
    Ok(payload)
}
