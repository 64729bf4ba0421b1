//! Skill standards as 1EdTech CASE 1.1 JSON (a `CFPackage`), so that other
//! competency-framework tools can read a standard and we can read theirs.
//!
//! Export: the document is the standard; every work area, work task and skill
//! requirement is a `CFItem`; `isChildOf` associations carry the tree (with
//! `sequenceNumber` for order) and `precedes` associations link consecutive siblings.
//! Identifiers are UUID v5 of (certificate code, version, node), so exporting the same
//! standard twice yields the same identifiers and links made by others stay valid.
//!
//! Import is lenient about what other tools omit but strict about what the tree needs;
//! every problem is reported as a [`FieldError`] naming the array entry at fault.

use crate::FieldError;
use crate::framework::Level;
use crate::standard::{SkillRequirement, StandardTree, WorkArea, WorkTask};
use serde::{Deserialize, Deserializer, Serialize};
use std::cmp::Ordering;
use std::collections::HashMap;
use uuid::Uuid;

/// Namespace of xcert's CASE identifiers. Never change it: identifiers already handed
/// out to other systems are derived from it.
pub const CASE_NAMESPACE: Uuid = Uuid::from_u128(0x5c1e_7a4e_2b1f_4d0c_9a3e_8f61_0b2d_7c45);

pub const ITEM_TYPE_AREA: &str = "工作领域";
pub const ITEM_TYPE_TASK: &str = "工作任务";
pub const ITEM_TYPE_REQUIREMENT: &str = "职业技能要求";

const IS_CHILD_OF: &str = "isChildOf";
const PRECEDES: &str = "precedes";

/// What the export needs to know besides the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDocumentInfo {
    pub certificate_code: String,
    /// e.g. "继电保护检修职业技能等级标准".
    pub title: String,
    /// The TEO that owns the certificate.
    pub creator: String,
    pub version: i64,
    /// RFC 3339, UTC.
    pub last_change: String,
    /// e.g. "http://127.0.0.1:8080"; node uris are `{base_uri}/case/{identifier}`.
    pub base_uri: String,
    /// e.g. "zh".
    pub language: String,
}

/// A standard read from CASE JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedStandard {
    pub title: String,
    pub creator: String,
    pub version: Option<String>,
    pub tree: StandardTree,
}

/// CASE `LinkGenURI`: a typed pointer to another CASE object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LinkGenUri {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub title: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub identifier: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub uri: String,
}

/// CASE `CFPackage`. Other members (`CFDefinitions`, `CFRubrics`) are ignored on import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CfPackage {
    #[serde(rename = "CFDocument")]
    pub cf_document: CfDocument,
    #[serde(rename = "CFItems", default)]
    pub cf_items: Vec<CfItem>,
    #[serde(rename = "CFAssociations", default)]
    pub cf_associations: Vec<CfAssociation>,
}

// Required CASE fields are plain strings (always written); on import they default to
// empty so that a gap is reported against the right entry instead of as a parse error.

/// CASE `CFDocument`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfDocument {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub identifier: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub uri: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub creator: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub title: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub last_change_date_time: String,
    #[serde(
        rename = "officialSourceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub official_source_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adoption_status: Option<String>,
    /// "1.1" for this binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(
        rename = "CFPackageURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cf_package_uri: Option<LinkGenUri>,
}

/// CASE `CFItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfItem {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub identifier: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub uri: String,
    /// Required by CASE; optional here so that its absence is reported per item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_statement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_coding_scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_enumeration: Option<String>,
    #[serde(
        rename = "CFItemType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cf_item_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub education_level: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub last_change_date_time: String,
    #[serde(
        rename = "CFDocumentURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cf_document_uri: Option<LinkGenUri>,
}

/// CASE `CFAssociation`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfAssociation {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub identifier: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub uri: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub association_type: String,
    #[serde(rename = "originNodeURI", default)]
    pub origin_node_uri: LinkGenUri,
    #[serde(rename = "destinationNodeURI", default)]
    pub destination_node_uri: LinkGenUri,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub last_change_date_time: String,
    #[serde(
        rename = "CFDocumentURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cf_document_uri: Option<LinkGenUri>,
}

/// Some tools write `null` for fields they do not fill; treat that as blank.
fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// The stable identifier of one node of one version of a certificate's standard.
/// `node` is `CFDocument`, `CFItem:1.2`, `CFAssociation:isChildOf:1.2`, ….
pub fn case_identifier(certificate_code: &str, version: i64, node: &str) -> Uuid {
    Uuid::new_v5(
        &CASE_NAMESPACE,
        format!("{certificate_code}/{version}/{node}").as_bytes(),
    )
}

/// The three kinds of node below the document, by depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Area,
    Task,
    Requirement,
}

impl Kind {
    fn at_depth(depth: usize) -> Kind {
        match depth {
            1 => Kind::Area,
            2 => Kind::Task,
            _ => Kind::Requirement,
        }
    }

    fn item_type(self) -> &'static str {
        match self {
            Kind::Area => ITEM_TYPE_AREA,
            Kind::Task => ITEM_TYPE_TASK,
            Kind::Requirement => ITEM_TYPE_REQUIREMENT,
        }
    }

    fn en(self) -> &'static str {
        match self {
            Kind::Area => "work area",
            Kind::Task => "work task",
            Kind::Requirement => "skill requirement",
        }
    }

    /// The kind a `CFItemType` names, in Chinese or English; `None` when unknown.
    fn from_item_type(t: &str) -> Option<Kind> {
        let key: String = t
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
            .collect::<String>()
            .to_lowercase();
        match key.as_str() {
            "工作领域" | "workarea" => Some(Kind::Area),
            "工作任务" | "worktask" => Some(Kind::Task),
            "职业技能要求" | "技能要求" | "skillrequirement" => Some(Kind::Requirement),
            _ => None,
        }
    }
}

/// A level named in `educationLevel`. Digits are not accepted: in other CASE
/// frameworks "1" or "01" is a school grade, not a 1+X level.
fn level_from_education_level(s: &str) -> Option<Level> {
    match s.trim().to_lowercase().as_str() {
        "初级" | "junior" => Some(Level::Junior),
        "中级" | "intermediate" => Some(Level::Intermediate),
        "高级" | "senior" => Some(Level::Senior),
        _ => None,
    }
}

/// Export a standard as a CASE 1.1 package.
pub fn to_case(info: &CaseDocumentInfo, tree: &StandardTree) -> CfPackage {
    let base = info.base_uri.trim_end_matches('/');
    let id_of = |node: &str| {
        case_identifier(&info.certificate_code, info.version, node)
            .hyphenated()
            .to_string()
    };
    let link = |title: &str, id: &str| LinkGenUri {
        title: title.to_string(),
        identifier: id.to_string(),
        uri: format!("{base}/case/{id}"),
    };
    let doc_id = id_of("CFDocument");
    let doc_link = link(&info.title, &doc_id);

    let document = CfDocument {
        identifier: doc_id.clone(),
        uri: doc_link.uri.clone(),
        creator: info.creator.clone(),
        title: info.title.clone(),
        last_change_date_time: info.last_change.clone(),
        official_source_url: None,
        publisher: Some(info.creator.clone()),
        description: Some(format!(
            "{}（证书代码 {}，第 {} 版）",
            info.title, info.certificate_code, info.version
        )),
        language: Some(info.language.clone()),
        version: Some(info.version.to_string()),
        // The caller knows whether this version is published; it may set this field.
        adoption_status: None,
        case_version: Some("1.1".to_string()),
        notes: None,
        cf_package_uri: Some(doc_link.clone()),
    };

    // Flatten the tree in pre-order. Codes come from positions, not from the stored
    // `code` fields, so identifiers cannot collide even if a tree was not renumbered.
    struct Node<'t> {
        code: String,
        kind: Kind,
        statement: &'t str,
        level: Option<Level>,
        parent: Option<usize>,
        position: usize,
    }
    let mut nodes: Vec<Node> = Vec::new();
    for (i, a) in tree.areas.iter().enumerate() {
        let ai = nodes.len();
        nodes.push(Node {
            code: format!("{}", i + 1),
            kind: Kind::Area,
            statement: &a.title,
            level: None,
            parent: None,
            position: i + 1,
        });
        for (j, t) in a.tasks.iter().enumerate() {
            let ti = nodes.len();
            nodes.push(Node {
                code: format!("{}.{}", i + 1, j + 1),
                kind: Kind::Task,
                statement: &t.title,
                level: None,
                parent: Some(ai),
                position: j + 1,
            });
            for (k, r) in t.requirements.iter().enumerate() {
                nodes.push(Node {
                    code: format!("{}.{}.{}", i + 1, j + 1, k + 1),
                    kind: Kind::Requirement,
                    statement: &r.text,
                    level: Some(r.level),
                    parent: Some(ti),
                    position: k + 1,
                });
            }
        }
    }

    let item_links: Vec<LinkGenUri> = nodes
        .iter()
        .map(|n| link(n.statement, &id_of(&format!("CFItem:{}", n.code))))
        .collect();

    let items = nodes
        .iter()
        .zip(&item_links)
        .map(|(n, l)| CfItem {
            identifier: l.identifier.clone(),
            uri: l.uri.clone(),
            full_statement: Some(n.statement.to_string()),
            human_coding_scheme: Some(n.code.clone()),
            list_enumeration: Some(n.position.to_string()),
            cf_item_type: Some(n.kind.item_type().to_string()),
            education_level: n.level.map(|l| vec![l.zh().to_string()]),
            language: Some(info.language.clone()),
            notes: None,
            last_change_date_time: info.last_change.clone(),
            cf_document_uri: Some(doc_link.clone()),
        })
        .collect();

    let association = |kind: &str, node: String, origin: &LinkGenUri, dest: &LinkGenUri, seq| {
        let id = id_of(&format!("CFAssociation:{kind}:{node}"));
        CfAssociation {
            uri: format!("{base}/case/{id}"),
            identifier: id,
            association_type: kind.to_string(),
            origin_node_uri: origin.clone(),
            destination_node_uri: dest.clone(),
            sequence_number: seq,
            notes: None,
            last_change_date_time: info.last_change.clone(),
            cf_document_uri: Some(doc_link.clone()),
        }
    };
    let mut associations = Vec::new();
    for (n, l) in nodes.iter().zip(&item_links) {
        let parent = n.parent.map_or(&doc_link, |p| &item_links[p]);
        associations.push(association(
            IS_CHILD_OF,
            n.code.clone(),
            l,
            parent,
            Some(n.position as i64),
        ));
    }
    // `precedes` from each node to its next sibling, for readers that ignore sequenceNumber.
    for (i, n) in nodes.iter().enumerate() {
        if let Some(j) =
            (i + 1..nodes.len()).find(|&j| nodes[j].parent == n.parent && nodes[j].kind == n.kind)
        {
            associations.push(association(
                PRECEDES,
                n.code.clone(),
                &item_links[i],
                &item_links[j],
                None,
            ));
        }
    }

    CfPackage {
        cf_document: document,
        cf_items: items,
        cf_associations: associations,
    }
}

/// Parse CASE JSON text and import it; malformed JSON is reported on field `json`.
pub fn parse_case_json(text: &str) -> Result<ImportedStandard, Vec<FieldError>> {
    let pkg: CfPackage = serde_json::from_str(text).map_err(|e| {
        vec![FieldError::new(
            "json",
            "bad_json",
            format!("not a CASE CFPackage: {e}"),
            format!("不是有效的 CASE CFPackage：{e}"),
        )]
    })?;
    from_case(&pkg)
}

/// Where an association end points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeRef {
    Doc,
    Item(usize),
}

/// Depth of an item below the document, found by walking `isChildOf` upwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    Unknown,
    Visiting,
    Known(usize),
    /// Not connected to the document (orphan, or in or below a cycle).
    Cut,
}

fn item_field(i: usize) -> String {
    format!("CFItems[{i}]")
}

fn assoc_field(k: usize) -> String {
    format!("CFAssociations[{k}]")
}

/// Import a CASE package as a standard tree, reporting every problem found.
pub fn from_case(pkg: &CfPackage) -> Result<ImportedStandard, Vec<FieldError>> {
    let mut errs = Vec::new();
    let doc = &pkg.cf_document;
    let items = &pkg.cf_items;
    let n = items.len();

    for (name, value) in [
        ("identifier", &doc.identifier),
        ("title", &doc.title),
        ("creator", &doc.creator),
    ] {
        if value.trim().is_empty() {
            errs.push(FieldError::required(&format!("CFDocument.{name}")));
        }
    }

    // Identifiers are matched exactly but case-insensitively: UUIDs are written
    // in either case by different tools.
    let key = |s: &str| s.trim().to_lowercase();
    let mut by_id: HashMap<String, NodeRef> = HashMap::new();
    let mut by_uri: HashMap<String, NodeRef> = HashMap::new();
    if !doc.identifier.trim().is_empty() {
        by_id.insert(key(&doc.identifier), NodeRef::Doc);
    }
    if !doc.uri.trim().is_empty() {
        by_uri.insert(doc.uri.trim().to_string(), NodeRef::Doc);
    }
    // Items whose missing place in the tree follows from an error already reported
    // (no usable identifier, or a broken isChildOf); not reported again as unconnected.
    let mut unplaced_reported = vec![false; n];
    for (i, item) in items.iter().enumerate() {
        let id = key(&item.identifier);
        if id.is_empty() {
            errs.push(FieldError::new(
                item_field(i),
                "required",
                "identifier is required",
                "identifier（标识符）不能为空",
            ));
            unplaced_reported[i] = true;
        } else if let std::collections::hash_map::Entry::Vacant(slot) = by_id.entry(id) {
            slot.insert(NodeRef::Item(i));
        } else {
            errs.push(FieldError::new(
                item_field(i),
                "duplicate_identifier",
                format!("identifier {} is used twice", item.identifier.trim()),
                format!("标识符 {} 重复", item.identifier.trim()),
            ));
            unplaced_reported[i] = true;
        }
        if !item.uri.trim().is_empty() {
            by_uri
                .entry(item.uri.trim().to_string())
                .or_insert(NodeRef::Item(i));
        }
        if item
            .full_statement
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
        {
            errs.push(FieldError::new(
                item_field(i),
                "required",
                "fullStatement is required",
                "fullStatement（完整表述）不能为空",
            ));
        }
    }
    // The identifier is the key; the uri is only used when a tool left it out.
    let resolve = |l: &LinkGenUri| -> Option<NodeRef> {
        if l.identifier.trim().is_empty() {
            by_uri.get(l.uri.trim()).copied()
        } else {
            by_id.get(&key(&l.identifier)).copied()
        }
    };

    // Read the two structural association types. Others (exactMatchOf, isRelatedTo, …)
    // may legitimately point into other frameworks, so they are neither used nor checked.
    let mut parent: Vec<Option<(NodeRef, usize, Option<i64>)>> = vec![None; n];
    let mut precedes: Vec<(usize, usize)> = Vec::new();
    for (k, a) in pkg.cf_associations.iter().enumerate() {
        let ty = a.association_type.trim();
        let is_child = ty.eq_ignore_ascii_case(IS_CHILD_OF);
        if !is_child && !ty.eq_ignore_ascii_case(PRECEDES) {
            continue;
        }
        let origin = resolve(&a.origin_node_uri);
        let dest = resolve(&a.destination_node_uri);
        for (end, link, found) in [
            ("originNodeURI", &a.origin_node_uri, origin),
            ("destinationNodeURI", &a.destination_node_uri, dest),
        ] {
            if found.is_none() {
                let shown = if link.identifier.trim().is_empty() {
                    link.uri.trim()
                } else {
                    link.identifier.trim()
                };
                errs.push(FieldError::new(
                    assoc_field(k),
                    "unknown_node",
                    format!("{end} points at \"{shown}\", which is not the document or an item of this package"),
                    format!("{end} 指向的“{shown}”不是本包中的文档或条目"),
                ));
            }
        }
        let (Some(origin), Some(dest)) = (origin, dest) else {
            if let (true, Some(NodeRef::Item(i))) = (is_child, origin) {
                unplaced_reported[i] = true;
            }
            continue;
        };
        if is_child {
            match origin {
                NodeRef::Doc => errs.push(FieldError::new(
                    assoc_field(k),
                    "bad_child",
                    "the document cannot be the child of another node",
                    "文档不能作为其他节点的下级",
                )),
                NodeRef::Item(i) if parent[i].is_some() => errs.push(FieldError::new(
                    assoc_field(k),
                    "multiple_parents",
                    format!(
                        "item {} already has a parent; a standard is a tree",
                        items[i].identifier.trim()
                    ),
                    format!(
                        "条目 {} 已有上级；标准必须是树状结构",
                        items[i].identifier.trim()
                    ),
                )),
                NodeRef::Item(i) => parent[i] = Some((dest, k, a.sequence_number)),
            }
        } else if let (NodeRef::Item(i), NodeRef::Item(j)) = (origin, dest) {
            precedes.push((i, j));
        }
    }

    let depth = item_depths(&parent, &unplaced_reported, &mut errs);

    let mut level = vec![None; n];
    for (i, item) in items.iter().enumerate() {
        let Depth::Known(d) = depth[i] else { continue };
        if d > 3 {
            // Report only the topmost too-deep item; its descendants follow from it.
            if d == 4 {
                errs.push(FieldError::new(
                    item_field(i),
                    "too_deep",
                    "items may be at most three levels below the document (work area, work task, skill requirement)",
                    "条目最多位于文档下三层（工作领域、工作任务、职业技能要求）",
                ));
            }
            continue;
        }
        let kind = Kind::at_depth(d);
        if let Some(declared) = item.cf_item_type.as_deref().and_then(Kind::from_item_type)
            && declared != kind
        {
            errs.push(FieldError::new(
                item_field(i),
                "type_mismatch",
                format!(
                    "CFItemType is {} but the item sits where a {} belongs",
                    declared.en(),
                    kind.en()
                ),
                format!(
                    "CFItemType 为“{}”，但该条目位于“{}”的层级",
                    declared.item_type(),
                    kind.item_type()
                ),
            ));
        }
        if kind == Kind::Requirement {
            let mut found: Vec<Level> = item
                .education_level
                .iter()
                .flatten()
                .filter_map(|s| level_from_education_level(s))
                .collect();
            found.sort();
            found.dedup();
            match found.as_slice() {
                [l] => level[i] = Some(*l),
                [] => errs.push(FieldError::new(
                    item_field(i),
                    "missing_level",
                    "a skill requirement needs its level in educationLevel (初级, 中级 or 高级)",
                    "职业技能要求须在 educationLevel 中注明等级（初级、中级或高级）",
                )),
                _ => errs.push(FieldError::new(
                    item_field(i),
                    "ambiguous_level",
                    "a skill requirement has exactly one level, but educationLevel names several",
                    "一条职业技能要求只能有一个等级，educationLevel 中却有多个",
                )),
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }

    // Children of each node; slot `n` is the document.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n + 1];
    for (i, p) in parent.iter().enumerate() {
        if let Some((p, ..)) = p {
            let slot = match p {
                NodeRef::Doc => n,
                NodeRef::Item(j) => *j,
            };
            children[slot].push(i);
        }
    }
    let ordered = |slot: usize| order_siblings(&children[slot], items, &parent, &precedes);
    let statement = |i: usize| {
        items[i]
            .full_statement
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let mut tree = StandardTree {
        areas: ordered(n)
            .into_iter()
            .map(|a| WorkArea {
                code: String::new(),
                title: statement(a),
                tasks: ordered(a)
                    .into_iter()
                    .map(|t| WorkTask {
                        code: String::new(),
                        title: statement(t),
                        requirements: ordered(t)
                            .into_iter()
                            .filter_map(|r| {
                                Some(SkillRequirement {
                                    code: String::new(),
                                    level: level[r]?,
                                    text: statement(r),
                                })
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    tree.renumber();
    tree.validate()?;
    Ok(ImportedStandard {
        title: doc.title.trim().to_string(),
        creator: doc.creator.trim().to_string(),
        version: doc
            .version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        tree,
    })
}

/// Depth of every item, reporting cycles and items not connected to the document.
fn item_depths(
    parent: &[Option<(NodeRef, usize, Option<i64>)>],
    unplaced_reported: &[bool],
    errs: &mut Vec<FieldError>,
) -> Vec<Depth> {
    let mut depth = vec![Depth::Unknown; parent.len()];
    for start in 0..parent.len() {
        if depth[start] != Depth::Unknown {
            continue;
        }
        // Walk up until the document, a node already placed, a gap, or a node on this walk.
        let mut path: Vec<usize> = Vec::new();
        let mut cur = start;
        let above = loop {
            match depth[cur] {
                Depth::Known(d) => break Depth::Known(d),
                Depth::Cut => break Depth::Cut,
                Depth::Visiting => {
                    let from = path.iter().position(|&x| x == cur).unwrap_or(0);
                    let members = &path[from..];
                    let at = members
                        .iter()
                        .filter_map(|&m| parent[m].map(|(_, k, _)| k))
                        .min()
                        .unwrap_or(0);
                    errs.push(FieldError::new(
                        assoc_field(at),
                        "cycle",
                        "isChildOf associations form a cycle, so these items never reach the document",
                        "isChildOf 关联构成循环，这些条目无法归属到文档",
                    ));
                    for &m in members {
                        depth[m] = Depth::Cut;
                    }
                    break Depth::Cut;
                }
                Depth::Unknown => {
                    depth[cur] = Depth::Visiting;
                    path.push(cur);
                    match parent[cur] {
                        Some((NodeRef::Doc, ..)) => break Depth::Known(0),
                        Some((NodeRef::Item(p), ..)) => cur = p,
                        None => {
                            // Reported already, as the cause.
                            if !unplaced_reported[cur] {
                                errs.push(FieldError::new(
                                    item_field(cur),
                                    "not_connected",
                                    "the item has no isChildOf association linking it into the document",
                                    "该条目没有 isChildOf 关联，无法归入文档",
                                ));
                            }
                            break Depth::Cut;
                        }
                    }
                }
            }
        };
        let mut d = above;
        for &m in path.iter().rev() {
            if depth[m] == Depth::Cut {
                d = Depth::Cut;
                continue;
            }
            d = match d {
                Depth::Known(x) => Depth::Known(x + 1),
                _ => Depth::Cut,
            };
            depth[m] = d;
        }
    }
    depth
}

/// Order siblings by the first rule that orders all of them: sequenceNumber, then a
/// single `precedes` chain, then humanCodingScheme, then their order in `CFItems`.
fn order_siblings(
    kids: &[usize],
    items: &[CfItem],
    parent: &[Option<(NodeRef, usize, Option<i64>)>],
    precedes: &[(usize, usize)],
) -> Vec<usize> {
    let mut out = kids.to_vec(); // already in array order
    let seq = |i: usize| parent[i].and_then(|(_, _, s)| s);
    if out.iter().all(|&i| seq(i).is_some()) {
        out.sort_by_key(|&i| seq(i)); // stable: ties keep array order
        return out;
    }
    if let Some(chain) = precedes_chain(kids, precedes) {
        return chain;
    }
    let code = |i: usize| {
        items[i]
            .human_coding_scheme
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
    };
    if out.iter().all(|&i| code(i).is_some()) {
        out.sort_by(|&a, &b| compare_codes(code(a).unwrap_or(""), code(b).unwrap_or("")));
    }
    out
}

/// The siblings as one `precedes` chain, if the links among them form exactly that.
fn precedes_chain(kids: &[usize], precedes: &[(usize, usize)]) -> Option<Vec<usize>> {
    if kids.len() < 2 {
        return None;
    }
    let mut next: HashMap<usize, usize> = HashMap::new();
    let mut prev: HashMap<usize, usize> = HashMap::new();
    for &(a, b) in precedes {
        if a == b || !kids.contains(&a) || !kids.contains(&b) {
            continue;
        }
        match next.insert(a, b) {
            Some(old) if old == b => continue, // the same link twice
            Some(_) => return None,            // a fork: not a single chain
            None => {}
        }
        if prev.insert(b, a).is_some() {
            return None; // two nodes precede the same one
        }
    }
    let mut heads = kids.iter().filter(|k| !prev.contains_key(k));
    let (Some(&head), None) = (heads.next(), heads.next()) else {
        return None;
    };
    let mut chain = vec![head];
    while let Some(&b) = next.get(chain.last()?) {
        if chain.contains(&b) {
            return None;
        }
        chain.push(b);
    }
    (chain.len() == kids.len()).then_some(chain)
}

/// Compare outline codes segment by segment, numbers numerically ("1.10" after "1.9").
fn compare_codes(a: &str, b: &str) -> Ordering {
    let parts = |s: &'_ str| -> Vec<String> {
        s.split(['.', '-', ' '])
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn info() -> CaseDocumentInfo {
        CaseDocumentInfo {
            certificate_code: "SGCC-RPM".into(),
            title: "继电保护检修职业技能等级标准".into(),
            creator: "国网技术学院".into(),
            version: 2,
            last_change: "2024-05-01T08:00:00Z".into(),
            base_uri: "http://127.0.0.1:8080/".into(),
            language: "zh".into(),
        }
    }

    fn tree() -> StandardTree {
        StandardTree::parse_outline(
            "# 保护装置巡视\n## 外观检查\n- [初级] 能按巡视路线检查保护屏柜外观\n- [中级] 能判断装置告警信息的含义\n## 定值核对\n- [中级] 能核对保护定值单与装置定值\n# 保护装置检验\n## 整组试验\n- [高级] 能制定整组传动试验方案\n- [初级] 能接线并记录试验数据\n- [中级] 能分析试验中出现的异常\n",
        )
        .unwrap()
    }

    fn codes(errs: &[FieldError]) -> Vec<(String, String)> {
        errs.iter()
            .map(|e| (e.field.clone(), e.code.clone()))
            .collect()
    }

    fn item_index(pkg: &CfPackage, code: &str) -> usize {
        pkg.cf_items
            .iter()
            .position(|i| i.human_coding_scheme.as_deref() == Some(code))
            .unwrap()
    }

    fn child_of_index(pkg: &CfPackage, code: &str) -> usize {
        let id = &pkg.cf_items[item_index(pkg, code)].identifier;
        pkg.cf_associations
            .iter()
            .position(|a| a.association_type == IS_CHILD_OF && &a.origin_node_uri.identifier == id)
            .unwrap()
    }

    #[test]
    fn export_then_import_gives_the_same_tree() {
        let t = tree();
        let pkg = to_case(&info(), &t);
        let back = from_case(&pkg).unwrap();
        assert_eq!(back.tree, t);
        assert_eq!(back.title, "继电保护检修职业技能等级标准");
        assert_eq!(back.creator, "国网技术学院");
        assert_eq!(back.version.as_deref(), Some("2"));

        // Through JSON text as well, and with the arrays reversed: order comes from
        // the associations, not from array positions.
        let mut shuffled = pkg.clone();
        shuffled.cf_items.reverse();
        shuffled.cf_associations.reverse();
        let text = serde_json::to_string_pretty(&shuffled).unwrap();
        assert_eq!(parse_case_json(&text).unwrap().tree, t);
    }

    #[test]
    fn json_uses_case_field_names() {
        let v = serde_json::to_value(to_case(&info(), &tree())).unwrap();
        let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
        let mut top = keys(&v);
        top.sort();
        assert_eq!(top, ["CFAssociations", "CFDocument", "CFItems"]);

        let has_all = |v: &Value, names: &[&str]| {
            for n in names {
                assert!(v.get(n).is_some(), "missing {n} in {v}");
            }
            // No Rust field name leaked through untranslated.
            for k in keys(v) {
                assert!(!k.contains('_'), "snake_case key {k}");
            }
        };
        let doc = &v["CFDocument"];
        has_all(
            doc,
            &[
                "identifier",
                "uri",
                "creator",
                "title",
                "lastChangeDateTime",
                "CFPackageURI",
                "publisher",
                "language",
                "version",
                "caseVersion",
            ],
        );
        assert_eq!(doc["version"], "2");
        assert_eq!(doc["caseVersion"], "1.1");
        assert_eq!(
            doc["uri"],
            format!(
                "http://127.0.0.1:8080/case/{}",
                doc["identifier"].as_str().unwrap()
            )
        );

        let items = v["CFItems"].as_array().unwrap();
        assert_eq!(items.len(), 2 + 3 + 6);
        for it in items {
            has_all(
                it,
                &[
                    "identifier",
                    "uri",
                    "fullStatement",
                    "lastChangeDateTime",
                    "humanCodingScheme",
                    "listEnumeration",
                    "CFItemType",
                    "CFDocumentURI",
                ],
            );
        }
        let first_req = items
            .iter()
            .find(|i| i["CFItemType"] == ITEM_TYPE_REQUIREMENT)
            .unwrap();
        assert_eq!(first_req["humanCodingScheme"], "1.1.1");
        assert_eq!(first_req["educationLevel"], serde_json::json!(["初级"]));
        assert_eq!(items[0]["CFItemType"], ITEM_TYPE_AREA);
        assert!(items[0].get("educationLevel").is_none());

        let assocs = v["CFAssociations"].as_array().unwrap();
        for a in assocs {
            has_all(
                a,
                &[
                    "identifier",
                    "uri",
                    "associationType",
                    "originNodeURI",
                    "destinationNodeURI",
                    "lastChangeDateTime",
                ],
            );
            for end in ["originNodeURI", "destinationNodeURI"] {
                has_all(&a[end], &["title", "identifier", "uri"]);
            }
        }
        let child = |t: &str| assocs.iter().filter(|a| a["associationType"] == t).count();
        assert_eq!(child("isChildOf"), 11);
        // Siblings: 2 areas → 1 link; tasks 2+1 → 1; requirements 2+1+3 → 1+0+2.
        assert_eq!(child("precedes"), 5);
        assert!(
            assocs
                .iter()
                .filter(|a| a["associationType"] == "isChildOf")
                .all(|a| a["sequenceNumber"].is_i64())
        );
    }

    #[test]
    fn identifiers_are_uuids_and_stable() {
        let a = to_case(&info(), &tree());
        let b = to_case(&info(), &tree());
        assert_eq!(a, b);
        let mut ids: Vec<&str> = std::iter::once(a.cf_document.identifier.as_str())
            .chain(a.cf_items.iter().map(|i| i.identifier.as_str()))
            .chain(a.cf_associations.iter().map(|x| x.identifier.as_str()))
            .collect();
        for id in &ids {
            let u = Uuid::parse_str(id).unwrap();
            assert_eq!(u.get_version_num(), 5);
            assert_eq!(u.hyphenated().to_string(), *id);
        }
        let total = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), total, "identifiers are unique");

        // Another version gets other identifiers; the first version's stay where they were.
        let mut next = info();
        next.version = 3;
        let c = to_case(&next, &tree());
        assert_ne!(c.cf_document.identifier, a.cf_document.identifier);
        assert_eq!(
            a.cf_document.identifier,
            case_identifier("SGCC-RPM", 2, "CFDocument").to_string()
        );
    }

    /// Written by hand: items out of array order, short identifiers, no
    /// humanCodingScheme, order only from sequenceNumber, one type in English and
    /// one missing (falls back to depth), a level in English, and an unrelated
    /// association into another framework that must be ignored.
    const HAND_WRITTEN: &str = r#"{
      "CFDocument": {
        "identifier": "doc", "uri": "https://case.example.org/doc",
        "creator": "示例培训评价组织", "title": "示例职业技能等级标准",
        "lastChangeDateTime": "2023-09-01T00:00:00Z", "version": "1.0",
        "subject": ["电力"], "licenseURI": null
      },
      "CFItems": [
        {"identifier": "r2", "uri": "u:r2", "fullStatement": "能编制检修作业指导书",
         "CFItemType": "职业技能要求", "educationLevel": ["高级"], "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "a2", "uri": "u:a2", "fullStatement": "检修", "CFItemType": "Work Area",
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "t1", "uri": "u:t1", "fullStatement": "日常巡视", "CFItemType": "工作任务",
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "r1", "uri": "u:r1", "fullStatement": "能识别设备异常声响",
         "educationLevel": ["intermediate"], "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "a1", "uri": "u:a1", "fullStatement": "巡视", "CFItemType": "工作领域",
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "t2", "uri": "u:t2", "fullStatement": "计划检修",
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "r0", "uri": "u:r0", "fullStatement": "能按路线完成巡视",
         "CFItemType": "职业技能要求", "educationLevel": ["初级"], "lastChangeDateTime": "2023-09-01T00:00:00Z"}
      ],
      "CFAssociations": [
        {"identifier": "x1", "uri": "u:x1", "associationType": "isChildOf", "sequenceNumber": 2,
         "originNodeURI": {"title": "", "identifier": "a2", "uri": "u:a2"},
         "destinationNodeURI": {"title": "", "identifier": "doc", "uri": "https://case.example.org/doc"},
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "x2", "uri": "u:x2", "associationType": "isChildOf", "sequenceNumber": 20,
         "originNodeURI": {"title": "", "identifier": "r1", "uri": "u:r1"},
         "destinationNodeURI": {"title": "", "identifier": "t1", "uri": "u:t1"},
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "x3", "uri": "u:x3", "associationType": "isChildOf", "sequenceNumber": 1,
         "originNodeURI": {"title": "", "identifier": "a1", "uri": "u:a1"},
         "destinationNodeURI": {"title": "", "identifier": "doc", "uri": "https://case.example.org/doc"},
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "x4", "uri": "u:x4", "associationType": "isChildOf", "sequenceNumber": 1,
         "originNodeURI": {"title": "", "identifier": "t2", "uri": "u:t2"},
         "destinationNodeURI": {"title": "", "identifier": "a2", "uri": "u:a2"},
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "x5", "uri": "u:x5", "associationType": "isChildOf", "sequenceNumber": 10,
         "originNodeURI": {"title": "", "identifier": "r0", "uri": "u:r0"},
         "destinationNodeURI": {"title": "", "identifier": "t1", "uri": "u:t1"},
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "x6", "uri": "u:x6", "associationType": "isChildOf", "sequenceNumber": 1,
         "originNodeURI": {"title": "", "identifier": "t1", "uri": "u:t1"},
         "destinationNodeURI": {"title": "", "identifier": "a1", "uri": "u:a1"},
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "x7", "uri": "u:x7", "associationType": "isChildOf", "sequenceNumber": 1,
         "originNodeURI": {"title": "", "identifier": "r2", "uri": "u:r2"},
         "destinationNodeURI": {"title": "", "identifier": "t2", "uri": "u:t2"},
         "lastChangeDateTime": "2023-09-01T00:00:00Z"},
        {"identifier": "x8", "uri": "u:x8", "associationType": "exactMatchOf",
         "originNodeURI": {"title": "", "identifier": "r1", "uri": "u:r1"},
         "destinationNodeURI": {"title": "", "identifier": "elsewhere", "uri": "https://other.example.org/x"},
         "lastChangeDateTime": "2023-09-01T00:00:00Z"}
      ]
    }"#;

    #[test]
    fn imports_hand_written_case_json() {
        let got = parse_case_json(HAND_WRITTEN).unwrap();
        assert_eq!(got.title, "示例职业技能等级标准");
        assert_eq!(got.creator, "示例培训评价组织");
        assert_eq!(got.version.as_deref(), Some("1.0"));
        let expected = StandardTree::parse_outline(
            "# 巡视\n## 日常巡视\n- [初级] 能按路线完成巡视\n- [中级] 能识别设备异常声响\n# 检修\n## 计划检修\n- [高级] 能编制检修作业指导书\n",
        )
        .unwrap();
        assert_eq!(got.tree, expected);
        assert_eq!(got.tree.areas[0].tasks[0].requirements[1].code, "1.1.2");
    }

    #[test]
    fn ordering_falls_back_to_precedes_then_codes() {
        let t = tree();
        let fresh = to_case(&info(), &t);
        // Each step removes the rule before it and leaves array order wrong, so only
        // the rule under test can restore the tree.
        let mut pkg = fresh.clone();
        for a in &mut pkg.cf_associations {
            a.sequence_number = None;
        }
        for i in &mut pkg.cf_items {
            i.human_coding_scheme = None;
        }
        pkg.cf_items.reverse();
        assert_eq!(from_case(&pkg).unwrap().tree, t, "precedes chains");

        let mut pkg = fresh.clone();
        for a in &mut pkg.cf_associations {
            a.sequence_number = None;
        }
        pkg.cf_associations
            .retain(|a| a.association_type == IS_CHILD_OF);
        pkg.cf_items.reverse();
        assert_eq!(from_case(&pkg).unwrap().tree, t, "humanCodingScheme");

        for i in &mut pkg.cf_items {
            i.human_coding_scheme = None;
        }
        assert_ne!(from_case(&pkg).unwrap().tree, t, "reversed array order");
        pkg.cf_items.reverse();
        assert_eq!(from_case(&pkg).unwrap().tree, t, "array order");
    }

    #[test]
    fn codes_compare_numerically() {
        assert_eq!(compare_codes("1.9", "1.10"), Ordering::Less);
        assert_eq!(compare_codes("2", "1.3"), Ordering::Greater);
        assert_eq!(compare_codes("1", "1.1"), Ordering::Less);
    }

    #[test]
    fn missing_full_statement_is_reported() {
        let mut pkg = to_case(&info(), &tree());
        let i = item_index(&pkg, "1.2");
        pkg.cf_items[i].full_statement = None;
        let j = item_index(&pkg, "2.1.3");
        pkg.cf_items[j].full_statement = Some("  ".into());
        let errs = from_case(&pkg).unwrap_err();
        assert_eq!(
            codes(&errs),
            [
                (format!("CFItems[{i}]"), "required".to_string()),
                (format!("CFItems[{j}]"), "required".to_string()),
            ]
        );
        assert!(errs[0].en.contains("fullStatement") && errs[0].zh.contains("fullStatement"));
    }

    #[test]
    fn requirement_without_level_is_reported() {
        let mut pkg = to_case(&info(), &tree());
        let i = item_index(&pkg, "1.1.2");
        pkg.cf_items[i].education_level = None;
        let j = item_index(&pkg, "2.1.1");
        pkg.cf_items[j].education_level = Some(vec!["09".into(), "10".into()]);
        let errs = from_case(&pkg).unwrap_err();
        assert_eq!(
            codes(&errs),
            [
                (format!("CFItems[{i}]"), "missing_level".to_string()),
                (format!("CFItems[{j}]"), "missing_level".to_string()),
            ]
        );
    }

    #[test]
    fn association_to_unknown_identifier_is_reported() {
        let mut pkg = to_case(&info(), &tree());
        let k = child_of_index(&pkg, "2.1");
        pkg.cf_associations[k].destination_node_uri.identifier =
            "00000000-0000-0000-0000-000000000000".into();
        let errs = from_case(&pkg).unwrap_err();
        // Only the association: its orphaned item is not reported a second time.
        assert_eq!(
            codes(&errs),
            [(format!("CFAssociations[{k}]"), "unknown_node".to_string())]
        );
        assert!(errs[0].en.contains("destinationNodeURI"));
    }

    #[test]
    fn cycle_is_reported() {
        let mut pkg = to_case(&info(), &tree());
        // Area 1 made a child of its own task 1.1.
        let k = child_of_index(&pkg, "1");
        let task = pkg.cf_items[item_index(&pkg, "1.1")].clone();
        pkg.cf_associations[k].destination_node_uri.identifier = task.identifier;
        let errs = from_case(&pkg).unwrap_err();
        assert_eq!(
            codes(&errs),
            [(format!("CFAssociations[{k}]"), "cycle".to_string())]
        );

        // An item that is its own parent.
        let mut pkg = to_case(&info(), &tree());
        let k = child_of_index(&pkg, "2.1.2");
        let me = pkg.cf_associations[k].origin_node_uri.clone();
        pkg.cf_associations[k].destination_node_uri = me;
        let errs = from_case(&pkg).unwrap_err();
        assert_eq!(
            codes(&errs),
            [(format!("CFAssociations[{k}]"), "cycle".to_string())]
        );
    }

    #[test]
    fn items_deeper_than_three_levels_are_reported() {
        let mut pkg = to_case(&info(), &tree());
        let req = pkg.cf_items[item_index(&pkg, "1.1.1")].clone();
        let mut extra = req.clone();
        extra.identifier = "deep-1".into();
        extra.uri = "u:deep-1".into();
        extra.cf_item_type = None;
        let mut deeper = extra.clone();
        deeper.identifier = "deep-2".into();
        deeper.uri = "u:deep-2".into();
        pkg.cf_items.push(extra);
        pkg.cf_items.push(deeper);
        let link = |id: &str| LinkGenUri {
            title: String::new(),
            identifier: id.into(),
            uri: String::new(),
        };
        for (child, parent) in [("deep-1", req.identifier.as_str()), ("deep-2", "deep-1")] {
            pkg.cf_associations.push(CfAssociation {
                identifier: format!("a-{child}"),
                association_type: IS_CHILD_OF.into(),
                origin_node_uri: link(child),
                destination_node_uri: link(parent),
                ..Default::default()
            });
        }
        let errs = from_case(&pkg).unwrap_err();
        // Only the topmost too-deep item.
        assert_eq!(
            codes(&errs),
            [("CFItems[11]".to_string(), "too_deep".to_string())]
        );
    }

    #[test]
    fn other_structural_errors_are_reported() {
        // An item type that contradicts its place, an orphan, and a second parent.
        let mut pkg = to_case(&info(), &tree());
        let a = item_index(&pkg, "1");
        pkg.cf_items[a].cf_item_type = Some("Work Task".into());
        let orphan = item_index(&pkg, "2.1.3");
        let k = child_of_index(&pkg, "2.1.3");
        pkg.cf_associations.remove(k);
        let mut second = pkg.cf_associations[child_of_index(&pkg, "1.1.1")].clone();
        second.destination_node_uri = pkg.cf_associations[child_of_index(&pkg, "2.1.1")]
            .destination_node_uri
            .clone();
        pkg.cf_associations.push(second);
        let last = pkg.cf_associations.len() - 1;
        let errs = from_case(&pkg).unwrap_err();
        let got = codes(&errs);
        assert!(
            got.contains(&(format!("CFItems[{a}]"), "type_mismatch".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&(format!("CFItems[{orphan}]"), "not_connected".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&(format!("CFAssociations[{last}]"), "multiple_parents".into())),
            "{got:?}"
        );
        assert_eq!(got.len(), 3, "{got:?}");
    }

    #[test]
    fn duplicate_identifiers_are_reported() {
        let mut pkg = to_case(&info(), &tree());
        let copy = pkg.cf_items[3].clone();
        pkg.cf_items.push(copy);
        let errs = from_case(&pkg).unwrap_err();
        assert_eq!(
            codes(&errs),
            [(
                "CFItems[11]".to_string(),
                "duplicate_identifier".to_string()
            )]
        );
    }

    #[test]
    fn links_without_identifier_resolve_by_uri() {
        let t = tree();
        let mut pkg = to_case(&info(), &t);
        for a in &mut pkg.cf_associations {
            a.origin_node_uri.identifier.clear();
            a.destination_node_uri.identifier.clear();
        }
        assert_eq!(from_case(&pkg).unwrap().tree, t);
    }

    #[test]
    fn bad_json_and_tree_rules_are_reported() {
        let errs = parse_case_json("{\"CFItems\": []}").unwrap_err();
        assert_eq!(codes(&errs), [("json".to_string(), "bad_json".to_string())]);
        assert!(!errs[0].zh.is_empty());

        // A work area without tasks passes the CASE checks but not the tree's own rules.
        let mut pkg = to_case(&info(), &tree());
        let keep: Vec<String> = pkg.cf_items[..item_index(&pkg, "2")]
            .iter()
            .chain(std::iter::once(&pkg.cf_items[item_index(&pkg, "2")]))
            .map(|i| i.identifier.clone())
            .collect();
        pkg.cf_items.retain(|i| keep.contains(&i.identifier));
        pkg.cf_associations
            .retain(|a| keep.contains(&a.origin_node_uri.identifier));
        let errs = from_case(&pkg).unwrap_err();
        assert_eq!(
            codes(&errs),
            [("area 2".to_string(), "empty_area".to_string())]
        );
    }
}
