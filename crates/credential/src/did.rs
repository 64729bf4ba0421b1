//! did:web identifiers and DID documents for TEOs.

use serde_json::{Value, json};

/// did:web for an xcert base URL plus path segments; the port's colon is percent-encoded.
pub fn did_web(base_url: &str, path: &[&str]) -> String {
    let rest = base_url
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let (host, base_path) = match rest.split_once('/') {
        Some((h, p)) => (h, p),
        None => (rest, ""),
    };
    let mut did = format!("did:web:{}", host.replace(':', "%3A"));
    for seg in base_path
        .split('/')
        .filter(|s| !s.is_empty())
        .chain(path.iter().copied())
    {
        did.push(':');
        did.push_str(&percent_encode_segment(seg));
    }
    did
}

fn percent_encode_segment(seg: &str) -> String {
    let mut out = String::new();
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The DID of a DID URL (`did:web:host:teo:X#key-1` → `did:web:host:teo:X`).
pub fn did_of(did_url: &str) -> &str {
    did_url.split(['#', '?']).next().unwrap_or(did_url)
}

/// DID document listing every key (current and retired) as a Multikey `{did}#{key_id}`.
pub fn did_document(did: &str, keys: &[(String, String)], current_key_id: &str) -> Value {
    let methods: Vec<Value> = keys
        .iter()
        .map(|(id, mb)| {
            json!({
                "id": format!("{did}#{id}"),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": mb,
            })
        })
        .collect();
    let ids: Vec<Value> = keys
        .iter()
        .map(|(id, _)| json!(format!("{did}#{id}")))
        .collect();
    let mut doc = json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    });
    if let Some((_, mb)) = keys.iter().find(|(id, _)| id == current_key_id) {
        doc["alsoKnownAs"] = json!([format!("did:key:{mb}")]);
    }
    doc
}

/// The public key of `verification_method` in a DID document, if listed as an assertion method.
pub fn assertion_key(doc: &Value, verification_method: &str) -> Option<crate::keys::VerifyingKey> {
    let listed = doc["assertionMethod"].as_array()?.iter().any(|m| {
        m.as_str() == Some(verification_method) || m["id"].as_str() == Some(verification_method)
    });
    if !listed {
        return None;
    }
    let vm = doc["verificationMethod"]
        .as_array()?
        .iter()
        .find(|m| m["id"].as_str() == Some(verification_method))?;
    crate::keys::public_key_from_multibase(vm["publicKeyMultibase"].as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_encoding() {
        assert_eq!(
            did_web("http://127.0.0.1:8080", &["teo", "SGCC"]),
            "did:web:127.0.0.1%3A8080:teo:SGCC"
        );
        assert_eq!(
            did_web("https://xcert.example.cn/", &[]),
            "did:web:xcert.example.cn"
        );
        assert_eq!(
            did_web("https://h.example/base", &["teo", "a b"]),
            "did:web:h.example:base:teo:a%20b"
        );
    }

    #[test]
    fn document_lists_all_keys() {
        let did = "did:web:h.example:teo:X";
        let k1 = crate::keys::IssuerKey::generate();
        let k2 = crate::keys::IssuerKey::generate();
        let keys = vec![
            ("key-1".to_string(), k1.public_multibase()),
            ("key-2".to_string(), k2.public_multibase()),
        ];
        let doc = did_document(did, &keys, "key-2");
        assert_eq!(
            doc["alsoKnownAs"][0],
            format!("did:key:{}", k2.public_multibase())
        );
        assert_eq!(
            assertion_key(&doc, &format!("{did}#key-1")),
            Some(k1.verifying_key())
        );
        assert_eq!(doc["verificationMethod"][1]["controller"], did);
        assert!(assertion_key(&doc, &format!("{did}#key-3")).is_none());
        assert_eq!(did_of("did:web:h:teo:X#key-1"), "did:web:h:teo:X");
    }
}
