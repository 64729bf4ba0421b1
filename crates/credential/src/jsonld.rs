//! JSON-LD to RDF (safe mode) and RDFC-1.0 canonical N-Quads, with bundled contexts only.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use json_ld::context_processing::{Options as ProcessingOptions, Process};
use json_ld::expansion::{Action, Options as ExpansionOptions, Policy};
use json_ld::rdf_types::{self, LiteralType};
use json_ld::syntax::TryFromJson;
use json_ld::{Expand, IriBuf, RdfQuads, RemoteDocument};

/// Contexts xcert ships, by URL; nothing is ever fetched.
pub const BUNDLED_CONTEXTS: &[(&str, &str)] = &[
    (
        "https://www.w3.org/ns/credentials/v2",
        include_str!("../contexts/credentials-v2.json"),
    ),
    (
        "https://www.w3.org/2018/credentials/v1",
        include_str!("../contexts/credentials-v1.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        include_str!("../contexts/ob-v3p0-3.0.3.json"),
    ),
    (
        "https://w3id.org/security/multikey/v1",
        include_str!("../contexts/multikey-v1.json"),
    ),
    (
        "https://www.w3.org/ns/did/v1",
        include_str!("../contexts/did-v1.json"),
    ),
];

/// Cap on cached processed contexts: verification sees untrusted `@context` values.
const MAX_CACHED_CONTEXTS: usize = 64;

type ActiveContext = json_ld::Context<IriBuf, json_ld::BlankIdBuf>;

#[derive(Debug, thiserror::Error)]
pub enum JsonLdError {
    #[error("the document is not a JSON object")]
    NotAnObject,
    #[error("invalid JSON-LD context: {0}")]
    Context(String),
    #[error(
        "JSON-LD expansion failed (safe mode: every term must be defined by a bundled context): {0}"
    )]
    Expansion(String),
    #[error("RDF canonicalization (RDFC-1.0) failed: {0}")]
    Canonicalization(String),
}

/// A set of contexts plus the processed form of every `@context` value seen so far.
///
/// Processing the VC 2.0 + OB 3.0 contexts dominates the cost of one canonicalization,
/// so the result is cached per distinct `@context` value and reused across threads.
pub struct Canonicalizer {
    loader: HashMap<IriBuf, RemoteDocument>,
    processed: RwLock<HashMap<String, Arc<ActiveContext>>>,
}

impl Canonicalizer {
    /// Only the contexts bundled with xcert.
    pub fn bundled() -> &'static Canonicalizer {
        static BUNDLED: LazyLock<Canonicalizer> =
            LazyLock::new(|| Canonicalizer::with_contexts(&[]).expect("bundled contexts parse"));
        &BUNDLED
    }

    /// The bundled contexts plus `extra` (url, JSON text), e.g. a test vector's example context.
    pub fn with_contexts(extra: &[(&str, &str)]) -> Result<Self, JsonLdError> {
        let mut loader = HashMap::new();
        for (url, text) in BUNDLED_CONTEXTS.iter().chain(extra) {
            let iri = IriBuf::new(url.to_string())
                .map_err(|e| JsonLdError::Context(format!("{url}: {e}")))?;
            let json: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| JsonLdError::Context(format!("{url}: {e}")))?;
            let doc = RemoteDocument::new(
                Some(iri.clone()),
                Some("application/ld+json".parse().expect("mime")),
                json_syntax::Value::from_serde_json(json),
            );
            loader.insert(iri, doc);
        }
        Ok(Self {
            loader,
            processed: RwLock::new(HashMap::new()),
        })
    }

    fn active_context(
        &self,
        context: Option<&serde_json::Value>,
    ) -> Result<Arc<ActiveContext>, JsonLdError> {
        let key = context.map(|c| c.to_string()).unwrap_or_default();
        if let Some(found) = self.processed.read().expect("lock").get(&key) {
            return Ok(found.clone());
        }
        let initial = ActiveContext::new(None);
        let active = match context {
            None => initial,
            Some(c) => {
                let syntax = json_ld::syntax::context::Context::try_from_json(
                    json_syntax::Value::from_serde_json(c.clone()),
                )
                .map_err(|e| JsonLdError::Context(e.to_string()))?;
                // Same options the expansion algorithm uses for a top-level `@context`.
                let options = ProcessingOptions {
                    processing_mode: Default::default(),
                    ..Default::default()
                };
                futures::executor::block_on(syntax.process_full(
                    &mut (),
                    &initial,
                    &self.loader,
                    None,
                    options,
                    (),
                ))
                .map_err(|e| JsonLdError::Context(e.to_string()))?
                .into_processed()
            }
        };
        let active = Arc::new(active);
        let mut cache = self.processed.write().expect("lock");
        if cache.len() < MAX_CACHED_CONTEXTS {
            cache.insert(key, active.clone());
        }
        Ok(active)
    }

    /// JSON-LD → RDF dataset (safe mode), as oxrdf quads.
    pub fn to_rdf(&self, doc: &serde_json::Value) -> Result<Vec<oxrdf::Quad>, JsonLdError> {
        let object = doc.as_object().ok_or(JsonLdError::NotAnObject)?;
        let active = self.active_context(object.get("@context"))?;
        // Expanding the body with the processed context as the initial active context is the
        // expansion algorithm's own first step for a top-level `@context`, minus the re-processing.
        let mut body = object.clone();
        body.remove("@context");
        let body = json_syntax::Value::from_serde_json(serde_json::Value::Object(body));
        let options = ExpansionOptions {
            processing_mode: Default::default(),
            policy: Policy {
                invalid: Action::Reject,
                vocab: Action::Keep,
                allow_undefined: false,
            },
            ordered: false,
        };
        let mut expanded = futures::executor::block_on(body.expand_full(
            &mut (),
            (*active).clone(),
            None,
            &self.loader,
            options,
            (),
        ))
        .map_err(|e| JsonLdError::Expansion(e.to_string()))?;
        reject_invalid_ids(&expanded)?;
        let mut generator = rdf_types::generator::Blank::new();
        expanded.relabel_and_canonicalize_with(&mut (), &mut generator);
        let mut out = Vec::new();
        for q in expanded.rdf_quads_full(&mut (), &mut generator, None, false) {
            out.push(convert_quad(q)?);
        }
        Ok(out)
    }

    /// RDFC-1.0 canonical N-Quads of a JSON-LD document.
    pub fn canonical_nquads(&self, doc: &serde_json::Value) -> Result<String, JsonLdError> {
        let quads = self.to_rdf(doc)?;
        rdf_canon::canonicalize_quads(&quads)
            .map_err(|e| JsonLdError::Canonicalization(e.to_string()))
    }
}

/// toRDF silently skips nodes whose `@id` (or `@type`) is not an IRI; safe mode makes that an error.
fn reject_invalid_ids(doc: &json_ld::ExpandedDocument) -> Result<(), JsonLdError> {
    use json_ld::object::FragmentRef;
    for fragment in doc.traverse() {
        let node = match fragment {
            FragmentRef::Node(n) => n,
            FragmentRef::IndexedNode(n) => n.inner(),
            FragmentRef::Object(o) => match o.as_node() {
                Some(n) => n,
                None => continue,
            },
            FragmentRef::IndexedObject(o) => match o.inner().as_node() {
                Some(n) => n,
                None => continue,
            },
            _ => continue,
        };
        let ids = node.id.iter().chain(node.types.iter().flatten());
        for id in ids {
            if let json_ld::Id::Invalid(s) = id {
                return Err(JsonLdError::Expansion(format!(
                    "\"{s}\" is not an absolute IRI"
                )));
            }
        }
    }
    Ok(())
}

type JsonLdId = rdf_types::Id<IriBuf, json_ld::BlankIdBuf>;

fn subject(id: &JsonLdId) -> oxrdf::Subject {
    match id {
        rdf_types::Id::Iri(i) => oxrdf::NamedNode::new_unchecked(i.as_str()).into(),
        rdf_types::Id::Blank(b) => oxrdf::BlankNode::new_unchecked(&b.as_str()[2..]).into(),
    }
}

fn convert_quad(
    q: json_ld::rdf::QuadRef<'_, IriBuf, json_ld::BlankIdBuf, rdf_types::Literal>,
) -> Result<oxrdf::Quad, JsonLdError> {
    let rdf_types::Quad(s, p, o, g) = q;
    let predicate = match p.as_ref() {
        rdf_types::Id::Iri(i) => oxrdf::NamedNode::new_unchecked(i.as_str()),
        rdf_types::Id::Blank(_) => {
            return Err(JsonLdError::Expansion("blank node predicate".into()));
        }
    };
    let object: oxrdf::Term = match o {
        rdf_types::Term::Id(id) => subject(&id).into(),
        rdf_types::Term::Literal(l) => match l.type_ {
            LiteralType::Any(t) => oxrdf::Literal::new_typed_literal(
                l.value,
                oxrdf::NamedNode::new_unchecked(t.as_str()),
            )
            .into(),
            LiteralType::LangString(tag) => {
                oxrdf::Literal::new_language_tagged_literal(l.value, tag.as_str())
                    .map_err(|e| JsonLdError::Expansion(e.to_string()))?
                    .into()
            }
        },
    };
    let graph = match g {
        None => oxrdf::GraphName::DefaultGraph,
        Some(rdf_types::Id::Iri(i)) => oxrdf::NamedNode::new_unchecked(i.as_str()).into(),
        Some(rdf_types::Id::Blank(b)) => oxrdf::BlankNode::new_unchecked(&b.as_str()[2..]).into(),
    };
    Ok(oxrdf::Quad::new(
        subject(s.as_ref()),
        predicate,
        object,
        graph,
    ))
}
