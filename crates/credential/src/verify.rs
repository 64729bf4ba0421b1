//! Full verification of a presented credential, each check explained in English and Chinese.

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use crate::did::did_of;
use crate::proof::ProofError;
use crate::status::StatusList;

#[derive(Debug, Clone, PartialEq)]
pub enum Presented {
    DataIntegrity(Value),
    Jwt(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("nothing was pasted / 未输入任何内容")]
    Empty,
    #[error(
        "this is neither a JSON credential nor a JWT (JSON error: {0}) / 既不是 JSON 格式的证书，也不是 JWT"
    )]
    Unrecognized(String),
}

/// Accepts pasted JSON (a credential with an embedded proof, or a JSON string holding a JWT)
/// or a compact JWT.
pub fn parse_presented(input: &str) -> Result<Presented, VerifyError> {
    let s = input.trim().trim_start_matches('\u{feff}');
    if s.is_empty() {
        return Err(VerifyError::Empty);
    }
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(o)) => Ok(Presented::DataIntegrity(Value::Object(o))),
        Ok(Value::String(t)) if looks_like_jwt(&t) => Ok(Presented::Jwt(t.trim().to_string())),
        Ok(_) => Err(VerifyError::Unrecognized("not a JSON object".into())),
        Err(_) if looks_like_jwt(s) => Ok(Presented::Jwt(s.to_string())),
        Err(e) => Err(VerifyError::Unrecognized(e.to_string())),
    }
}

fn looks_like_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.trim().split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Finds the public key of a verification method (e.g. from stored DID documents).
pub trait KeyResolver {
    fn resolve(&self, verification_method: &str) -> Option<VerifyingKey>;
}

/// Resolves `did:key:z6Mk…#z6Mk…` methods from the identifier itself.
pub struct DidKeyResolver;

impl KeyResolver for DidKeyResolver {
    fn resolve(&self, verification_method: &str) -> Option<VerifyingKey> {
        crate::keys::public_key_from_did_key(verification_method).ok()
    }
}

/// Tries did:key first, then `.0`.
pub struct DidKeyFirst<R>(pub R);

impl<R: KeyResolver> KeyResolver for DidKeyFirst<R> {
    fn resolve(&self, verification_method: &str) -> Option<VerifyingKey> {
        DidKeyResolver
            .resolve(verification_method)
            .or_else(|| self.0.resolve(verification_method))
    }
}

impl<R: KeyResolver + ?Sized> KeyResolver for &R {
    fn resolve(&self, verification_method: &str) -> Option<VerifyingKey> {
        (**self).resolve(verification_method)
    }
}

/// Resolves methods listed as `assertionMethod` in the given DID documents.
pub struct DidDocuments(pub Vec<Value>);

impl KeyResolver for DidDocuments {
    fn resolve(&self, verification_method: &str) -> Option<VerifyingKey> {
        let did = did_of(verification_method);
        self.0
            .iter()
            .filter(|d| d["id"].as_str() == Some(did))
            .find_map(|d| crate::did::assertion_key(d, verification_method))
    }
}

/// Supplies decoded status lists by URL. The source is responsible for having checked the
/// status list credential itself (its issuer and proof).
pub trait StatusSource {
    fn status_list(&self, list_url: &str) -> Option<StatusList>;
}

impl StatusSource for HashMap<String, StatusList> {
    fn status_list(&self, list_url: &str) -> Option<StatusList> {
        self.get(list_url).cloned()
    }
}

/// No status lists available (every status entry then fails as "could not be checked").
pub struct NoStatus;

impl StatusSource for NoStatus {
    fn status_list(&self, _: &str) -> Option<StatusList> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `format`, `signature`, `issuer`, `status.revocation`, `status.suspension`, `status.other`, `dates`.
    pub code: &'static str,
    pub ok: bool,
    pub skipped: bool,
    pub en: String,
    pub zh: String,
}

impl Check {
    fn pass(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            code,
            ok: true,
            skipped: false,
            en: en.into(),
            zh: zh.into(),
        }
    }
    fn fail(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            code,
            ok: false,
            skipped: false,
            en: en.into(),
            zh: zh.into(),
        }
    }
    fn skip(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            code,
            ok: true,
            skipped: true,
            en: en.into(),
            zh: zh.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerificationReport {
    pub ok: bool,
    pub checks: Vec<Check>,
    pub credential: Option<Value>,
}

fn has_type(v: &Value, t: &str) -> bool {
    match v.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(t)),
        _ => false,
    }
}

fn issuer_id(vc: &Value) -> Option<&str> {
    match vc.get("issuer") {
        Some(Value::String(s)) => Some(s),
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

fn format_check(vc: &Value) -> Check {
    let first_context = match vc.get("@context") {
        Some(Value::Array(a)) => a.first().and_then(Value::as_str),
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    if first_context != Some(crate::credential::VC_V2_CONTEXT) {
        return Check::fail(
            "format",
            "Not a W3C Verifiable Credential 2.0 (its first @context must be https://www.w3.org/ns/credentials/v2).",
            "不是 W3C 可验证凭证 2.0 格式（第一个 @context 必须是 https://www.w3.org/ns/credentials/v2）。",
        );
    }
    if !has_type(vc, "VerifiableCredential")
        || !(has_type(vc, "OpenBadgeCredential") || has_type(vc, "AchievementCredential"))
    {
        return Check::fail(
            "format",
            "Not an Open Badges 3.0 credential (type must include VerifiableCredential and OpenBadgeCredential).",
            "不是 Open Badges 3.0 证书（type 必须包含 VerifiableCredential 和 OpenBadgeCredential）。",
        );
    }
    if issuer_id(vc).is_none() || vc.get("credentialSubject").is_none() {
        return Check::fail(
            "format",
            "The credential has no issuer or no subject.",
            "证书缺少颁发机构或持证人信息。",
        );
    }
    Check::pass(
        "format",
        "Well-formed Open Badges 3.0 credential (W3C VC 2.0).",
        "格式正确：Open Badges 3.0 证书（W3C 可验证凭证 2.0）。",
    )
}

fn signature_failure(e: &ProofError) -> Check {
    match e {
        ProofError::BadSignature => Check::fail(
            "signature",
            "The signature does not match: the certificate was altered after issuance, or was not signed with this key.",
            "签名不匹配：证书在颁发后被改动过，或不是用该密钥签发的。",
        ),
        other => Check::fail(
            "signature",
            format!("The signature could not be checked: {other}."),
            format!("无法校验签名：{other}。"),
        ),
    }
}

fn status_checks(vc: &Value, status: &dyn StatusSource) -> Vec<Check> {
    let entries: Vec<&Value> = match vc.get("credentialStatus") {
        None => vec![],
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
    };
    let mut checks = Vec::new();
    for purpose in ["revocation", "suspension"] {
        if !entries
            .iter()
            .any(|e| e["statusPurpose"].as_str() == Some(purpose))
        {
            let code = if purpose == "revocation" {
                "status.revocation"
            } else {
                "status.suspension"
            };
            checks.push(Check::skip(
                code,
                format!("The credential has no {purpose} status entry."),
                format!(
                    "证书未登记{}状态。",
                    if purpose == "revocation" {
                        "撤销"
                    } else {
                        "暂停"
                    }
                ),
            ));
        }
    }
    for e in entries {
        let purpose = e["statusPurpose"].as_str().unwrap_or("");
        let (code, zh_word, en_word) = match purpose {
            "revocation" => ("status.revocation", "已被撤销", "revoked"),
            "suspension" => ("status.suspension", "已被暂停", "suspended"),
            _ => ("status.other", "", ""),
        };
        if code == "status.other" {
            checks.push(Check::skip(
                code,
                format!("Status entry with purpose '{purpose}' is informational and not checked."),
                format!("用途为“{purpose}”的状态条目仅供参考，未校验。"),
            ));
            continue;
        }
        if !has_type(e, "BitstringStatusListEntry") {
            checks.push(Check::fail(
                code,
                "Unsupported status entry type.",
                "不支持的状态条目类型。",
            ));
            continue;
        }
        let url = e["statusListCredential"].as_str().unwrap_or("");
        let index = e["statusListIndex"]
            .as_str()
            .and_then(|s| s.parse::<usize>().ok());
        let Some(index) = index else {
            checks.push(Check::fail(
                code,
                "The status entry has no valid statusListIndex.",
                "状态条目的索引无效。",
            ));
            continue;
        };
        match status.status_list(url) {
            None => checks.push(Check::fail(
                code,
                format!(
                    "The status list {url} could not be obtained, so {en_word} status is unknown."
                ),
                format!("无法获取状态列表 {url}，无法确认证书是否{zh_word}。"),
            )),
            Some(list) if index >= list.size() => checks.push(Check::fail(
                code,
                format!(
                    "Status index {index} is outside the status list ({} entries).",
                    list.size()
                ),
                format!(
                    "状态索引 {index} 超出状态列表范围（共 {} 项）。",
                    list.size()
                ),
            )),
            Some(list) if list.get(index) => checks.push(Check::fail(
                code,
                format!("The issuer has {en_word} this certificate."),
                format!("颁发机构已将此证书标记为{zh_word}。"),
            )),
            Some(_) => checks.push(Check::pass(
                code,
                format!("Not {en_word} (status list {url}, index {index})."),
                format!("未{}（状态列表 {url}，索引 {index}）。", &zh_word[3..]),
            )),
        }
    }
    checks
}

fn parse_time(v: Option<&Value>) -> Option<Result<chrono::DateTime<chrono::Utc>, ()>> {
    v.map(|v| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok_or(())
    })
}

fn dates_check(vc: &Value, now: chrono::DateTime<chrono::Utc>) -> Check {
    let from = parse_time(vc.get("validFrom"));
    let until = parse_time(vc.get("validUntil"));
    if matches!(from, Some(Err(()))) || matches!(until, Some(Err(()))) {
        return Check::fail(
            "dates",
            "validFrom or validUntil is not a valid date-time.",
            "生效或失效时间格式无效。",
        );
    }
    if let Some(Ok(f)) = from
        && f > now
    {
        return Check::fail(
            "dates",
            format!(
                "Not valid yet: valid from {}.",
                f.format("%Y-%m-%d %H:%M UTC")
            ),
            format!("尚未生效：生效时间为 {}。", f.format("%Y-%m-%d %H:%M UTC")),
        );
    }
    if let Some(Ok(u)) = until
        && u <= now
    {
        return Check::fail(
            "dates",
            format!("Expired on {}.", u.format("%Y-%m-%d %H:%M UTC")),
            format!("已于 {} 过期。", u.format("%Y-%m-%d %H:%M UTC")),
        );
    }
    Check::pass("dates", "Within its validity period.", "在有效期内。")
}

/// Runs every check; `ok` is true when no non-skipped check failed.
pub fn verify_presented(
    p: &Presented,
    keys: &dyn KeyResolver,
    status: &dyn StatusSource,
    now: chrono::DateTime<chrono::Utc>,
) -> VerificationReport {
    let mut checks = Vec::new();
    let (vc, method, signature) = match p {
        Presented::DataIntegrity(doc) => {
            let method = crate::proof::verification_method(doc).map(str::to_string);
            let signature = match &method {
                Err(e) => signature_failure(e),
                Ok(m) => match keys.resolve(m) {
                    None => Check::fail(
                        "signature",
                        format!(
                            "The signing key {m} is unknown: the issuer is not registered or the key was never published."
                        ),
                        format!("签名密钥 {m} 未知：颁发机构未注册，或该密钥从未公布。"),
                    ),
                    Some(k) => match crate::proof::verify(doc, &k) {
                        Ok(()) => Check::pass(
                            "signature",
                            "The Data Integrity signature (eddsa-rdfc-2022) is valid: the content is exactly as issued.",
                            "数据完整性签名（eddsa-rdfc-2022）有效：内容与颁发时完全一致。",
                        ),
                        Err(e) => signature_failure(&e),
                    },
                },
            };
            (Some(doc.clone()), method.ok(), signature)
        }
        Presented::Jwt(token) => match crate::jwt::decode_jwt(token) {
            Err(e) => (None, None, signature_failure(&e)),
            Ok((header, payload)) => {
                let signature = match header
                    .kid
                    .as_deref()
                    .and_then(|k| keys.resolve(k).map(|v| (k, v)))
                {
                    None => Check::fail(
                        "signature",
                        "The JWT's signing key (kid) is missing or unknown.",
                        "JWT 的签名密钥（kid）缺失或未知。",
                    ),
                    Some((_, k)) => match crate::jwt::verify_jwt(token, &k) {
                        Ok(_) => Check::pass(
                            "signature",
                            "The JWT signature (EdDSA) is valid: the content is exactly as issued.",
                            "JWT 签名（EdDSA）有效：内容与颁发时完全一致。",
                        ),
                        Err(e) => signature_failure(&e),
                    },
                };
                (Some(payload), header.kid, signature)
            }
        },
    };
    let Some(vc) = vc else {
        checks.push(Check::fail(
            "format",
            "Could not read the credential.",
            "无法读取证书内容。",
        ));
        checks.push(signature);
        return VerificationReport {
            ok: false,
            checks,
            credential: None,
        };
    };
    checks.push(format_check(&vc));
    checks.push(signature);
    checks.push(match (method.as_deref(), issuer_id(&vc)) {
        (Some(m), Some(i)) if did_of(m) == i => Check::pass(
            "issuer",
            format!("The signing key belongs to the issuer {i}."),
            format!("签名密钥属于颁发机构 {i}。"),
        ),
        (Some(m), Some(i)) => Check::fail(
            "issuer",
            format!("The signing key {m} does not belong to the issuer {i}."),
            format!("签名密钥 {m} 不属于颁发机构 {i}。"),
        ),
        _ => Check::fail(
            "issuer",
            "The issuer or the signing key is missing.",
            "缺少颁发机构或签名密钥。",
        ),
    });
    checks.extend(status_checks(&vc, status));
    checks.push(dates_check(&vc, now));
    let ok = checks.iter().all(|c| c.ok || c.skipped);
    VerificationReport {
        ok,
        checks,
        credential: Some(vc),
    }
}
