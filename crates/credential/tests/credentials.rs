//! Issue → sign → verify, tampering, Chinese names, JWTs and the verification report.

mod common;

use std::collections::HashMap;

use common::*;
use serde_json::Value;
use xcert_credential::did::{did_document, did_web};
use xcert_credential::jsonld::Canonicalizer;
use xcert_credential::proof::{self, ProofError};
use xcert_credential::verify::{
    DidDocuments, DidKeyFirst, DidKeyResolver, NoStatus, Presented, parse_presented,
    verify_presented,
};
use xcert_credential::{IssuerKey, StatusList, build_credential, jwt};

fn did_web_issuer() -> (IssuerKey, String, Value) {
    let key = IssuerKey::from_secret_bytes(&[11u8; 32]);
    let did = did_web(BASE, &["teo", "SGCC"]);
    let doc = did_document(&did, &[("key-1".into(), key.public_multibase())], "key-1");
    (key, did, doc)
}

fn signed(holder: &str) -> (IssuerKey, Value, Value) {
    let (key, did, doc) = did_web_issuer();
    let vc = build_credential(&claims(&did, holder));
    let signed = proof::sign(&vc, &key, &format!("{did}#key-1"), t(2026, 3, 1)).unwrap();
    (key, signed, doc)
}

fn lists() -> HashMap<String, StatusList> {
    let mut m = HashMap::new();
    m.insert(
        format!("{BASE}/status/SGCC/revocation/1"),
        StatusList::new(131_072),
    );
    m.insert(
        format!("{BASE}/status/SGCC/suspension/1"),
        StatusList::new(131_072),
    );
    m
}

#[test]
fn credential_shape_and_safe_mode_expansion() {
    let (_, signed, _) = signed("张三");
    let c = Canonicalizer::bundled();
    let nquads = c.canonical_nquads(&signed).unwrap();
    assert!(nquads.contains("\"sha256$"), "hashed identity present");
    // The OB 3.0.3 context types `hashed` as https://…XMLSchema#boolean (sic, https); JSON-LD keeps
    // that datatype on a native boolean, and so does jsonld.js. This is the case ssi got wrong.
    assert!(
        nquads.contains("#hashed> \"true\"^^<https://www.w3.org/2001/XMLSchema#boolean>"),
        "{nquads}"
    );
    assert!(
        !serde_json::to_string(&signed)
            .unwrap()
            .contains("11010519491231002X"),
        "no raw ID number"
    );
    assert_eq!(
        signed["credentialSubject"]["identifier"][0]["identityType"],
        "nationalIdentityNumber"
    );
    assert_eq!(signed["credentialStatus"][0]["statusListIndex"], "94567");
    // An undefined term is an error, not silently dropped.
    let mut bad = signed.clone();
    bad["credentialSubject"]["nickname"] = "x".into();
    assert!(c.canonical_nquads(&bad).is_err());
}

#[test]
fn sign_verify_and_tamper() {
    let (key, signed, _) = signed("张三");
    proof::verify(&signed, &key.verifying_key()).unwrap();

    let mut t1 = signed.clone();
    t1["credentialSubject"]["identifier"][1]["identityHash"] = "张四".into();
    assert!(matches!(
        proof::verify(&t1, &key.verifying_key()),
        Err(ProofError::BadSignature)
    ));

    let mut t2 = signed.clone();
    let pv = t2["proof"]["proofValue"].as_str().unwrap().to_string();
    let mut bytes = pv.into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    t2["proof"]["proofValue"] = String::from_utf8(bytes).unwrap().into();
    assert!(proof::verify(&t2, &key.verifying_key()).is_err());

    let other = IssuerKey::generate();
    assert!(matches!(
        proof::verify(&signed, &other.verifying_key()),
        Err(ProofError::BadSignature)
    ));
    assert!(matches!(
        proof::sign(&signed, &key, "x", t(2026, 1, 1)),
        Err(ProofError::AlreadySigned)
    ));
}

#[test]
fn rare_chinese_names_survive() {
    for name in ["𠈌", "䶮", "王䶮𠈌", "欧阳𪚥", "赵\u{3000}钱"] {
        let (key, signed, _) = signed(name);
        let nquads = Canonicalizer::bundled().canonical_nquads(&signed).unwrap();
        assert!(nquads.contains(name), "{name} in canonical form");
        proof::verify(&signed, &key.verifying_key()).unwrap();
        let back: Value = serde_json::from_str(&serde_json::to_string(&signed).unwrap()).unwrap();
        proof::verify(&back, &key.verifying_key()).unwrap();
    }
}

#[test]
fn jwt_round_trip_and_tamper() {
    let (key, did, _) = did_web_issuer();
    let vc = build_credential(&claims(&did, "李四"));
    let kid = format!("{did}#key-1");
    let token = jwt::sign_jwt(&vc, &key, &kid);
    let (header, payload) = jwt::decode_jwt(&token).unwrap();
    assert_eq!(
        (
            header.alg.as_str(),
            header.typ.as_deref(),
            header.cty.as_deref()
        ),
        ("EdDSA", Some("vc+jwt"), Some("vc"))
    );
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
    assert_eq!(payload, vc);
    assert_eq!(jwt::verify_jwt(&token, &key.verifying_key()).unwrap(), vc);
    assert!(jwt::verify_jwt(&token, &IssuerKey::generate().verifying_key()).is_err());
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let mut p = jwt::decode_jwt(&token).unwrap().1;
    p["credentialSubject"]["identifier"][1]["identityHash"] = "李五".into();
    parts[1] = base64_url(&serde_json::to_vec(&p).unwrap());
    assert!(matches!(
        jwt::verify_jwt(&parts.join("."), &key.verifying_key()),
        Err(ProofError::BadSignature)
    ));
    assert!(jwt::decode_jwt("a.b").is_err());
}

fn base64_url(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[test]
fn report_all_good_then_revoked_suspended_expired() {
    let (_, signed, doc) = signed("张三");
    let keys = DidKeyFirst(DidDocuments(vec![doc]));
    let text = serde_json::to_string_pretty(&signed).unwrap();
    let p = parse_presented(&text).unwrap();
    let r = verify_presented(&p, &keys, &lists(), t(2026, 6, 1));
    assert!(r.ok, "{:#?}", r.checks);
    let codes: Vec<&str> = r.checks.iter().map(|c| c.code).collect();
    assert_eq!(
        codes,
        [
            "format",
            "signature",
            "issuer",
            "status.revocation",
            "status.suspension",
            "dates"
        ]
    );

    let mut l = lists();
    l.get_mut(&format!("{BASE}/status/SGCC/revocation/1"))
        .unwrap()
        .set(94567, true);
    let r = verify_presented(&p, &keys, &l, t(2026, 6, 1));
    assert!(!r.ok);
    let c = r
        .checks
        .iter()
        .find(|c| c.code == "status.revocation")
        .unwrap();
    assert!(
        !c.ok && c.en.contains("revoked") && c.zh.contains("撤销"),
        "{c:?}"
    );

    let mut l = lists();
    l.get_mut(&format!("{BASE}/status/SGCC/suspension/1"))
        .unwrap()
        .set(23, true);
    let r = verify_presented(&p, &keys, &l, t(2026, 6, 1));
    assert!(
        !r.checks
            .iter()
            .find(|c| c.code == "status.suspension")
            .unwrap()
            .ok
    );

    let r = verify_presented(&p, &keys, &NoStatus, t(2026, 6, 1));
    assert!(!r.ok, "unknown status is not a pass");

    let r = verify_presented(&p, &keys, &lists(), t(2032, 1, 1));
    let d = r.checks.iter().find(|c| c.code == "dates").unwrap();
    assert!(!d.ok && d.en.contains("Expired"), "{d:?}");
    let r = verify_presented(&p, &keys, &lists(), t(2025, 1, 1));
    assert!(!r.checks.iter().find(|c| c.code == "dates").unwrap().ok);

    // Unknown key → signature fails, with a clear reason.
    let r = verify_presented(&p, &DidKeyResolver, &lists(), t(2026, 6, 1));
    let s = r.checks.iter().find(|c| c.code == "signature").unwrap();
    assert!(!s.ok && s.en.contains("unknown"), "{s:?}");
}

#[test]
fn report_issuer_must_control_the_key() {
    // Signed with a did:key that is not the issuer's DID.
    let (_, did, _) = did_web_issuer();
    let stranger = IssuerKey::generate();
    let vc = build_credential(&claims(&did, "张三"));
    let signed = proof::sign(&vc, &stranger, &stranger.did_key_method(), t(2026, 3, 1)).unwrap();
    let r = verify_presented(
        &Presented::DataIntegrity(signed),
        &DidKeyResolver,
        &lists(),
        t(2026, 6, 1),
    );
    assert!(r.checks.iter().find(|c| c.code == "signature").unwrap().ok);
    assert!(!r.checks.iter().find(|c| c.code == "issuer").unwrap().ok);
    assert!(!r.ok);

    // A did:key issuer signing for itself passes.
    let vc = build_credential(&claims(&stranger.did_key(), "张三"));
    let signed = proof::sign(&vc, &stranger, &stranger.did_key_method(), t(2026, 3, 1)).unwrap();
    let r = verify_presented(
        &Presented::DataIntegrity(signed),
        &DidKeyResolver,
        &lists(),
        t(2026, 6, 1),
    );
    assert!(r.ok, "{:#?}", r.checks);
}

#[test]
fn report_for_jwt_and_parse_errors() {
    let (key, did, doc) = did_web_issuer();
    let vc = build_credential(&claims(&did, "张三"));
    let token = jwt::sign_jwt(&vc, &key, &format!("{did}#key-1"));
    for text in [token.clone(), format!("  \"{token}\"\n")] {
        let p = parse_presented(&text).unwrap();
        assert!(matches!(p, Presented::Jwt(_)));
        let r = verify_presented(
            &p,
            &DidKeyFirst(DidDocuments(vec![doc.clone()])),
            &lists(),
            t(2026, 6, 1),
        );
        assert!(r.ok, "{:#?}", r.checks);
        assert_eq!(r.credential.as_ref(), Some(&vc));
    }
    assert!(parse_presented("").is_err());
    let e = parse_presented("hello world").unwrap_err();
    assert!(e.to_string().contains("neither"), "{e}");
    assert!(parse_presented("[1,2]").is_err());
}

#[test]
fn relative_ids_are_errors_not_dropped() {
    let c = Canonicalizer::bundled();
    let ok = "http://ok.example/x";
    for (id, issuer) in [("not an iri", ok), (ok, "relative/path"), (ok, ok)] {
        let d = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": id, "type": ["VerifiableCredential"], "name": "n", "issuer": issuer
        });
        let r = c.canonical_nquads(&d);
        assert_eq!(r.is_ok(), id == ok && issuer == ok, "{id} {issuer}: {r:?}");
    }
}
