//! Issuance throughput: build + eddsa-rdfc-2022 sign + vc+jwt per credential, against raw
//! Ed25519 signatures, on one thread and with rayon on two.
//!
//! cargo run --release -p xcert-credential --example bench_sign [N]

use std::time::Instant;

use chrono::{TimeZone, Utc};
use rayon::prelude::*;
use xcert_credential::credential::identity_hash;
use xcert_credential::did::did_web;
use xcert_credential::{
    CertificateClaims, CertificateNumber, IssuerKey, StatusEntry, build_credential, jwt, proof,
};

fn claims(i: u64, did: &str) -> CertificateClaims {
    let number = CertificateNumber::new(2026, 3, i).unwrap();
    let base = "https://xcert.example.cn";
    CertificateClaims {
        credential_id: format!("{base}/certificates/{number}"),
        number,
        issuer_did: did.into(),
        issuer_name: "国网能源研究院有限公司".into(),
        issuer_url: Some(format!("{base}/teo/SGCC")),
        holder_name: format!("张三{i}"),
        id_number_hash: identity_hash(&format!("salt{i}"), "11010519491231002X"),
        id_salt: format!("salt{i}"),
        id_masked: "1101**********002X".into(),
        achievement_id: format!("{base}/registry/power-demand-response/2"),
        achievement_name: "电力需求响应综合服务（中级）".into(),
        achievement_description: "电力需求响应综合服务职业技能等级证书（中级）".into(),
        criteria_narrative: "能够完成负荷资源调查、需求响应方案编制与效果评估。".into(),
        level_name: "中级".into(),
        college_name: Some("北京电子科技职业学院".into()),
        issued_at: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
        valid_until: None,
        status: vec![
            StatusEntry {
                purpose: "revocation".into(),
                list_url: format!("{base}/status/1"),
                index: i as usize,
            },
            StatusEntry {
                purpose: "suspension".into(),
                list_url: format!("{base}/status/2"),
                index: i as usize,
            },
        ],
        replaces: None,
    }
}

/// What issuance does per certificate: the signed credential and its JWT form.
fn issue(i: u64, key: &IssuerKey, did: &str, vm: &str) -> usize {
    let c = claims(i, did);
    let signed = proof::sign_certificate(&c, key, vm, Utc::now()).unwrap();
    let token = jwt::sign_jwt(&signed, key, vm);
    signed.as_object().unwrap().len() + token.len()
}

/// The same through the general JSON-LD path (`proof::sign`), for comparison.
fn issue_general(i: u64, key: &IssuerKey, did: &str, vm: &str) -> usize {
    let vc = build_credential(&claims(i, did));
    let signed = proof::sign(&vc, key, vm, Utc::now()).unwrap();
    let token = jwt::sign_jwt(&vc, key, vm);
    signed.as_object().unwrap().len() + token.len()
}

fn rate(n: u64, f: impl FnOnce() -> usize) -> f64 {
    let t = Instant::now();
    std::hint::black_box(f());
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000);
    let key = IssuerKey::generate();
    let did = did_web("https://xcert.example.cn", &["teo", "SGCC"]);
    let vm = format!("{did}#key-1");
    issue(0, &key, &did, &vm); // load and process the contexts once
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();

    let raw1 = rate(n * 10, || {
        (0..n * 10)
            .map(|i| key.sign(&i.to_le_bytes())[0] as usize)
            .sum()
    });
    let raw2 = rate(n * 10, || {
        pool.install(|| {
            (0..n * 10)
                .into_par_iter()
                .map(|i| key.sign(&i.to_le_bytes())[0] as usize)
                .sum()
        })
    });
    let cred1 = rate(n, || (1..=n).map(|i| issue(i, &key, &did, &vm)).sum());
    let cred2 = rate(n, || {
        pool.install(|| {
            (1..=n)
                .into_par_iter()
                .map(|i| issue(i, &key, &did, &vm))
                .sum()
        })
    });
    let general1 = rate(n / 5, || {
        (1..=n / 5).map(|i| issue_general(i, &key, &did, &vm)).sum()
    });
    println!("credentials (build + DI sign + JWT), {n} each:");
    println!(
        "  1 thread : {cred1:>10.0} credentials/s  ({:.0} µs each)",
        1e6 / cred1
    );
    println!(
        "  2 threads: {cred2:>10.0} credentials/s  ({:.0}/min)",
        cred2 * 60.0
    );
    println!("  general JSON-LD path, 1 thread: {general1:>6.0} credentials/s");
    println!("raw ed25519 signatures:");
    println!("  1 thread : {raw1:>10.0} signs/s");
    println!("  2 threads: {raw2:>10.0} signs/s");
}
