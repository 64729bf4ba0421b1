//! Where one issuance spends its time (release): build, JSON-LD → RDF, RDFC-1.0, JWT.
use std::time::Instant;
use xcert_credential::jsonld::Canonicalizer;
use xcert_credential::{IssuerKey, build_credential, jwt, proof};
#[path = "../tests/common/mod.rs"]
mod common;

fn time<T>(label: &str, n: u32, mut f: impl FnMut() -> T) {
    f();
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    println!(
        "{label:<28} {:>8.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}

fn main() {
    let c = Canonicalizer::bundled();
    let key = IssuerKey::generate();
    let claims = common::claims("did:web:h:teo:X", "张三");
    let vc = build_credential(&claims);
    let cfg = serde_json::json!({"@context": vc["@context"], "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-03-01T00:00:00Z", "verificationMethod": "did:web:h:teo:X#key-1", "proofPurpose": "assertionMethod"});
    let n = 500;
    time("build_credential", n, || build_credential(&claims));
    time("to_rdf(credential)", n, || c.to_rdf(&vc).unwrap());
    time("to_rdf(proof config)", n, || c.to_rdf(&cfg).unwrap());
    let q = c.to_rdf(&vc).unwrap();
    time("rdfc-1.0(credential quads)", n, || {
        rdf_canon::canonicalize_quads(&q).unwrap()
    });
    time("proof::sign", n, || {
        proof::sign(&vc, &key, "did:web:h:teo:X#key-1", claims.issued_at).unwrap()
    });
    time("jwt::sign_jwt", n, || jwt::sign_jwt(&vc, &key, "k"));
}
