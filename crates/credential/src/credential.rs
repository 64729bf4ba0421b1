//! Open Badges 3.0 `OpenBadgeCredential` (a W3C VC 2.0) for one xcert certificate.

use serde_json::{Value, json};

use crate::number::CertificateNumber;

pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
pub const OB_V3_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// Namespace for the UUIDv5 ids of colleges, which have no URL of their own.
const COLLEGE_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x5c1e_0a3e_7d2b_4f0e_9a61_8e2f_0c4d_b7a1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// `revocation`, `suspension` or `message`.
    pub purpose: String,
    pub list_url: String,
    pub index: usize,
}

#[derive(Debug, Clone)]
pub struct CertificateClaims {
    pub credential_id: String,
    pub number: CertificateNumber,
    pub issuer_did: String,
    pub issuer_name: String,
    pub issuer_url: Option<String>,
    pub holder_name: String,
    /// `sha256$` + hex of sha256(salt ‖ ID number): the raw ID number never enters a credential.
    pub id_number_hash: String,
    /// The salt used in `id_number_hash`.
    pub id_salt: String,
    /// Shown on pages only, never in the credential.
    pub id_masked: String,
    pub achievement_id: String,
    pub achievement_name: String,
    pub achievement_description: String,
    pub criteria_narrative: String,
    pub level_name: String,
    pub college_name: Option<String>,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
    pub status: Vec<StatusEntry>,
    /// The credential this one corrects. No VC 2.0 / OB 3.0 term expresses it, so it is
    /// kept for the registry and left out of the JSON (supersession goes through a status list).
    pub replaces: Option<String>,
}

/// `sha256$` + hex(sha256(salt ‖ value)), the OB `IdentityHash` form.
pub fn identity_hash(salt: &str, value: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(value.as_bytes());
    format!("sha256${}", hex::encode(h.finalize()))
}

/// XML Schema dateTime in UTC, whole seconds (what verifiers compare against).
pub fn xsd_datetime(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The unsigned credential.
pub fn build_credential(c: &CertificateClaims) -> Value {
    let mut issuer = json!({
        "id": c.issuer_did,
        "type": ["Profile"],
        "name": c.issuer_name,
    });
    if let Some(url) = &c.issuer_url {
        issuer["url"] = json!(url);
    }
    let mut subject = json!({
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": c.id_number_hash,
                "identityType": "nationalIdentityNumber",
                "hashed": true,
                "salt": c.id_salt,
            },
            {
                "type": "IdentityObject",
                "identityHash": c.holder_name,
                "identityType": "name",
                "hashed": false,
            }
        ],
        "licenseNumber": c.number.as_str(),
        "achievement": {
            "id": c.achievement_id,
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": c.achievement_name,
            "description": c.achievement_description,
            "criteria": {"narrative": c.criteria_narrative},
            "tag": [c.level_name],
        },
    });
    if let Some(college) = &c.college_name {
        // The college trained and assessed the candidate on the TEO's behalf: OB's `source`.
        subject["source"] = json!({
            "id": format!("urn:uuid:{}", uuid::Uuid::new_v5(&COLLEGE_NAMESPACE, college.as_bytes())),
            "type": ["Profile"],
            "name": college,
        });
    }
    let mut vc = json!({
        "@context": [VC_V2_CONTEXT, OB_V3_CONTEXT],
        "id": c.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": xsd_datetime(c.issued_at),
        "awardedDate": xsd_datetime(c.issued_at),
        "name": c.achievement_name,
        "description": format!("证书编号 Certificate No. {}", c.number),
        "credentialSubject": subject,
    });
    if let Some(until) = c.valid_until {
        vc["validUntil"] = json!(xsd_datetime(until));
    }
    if !c.status.is_empty() {
        let entries: Vec<Value> = c
            .status
            .iter()
            .map(|s| {
                json!({
                    "id": format!("{}#{}", s.list_url, s.index),
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": s.purpose,
                    "statusListIndex": s.index.to_string(),
                    "statusListCredential": s.list_url,
                })
            })
            .collect();
        vc["credentialStatus"] = json!(entries);
    }
    vc
}
