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

/// `sha256$` + hex(sha256(value ‖ salt)): OB 3.0's `IdentityHash`, "a hash across an
/// identifier and an optionally appended salt string".
pub fn identity_hash(salt: &str, value: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(value.as_bytes());
    h.update(salt.as_bytes());
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

mod vocab {
    pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
    pub const CRED: &str = "https://www.w3.org/2018/credentials#";
    pub const STATUS: &str = "https://www.w3.org/ns/credentials/status#";
    pub const OB: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#";
    pub const SCHEMA: &str = "https://schema.org/";
    pub const XSD_DATETIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";
    // The OB 3.0.3 context types these with an https XML Schema namespace (sic).
    pub const OB_XSD_BOOLEAN: &str = "https://www.w3.org/2001/XMLSchema#boolean";
    pub const OB_XSD_ANYURI: &str = "https://www.w3.org/2001/XMLSchema#anyURI";
}

/// The RDF dataset of `build_credential(c)`, written out directly from the claims.
///
/// Issuance is dominated by JSON-LD expansion (every type-scoped OB context is re-processed per
/// node); the shape of an xcert credential is fixed, so its quads can be produced without it.
/// `tests/fast_path.rs` asserts they equal the general JSON-LD path's for varied claims, and
/// `None` (any id not an absolute IRI) makes the caller fall back to the general path.
pub(crate) fn rdf_quads(c: &CertificateClaims) -> Option<Vec<oxrdf::Quad>> {
    use oxrdf::{BlankNode, GraphName, Literal, NamedNode, Quad, Subject, Term};
    use vocab::*;
    let iri = |s: &str| NamedNode::new(s).ok();
    let p = |ns: &str, local: &str| NamedNode::new_unchecked(format!("{ns}{local}"));
    let s = |v: &str| Term::from(Literal::new_simple_literal(v));
    let typed =
        |v: &str, t: &str| Term::from(Literal::new_typed_literal(v, NamedNode::new_unchecked(t)));
    let mut out = Vec::with_capacity(48);
    let mut add = |subject: &Subject, predicate: NamedNode, object: Term| {
        out.push(Quad::new(
            subject.clone(),
            predicate,
            object,
            GraphName::DefaultGraph,
        ));
    };
    let rdf_type = || NamedNode::new_unchecked(RDF_TYPE);

    let vc: Subject = iri(&c.credential_id)?.into();
    let issuer = iri(&c.issuer_did)?;
    let issuer_s: Subject = issuer.clone().into();
    add(&vc, rdf_type(), p(CRED, "VerifiableCredential").into());
    add(&vc, rdf_type(), p(OB, "OpenBadgeCredential").into());
    add(&vc, p(CRED, "issuer"), issuer.into());
    add(&issuer_s, rdf_type(), p(OB, "Profile").into());
    add(&issuer_s, p(SCHEMA, "name"), s(&c.issuer_name));
    if let Some(url) = &c.issuer_url {
        add(&issuer_s, p(SCHEMA, "url"), typed(url, OB_XSD_ANYURI));
    }
    add(
        &vc,
        p(CRED, "validFrom"),
        typed(&xsd_datetime(c.issued_at), XSD_DATETIME),
    );
    if let Some(until) = c.valid_until {
        add(
            &vc,
            p(CRED, "validUntil"),
            typed(&xsd_datetime(until), XSD_DATETIME),
        );
    }
    add(&vc, p(SCHEMA, "name"), s(&c.achievement_name));
    add(
        &vc,
        p(SCHEMA, "description"),
        s(&format!("证书编号 Certificate No. {}", c.number)),
    );

    let subject: Subject = BlankNode::new_unchecked("s").into();
    add(&vc, p(CRED, "credentialSubject"), subject.clone().into());
    add(&subject, rdf_type(), p(OB, "AchievementSubject").into());
    let hashed_id: Subject = BlankNode::new_unchecked("i0").into();
    add(&subject, p(OB, "identifier"), hashed_id.clone().into());
    add(&hashed_id, rdf_type(), p(OB, "IdentityObject").into());
    add(&hashed_id, p(OB, "identityHash"), s(&c.id_number_hash));
    add(
        &hashed_id,
        p(OB, "identityType"),
        s("nationalIdentityNumber"),
    );
    add(&hashed_id, p(OB, "hashed"), typed("true", OB_XSD_BOOLEAN));
    add(&hashed_id, p(OB, "salt"), s(&c.id_salt));
    let name_id: Subject = BlankNode::new_unchecked("i1").into();
    add(&subject, p(OB, "identifier"), name_id.clone().into());
    add(&name_id, rdf_type(), p(OB, "IdentityObject").into());
    add(&name_id, p(OB, "identityHash"), s(&c.holder_name));
    add(&name_id, p(OB, "identityType"), s("name"));
    add(&name_id, p(OB, "hashed"), typed("false", OB_XSD_BOOLEAN));
    add(&subject, p(OB, "licenseNumber"), s(c.number.as_str()));

    let achievement = iri(&c.achievement_id)?;
    let achievement_s: Subject = achievement.clone().into();
    add(&subject, p(OB, "achievement"), achievement.into());
    add(&achievement_s, rdf_type(), p(OB, "Achievement").into());
    add(&achievement_s, p(OB, "achievementType"), s("Certificate"));
    add(&achievement_s, p(SCHEMA, "name"), s(&c.achievement_name));
    add(
        &achievement_s,
        p(SCHEMA, "description"),
        s(&c.achievement_description),
    );
    let criteria: Subject = BlankNode::new_unchecked("c").into();
    add(&achievement_s, p(OB, "Criteria"), criteria.clone().into());
    add(&criteria, p(OB, "narrative"), s(&c.criteria_narrative));
    add(&achievement_s, p(SCHEMA, "keywords"), s(&c.level_name));

    if let Some(college) = &c.college_name {
        let id = NamedNode::new_unchecked(format!(
            "urn:uuid:{}",
            uuid::Uuid::new_v5(&COLLEGE_NAMESPACE, college.as_bytes())
        ));
        let source: Subject = id.clone().into();
        add(&subject, p(OB, "source"), id.into());
        add(&source, rdf_type(), p(OB, "Profile").into());
        add(&source, p(SCHEMA, "name"), s(college));
    }
    for e in &c.status {
        let entry = iri(&format!("{}#{}", e.list_url, e.index))?;
        let entry_s: Subject = entry.clone().into();
        add(&vc, p(CRED, "credentialStatus"), entry.into());
        add(
            &entry_s,
            rdf_type(),
            p(STATUS, "BitstringStatusListEntry").into(),
        );
        add(&entry_s, p(STATUS, "statusPurpose"), s(&e.purpose));
        add(
            &entry_s,
            p(STATUS, "statusListIndex"),
            s(&e.index.to_string()),
        );
        add(
            &entry_s,
            p(STATUS, "statusListCredential"),
            iri(&e.list_url)?.into(),
        );
    }
    Some(out)
}
