//! Published vectors reproduced byte for byte: W3C vc-di-eddsa (eddsa-rdfc-2022) and
//! the 1EdTech Open Badges 3.0 Linked Data Proof test vector.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::Digest;
use xcert_credential::IssuerKey;
use xcert_credential::jsonld::Canonicalizer;
use xcert_credential::proof;

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn hex_line(s: &str) -> Vec<u8> {
    hex::decode(s.trim()).unwrap()
}

fn w3c_canonicalizer() -> Canonicalizer {
    Canonicalizer::with_contexts(&[(
        "https://www.w3.org/ns/credentials/examples/v2",
        include_str!("vectors/examples-v2.json"),
    )])
    .unwrap()
}

#[test]
fn w3c_eddsa_rdfc_2022_vector() {
    let c = w3c_canonicalizer();
    let keys = json(include_str!("vectors/keyPair.json"));
    let key =
        IssuerKey::from_secret_multibase(keys["privateKeyMultibase"].as_str().unwrap()).unwrap();
    assert_eq!(key.public_multibase(), keys["publicKeyMultibase"]);

    let unsigned = json(include_str!("vectors/unsigned.json"));
    let config = json(include_str!("vectors/proofConfigDataInt.json"));
    let h = proof::hash_data(&c, &unsigned, &config).unwrap();
    assert_eq!(
        h.canonical_document,
        include_str!("vectors/canonDocDataInt.txt")
    );
    assert_eq!(
        h.canonical_proof_config,
        include_str!("vectors/proofCanonDataInt.txt")
    );
    assert_eq!(
        h.document_hash.to_vec(),
        hex_line(include_str!("vectors/docHashDataInt.txt"))
    );
    assert_eq!(
        h.proof_config_hash.to_vec(),
        hex_line(include_str!("vectors/proofHashDataInt.txt"))
    );
    assert_eq!(
        h.combined().to_vec(),
        hex_line(include_str!("vectors/combinedHashDataInt.txt"))
    );

    let created: DateTime<Utc> = config["created"].as_str().unwrap().parse().unwrap();
    let vm = config["verificationMethod"].as_str().unwrap();
    let signed = proof::sign_with(&c, &unsigned, &key, vm, created).unwrap();
    let expected = json(include_str!("vectors/signedDataInt.json"));
    assert_eq!(
        signed["proof"]["proofValue"].as_str().unwrap(),
        include_str!("vectors/sigBTC58DataInt.txt").trim()
    );
    assert_eq!(signed, expected, "whole signed credential");
    proof::verify_with(&c, &expected, &key.verifying_key()).unwrap();
}

/// 1EdTech OB 3.0 key pair from linked-data-proof-ob.html (hex; the secret is seed ‖ public).
const OB_SECRET_HEX: &str = "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4";
const OB_PUBLIC_MULTIBASE: &str = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi";

#[test]
fn one_edtech_ob3_vector() {
    let c = Canonicalizer::bundled();
    let signed = json(include_str!("vectors/ob/signed.json"));
    let mut unsigned = signed.clone();
    let proof_json = unsigned.as_object_mut().unwrap().remove("proof").unwrap();
    // Safe-mode expansion of a 1EdTech example: every term is defined by VC 2.0 + OB 3.0.3.
    assert_eq!(
        c.canonical_nquads(&unsigned).unwrap(),
        include_str!("vectors/ob/document-canon.txt")
    );

    let seed: [u8; 32] = hex::decode(OB_SECRET_HEX).unwrap().try_into().unwrap();
    let key = IssuerKey::from_secret_bytes(&seed);
    assert_eq!(key.public_multibase(), OB_PUBLIC_MULTIBASE);
    let created: DateTime<Utc> = proof_json["created"].as_str().unwrap().parse().unwrap();
    let vm = proof_json["verificationMethod"].as_str().unwrap();
    let mine = proof::sign(&unsigned, &key, vm, created).unwrap();
    let mut cfg = proof_json.as_object().unwrap().clone();
    cfg.remove("proofValue");
    cfg.insert("@context".into(), unsigned["@context"].clone());
    assert_eq!(
        c.canonical_nquads(&Value::Object(cfg)).unwrap(),
        include_str!("vectors/ob/proof-canon.txt")
    );
    assert_eq!(
        hex::encode(sha2::Sha256::digest(c.canonical_nquads(&unsigned).unwrap())),
        "87f65a76d40146205e3b3e06cb0fbd153f97f9ce70372390f52566bb7f9e0773"
    );
    assert_eq!(mine["proof"]["proofValue"], proof_json["proofValue"]);
    proof::verify(&signed, &key.verifying_key()).unwrap();
}
