//! The direct issuance path must give exactly the general JSON-LD path's bytes.

mod common;

use common::*;
use xcert_credential::jsonld::Canonicalizer;
use xcert_credential::{IssuerKey, StatusEntry, build_credential, proof};

fn variants() -> Vec<xcert_credential::CertificateClaims> {
    let mut out = Vec::new();
    let base = claims("did:web:127.0.0.1%3A8080:teo:SGCC", "张三");
    out.push(base.clone());
    let mut v = base.clone();
    v.issuer_url = None;
    v.college_name = None;
    v.valid_until = None;
    v.status.clear();
    out.push(v);
    let mut v = base.clone();
    v.holder_name = "王䶮𠈌 \"O'Neil\"\\\n\t\u{7}".into();
    v.criteria_narrative = "line1\nline2\r\n<b>&amp;</b> 𪚥".into();
    v.level_name = String::new();
    v.status.push(StatusEntry {
        purpose: "message".into(),
        list_url: format!("{BASE}/status/m/1"),
        index: 0,
    });
    out.push(v);
    let mut v = base;
    v.issuer_did = IssuerKey::from_secret_bytes(&[1; 32]).did_key();
    v.credential_id = "urn:uuid:0b7c5f6e-3d39-4b8e-9d0a-6a3c1f1e2d4b".into();
    out.push(v);
    out
}

#[test]
fn direct_quads_equal_general_jsonld() {
    for c in variants() {
        let general = Canonicalizer::bundled()
            .canonical_nquads(&build_credential(&c))
            .unwrap();
        assert_eq!(
            proof::certificate_canonical_nquads(&c).unwrap(),
            general,
            "{c:?}"
        );
    }
}

#[test]
fn sign_certificate_equals_sign() {
    let key = IssuerKey::from_secret_bytes(&[3; 32]);
    for c in variants() {
        let vm = format!("{}#key-1", c.issuer_did);
        let a = proof::sign_certificate(&c, &key, &vm, t(2026, 3, 2)).unwrap();
        let b = proof::sign(&build_credential(&c), &key, &vm, t(2026, 3, 2)).unwrap();
        assert_eq!(a, b);
        proof::verify(&a, &key.verifying_key()).unwrap();
    }
    // A credential id that is not an IRI falls back to the general path, which refuses it.
    let mut c = variants().remove(0);
    c.credential_id = "not an iri".into();
    assert!(proof::sign_certificate(&c, &key, "did:key:x#x", t(2026, 3, 2)).is_err());
}
