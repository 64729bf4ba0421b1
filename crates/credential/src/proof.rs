//! Data Integrity proofs, cryptosuite `eddsa-rdfc-2022` (W3C vc-di-eddsa §3.3).

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::jsonld::{Canonicalizer, JsonLdError};
use crate::keys::IssuerKey;

pub const CRYPTOSUITE: &str = "eddsa-rdfc-2022";

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("the credential is not a JSON object")]
    NotAnObject,
    #[error("the credential has no proof")]
    MissingProof,
    #[error("the credential already has a proof")]
    AlreadySigned,
    #[error("unsupported proof: {0}")]
    Unsupported(String),
    #[error("the proof is malformed: {0}")]
    Malformed(String),
    #[error("proofValue is not a base58btc Ed25519 signature")]
    ProofValue,
    #[error(
        "the signature does not match the credential: it was altered, or signed by another key"
    )]
    BadSignature,
    #[error("the JWT is malformed: {0}")]
    Jwt(String),
    #[error(transparent)]
    JsonLd(#[from] JsonLdError),
}

/// The hashes signed for a document and proof configuration, kept for tests and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashData {
    pub canonical_proof_config: String,
    pub canonical_document: String,
    pub proof_config_hash: [u8; 32],
    pub document_hash: [u8; 32],
}

impl HashData {
    /// sha256(proof config) ‖ sha256(document), the bytes that are signed.
    pub fn combined(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.proof_config_hash);
        out[32..].copy_from_slice(&self.document_hash);
        out
    }
}

fn context_of(doc: &Map<String, Value>) -> Value {
    doc.get("@context").cloned().unwrap_or(Value::Null)
}

/// Transformation + hashing (spec §3.3.1–3.3.4): both canonicalized with RDFC-1.0 and hashed.
pub fn hash_data(
    c: &Canonicalizer,
    unsecured: &Value,
    proof_config: &Value,
) -> Result<HashData, ProofError> {
    let canonical_document = c.canonical_nquads(unsecured)?;
    let canonical_proof_config = c.canonical_nquads(proof_config)?;
    Ok(HashData {
        proof_config_hash: Sha256::digest(canonical_proof_config.as_bytes()).into(),
        document_hash: Sha256::digest(canonical_document.as_bytes()).into(),
        canonical_proof_config,
        canonical_document,
    })
}

/// The proof options as they are canonicalized: the proof without `proofValue`, with the
/// document's `@context`.
fn proof_config(proof: &Map<String, Value>, context: Value) -> Value {
    let mut cfg = proof.clone();
    cfg.remove("proofValue");
    cfg.insert("@context".into(), context);
    Value::Object(cfg)
}

/// Adds an `eddsa-rdfc-2022` DataIntegrityProof using the bundled contexts.
pub fn sign(
    doc: &Value,
    key: &IssuerKey,
    verification_method: &str,
    created: chrono::DateTime<chrono::Utc>,
) -> Result<Value, ProofError> {
    sign_with(
        Canonicalizer::bundled(),
        doc,
        key,
        verification_method,
        created,
    )
}

pub fn sign_with(
    c: &Canonicalizer,
    doc: &Value,
    key: &IssuerKey,
    verification_method: &str,
    created: chrono::DateTime<chrono::Utc>,
) -> Result<Value, ProofError> {
    let object = doc.as_object().ok_or(ProofError::NotAnObject)?;
    if object.contains_key("proof") {
        return Err(ProofError::AlreadySigned);
    }
    let proof = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": crate::credential::xsd_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    });
    let proof = proof.as_object().expect("object").clone();
    let hashes = hash_data(c, doc, &proof_config(&proof, context_of(object)))?;
    let signature = key.sign(&hashes.combined());
    let mut proof = proof;
    proof.insert(
        "proofValue".into(),
        json!(format!("z{}", bs58::encode(signature).into_string())),
    );
    let mut signed = object.clone();
    signed.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(signed))
}

/// The single eddsa-rdfc-2022 proof of a secured document.
pub fn embedded_proof(doc: &Value) -> Result<&Map<String, Value>, ProofError> {
    let object = doc.as_object().ok_or(ProofError::NotAnObject)?;
    let proof = match object.get("proof") {
        None => return Err(ProofError::MissingProof),
        Some(Value::Array(list)) if list.len() == 1 => &list[0],
        Some(Value::Array(_)) => return Err(ProofError::Unsupported("more than one proof".into())),
        Some(p) => p,
    };
    let proof = proof
        .as_object()
        .ok_or_else(|| ProofError::Malformed("proof is not an object".into()))?;
    if proof.get("type").and_then(Value::as_str) != Some("DataIntegrityProof") {
        return Err(ProofError::Unsupported(format!(
            "proof type {}",
            proof.get("type").unwrap_or(&Value::Null)
        )));
    }
    if proof.get("cryptosuite").and_then(Value::as_str) != Some(CRYPTOSUITE) {
        return Err(ProofError::Unsupported(format!(
            "cryptosuite {}",
            proof.get("cryptosuite").unwrap_or(&Value::Null)
        )));
    }
    Ok(proof)
}

pub fn verification_method(doc: &Value) -> Result<&str, ProofError> {
    embedded_proof(doc)?
        .get("verificationMethod")
        .and_then(Value::as_str)
        .ok_or_else(|| ProofError::Malformed("no verificationMethod".into()))
}

/// Verifies the embedded eddsa-rdfc-2022 proof with `public_key` (bundled contexts).
pub fn verify(doc: &Value, public_key: &VerifyingKey) -> Result<(), ProofError> {
    verify_with(Canonicalizer::bundled(), doc, public_key)
}

pub fn verify_with(
    c: &Canonicalizer,
    doc: &Value,
    public_key: &VerifyingKey,
) -> Result<(), ProofError> {
    let proof = embedded_proof(doc)?;
    let object = doc.as_object().expect("checked by embedded_proof");
    let value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .ok_or_else(|| ProofError::Malformed("no proofValue".into()))?;
    let signature = value
        .strip_prefix('z')
        .and_then(|b| bs58::decode(b).into_vec().ok())
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .ok_or(ProofError::ProofValue)?;
    if proof.get("proofPurpose").and_then(Value::as_str) != Some("assertionMethod") {
        return Err(ProofError::Malformed(
            "proofPurpose must be assertionMethod".into(),
        ));
    }
    let mut unsecured = object.clone();
    unsecured.remove("proof");
    let context = context_of(object);
    // §3.3.2: a proof carrying its own @context must agree with the document's.
    if let Some(own) = proof.get("@context")
        && *own != context
    {
        return Err(ProofError::Malformed(
            "proof @context differs from the document's".into(),
        ));
    }
    let hashes = hash_data(c, &Value::Object(unsecured), &proof_config(proof, context))?;
    public_key
        .verify(&hashes.combined(), &Signature::from_bytes(&signature))
        .map_err(|_| ProofError::BadSignature)
}

/// The RDF of an eddsa-rdfc-2022 proof configuration (what the VC 2.0 context's scoped
/// `DataIntegrityProof` definition yields), written out directly for issuance.
fn proof_config_quads(created: &str, verification_method: &str) -> Option<Vec<oxrdf::Quad>> {
    use oxrdf::{BlankNode, GraphName, Literal, NamedNode, Quad};
    let b = BlankNode::new_unchecked("p");
    let q = |p: &str, o: oxrdf::Term| {
        Quad::new(
            b.clone(),
            NamedNode::new_unchecked(p),
            o,
            GraphName::DefaultGraph,
        )
    };
    Some(vec![
        q(
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            NamedNode::new_unchecked("https://w3id.org/security#DataIntegrityProof").into(),
        ),
        q(
            "https://w3id.org/security#cryptosuite",
            Literal::new_typed_literal(
                CRYPTOSUITE,
                NamedNode::new_unchecked("https://w3id.org/security#cryptosuiteString"),
            )
            .into(),
        ),
        q(
            "http://purl.org/dc/terms/created",
            Literal::new_typed_literal(
                created,
                NamedNode::new_unchecked("http://www.w3.org/2001/XMLSchema#dateTime"),
            )
            .into(),
        ),
        q(
            "https://w3id.org/security#verificationMethod",
            NamedNode::new(verification_method).ok()?.into(),
        ),
        q(
            "https://w3id.org/security#proofPurpose",
            NamedNode::new_unchecked("https://w3id.org/security#assertionMethod").into(),
        ),
    ])
}

fn canonical(quads: &[oxrdf::Quad]) -> Result<String, ProofError> {
    rdf_canon::canonicalize_quads(quads)
        .map_err(|e| JsonLdError::Canonicalization(e.to_string()).into())
}

/// Issues one certificate: `build_credential(c)` signed with eddsa-rdfc-2022, with the same
/// bytes as [`sign`] but without the JSON-LD expansion cost (see `credential::rdf_quads`).
pub fn sign_certificate(
    c: &crate::credential::CertificateClaims,
    key: &IssuerKey,
    verification_method: &str,
    created: chrono::DateTime<chrono::Utc>,
) -> Result<Value, ProofError> {
    let doc = crate::credential::build_credential(c);
    let created_s = crate::credential::xsd_datetime(created);
    let (Some(doc_quads), Some(cfg_quads)) = (
        crate::credential::rdf_quads(c),
        proof_config_quads(&created_s, verification_method),
    ) else {
        return sign(&doc, key, verification_method, created);
    };
    let hashes = HashData {
        canonical_document: canonical(&doc_quads)?,
        canonical_proof_config: canonical(&cfg_quads)?,
        proof_config_hash: [0; 32],
        document_hash: [0; 32],
    };
    let hashes = HashData {
        proof_config_hash: Sha256::digest(hashes.canonical_proof_config.as_bytes()).into(),
        document_hash: Sha256::digest(hashes.canonical_document.as_bytes()).into(),
        ..hashes
    };
    let signature = key.sign(&hashes.combined());
    let mut signed = doc;
    signed["proof"] = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": created_s,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
        "proofValue": format!("z{}", bs58::encode(signature).into_string()),
    });
    Ok(signed)
}

/// Canonical N-Quads of a certificate through the direct path (for differential tests).
#[doc(hidden)]
pub fn certificate_canonical_nquads(c: &crate::credential::CertificateClaims) -> Option<String> {
    canonical(&crate::credential::rdf_quads(c)?).ok()
}
