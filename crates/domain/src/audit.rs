//! The audit log as a hash chain: each entry's hash covers its content and the hash of
//! the entry before it, so editing or deleting any stored entry breaks every later link.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry as stored. `before` and `after` are JSON text, kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
}

impl AuditEntry {
    /// SHA-256 over the length-prefixed fields, so no two different entries can
    /// produce the same byte stream by moving text between fields.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |s: &str| {
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        };
        field(&self.seq.to_string());
        field(&self.at);
        field(&self.actor);
        field(&self.action);
        field(&self.entity);
        field(&self.entity_id);
        field(self.before.as_deref().unwrap_or("\u{0}none"));
        field(self.after.as_deref().unwrap_or("\u{0}none"));
        field(&self.prev_hash);
        hex::encode(h.finalize())
    }
}

/// Where a chain stops being intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The stored hash does not match the entry's content.
    Altered { seq: i64 },
    /// The entry does not point at the previous entry's hash (one was removed or reordered).
    Unlinked { seq: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Altered { seq } => {
                write!(f, "entry {seq} was altered after it was written")
            }
            ChainBreak::Unlinked { seq } => {
                write!(
                    f,
                    "entry {seq} does not follow the entry before it (an entry was removed or reordered)"
                )
            }
        }
    }
}

/// Checks entries in `seq` order, each with the hash stored beside it; returns how
/// many were checked.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = (&'a AuditEntry, &'a str)>,
) -> Result<usize, ChainBreak> {
    let mut prev = GENESIS_HASH.to_string();
    let mut n = 0;
    for (e, stored) in entries {
        if e.prev_hash != prev {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        if e.compute_hash() != stored {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        prev = stored.to_string();
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(AuditEntry, String)> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let e = AuditEntry {
                    seq,
                    at: format!("2026-01-0{seq}T00:00:00Z"),
                    actor: "admin".into(),
                    action: "update".into(),
                    entity: "certificate".into(),
                    entity_id: "SGCC-RPM".into(),
                    before: Some("{\"a\":1}".into()),
                    after: Some(format!("{{\"a\":{seq}}}")),
                    prev_hash: prev.clone(),
                };
                let h = e.compute_hash();
                prev = h.clone();
                (e, h)
            })
            .collect()
    }

    #[test]
    fn hash_is_sha256_of_length_prefixed_fields() {
        // Independent check: SHA-256 of the empty string, a published constant.
        let empty = hex::encode(Sha256::digest(b""));
        assert_eq!(
            empty,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let (e, h) = &chain(1)[0];
        assert_eq!(h.len(), 64);
        let mut moved = e.clone();
        moved.actor = "adminu".into();
        moved.action = "pdate".into();
        assert_ne!(
            moved.compute_hash(),
            *h,
            "moving text between fields changes the hash"
        );
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify_chain(c.iter().map(|(e, h)| (e, h.as_str()))), Ok(5));
    }

    #[test]
    fn altered_entry_is_found() {
        let mut c = chain(5);
        c[2].0.after = Some("{\"a\":999}".into());
        assert_eq!(
            verify_chain(c.iter().map(|(e, h)| (e, h.as_str()))),
            Err(ChainBreak::Altered { seq: 3 })
        );
    }

    #[test]
    fn removed_entry_is_found() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify_chain(c.iter().map(|(e, h)| (e, h.as_str()))),
            Err(ChainBreak::Unlinked { seq: 3 })
        );
    }
}
