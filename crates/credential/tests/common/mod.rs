#![allow(dead_code)]
use chrono::{DateTime, TimeZone, Utc};
use xcert_credential::credential::identity_hash;
use xcert_credential::{CertificateClaims, CertificateNumber, StatusEntry};

pub const BASE: &str = "http://127.0.0.1:8080";

pub fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 8, 0, 0).unwrap()
}

pub fn claims(issuer_did: &str, holder: &str) -> CertificateClaims {
    let number = CertificateNumber::new(2026, 3, 12).unwrap();
    CertificateClaims {
        credential_id: format!("{BASE}/certificates/{number}"),
        number,
        issuer_did: issuer_did.into(),
        issuer_name: "国网能源研究院有限公司".into(),
        issuer_url: Some(format!("{BASE}/teo/SGCC")),
        holder_name: holder.into(),
        id_number_hash: identity_hash("c2FsdA", "11010519491231002X"),
        id_salt: "c2FsdA".into(),
        id_masked: "1101**********002X".into(),
        achievement_id: format!("{BASE}/registry/certificates/power-demand-response/levels/2"),
        achievement_name: "电力需求响应综合服务（中级）".into(),
        achievement_description: "电力需求响应综合服务职业技能等级证书（中级）".into(),
        criteria_narrative: "能够完成负荷资源调查、需求响应方案编制与效果评估。".into(),
        level_name: "中级".into(),
        college_name: Some("北京电子科技职业学院".into()),
        issued_at: t(2026, 3, 1),
        valid_until: Some(t(2031, 3, 1)),
        status: vec![
            StatusEntry {
                purpose: "revocation".into(),
                list_url: format!("{BASE}/status/SGCC/revocation/1"),
                index: 94567,
            },
            StatusEntry {
                purpose: "suspension".into(),
                list_url: format!("{BASE}/status/SGCC/suspension/1"),
                index: 23,
            },
        ],
        replaces: None,
    }
}
