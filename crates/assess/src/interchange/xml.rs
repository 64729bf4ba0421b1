//! A small, bounded XML tree for the interchange readers, built on quick-xml.
//!
//! Hostile input is refused rather than expanded: a DOCTYPE that declares entities (the
//! "billion laughs" family) is an error, undefined entity references are errors (quick-xml
//! never loads external entities), and size, depth and node counts are capped. Every
//! element remembers its line, column and path (`qti-assessment-item/qti-item-body/…`) so
//! problems can say exactly where they are.

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

/// Largest XML document read, bytes.
pub const MAX_XML_BYTES: usize = 16 * 1024 * 1024;
const MAX_DEPTH: usize = 200;
const MAX_NODES: usize = 400_000;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Element {
    /// Local name (prefix removed).
    pub name: String,
    /// Namespace URI the prefix (or default namespace) resolves to, "" for none.
    pub ns: String,
    /// Attributes as written (qualified names such as `xml:base` kept), values unescaped.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub line: usize,
    pub col: usize,
    /// Slash-separated local names from the root to this element.
    pub path: String,
}

/// Why a document could not be read, and where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct XmlError {
    pub line: usize,
    pub col: usize,
    /// Path of the innermost open element, "" at top level.
    pub path: String,
    pub en: String,
    pub zh: String,
}

impl XmlError {
    /// "line 3, column 7, in a/b" — the problem location.
    pub fn location(&self) -> String {
        if self.path.is_empty() {
            format!("line {}, column {}", self.line, self.col)
        } else {
            format!("{} (line {}, column {})", self.path, self.line, self.col)
        }
    }
}

impl Element {
    /// An attribute by its name as written (`identifier`, `xml:base`).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Child elements whose local name is one of `names`.
    pub fn children_named<'a>(
        &'a self,
        names: &'a [&'a str],
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements()
            .filter(move |e| names.contains(&e.name.as_str()))
    }

    pub fn child(&self, names: &[&str]) -> Option<&Element> {
        self.elements().find(|e| names.contains(&e.name.as_str()))
    }

    /// Every descendant element (depth first, document order), not including self.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        fn walk<'a>(e: &'a Element, out: &mut Vec<&'a Element>) {
            for c in e.elements() {
                out.push(c);
                walk(c, out);
            }
        }
        walk(self, &mut out);
        out
    }

    /// The concatenated text of this element and its descendants.
    pub fn text(&self) -> String {
        let mut s = String::new();
        fn walk(e: &Element, s: &mut String) {
            for c in &e.children {
                match c {
                    Node::Text(t) => s.push_str(t),
                    Node::Element(e) => walk(e, s),
                }
            }
        }
        walk(self, &mut s);
        s
    }

    /// "line 12, column 5" of this element.
    pub fn at(&self) -> String {
        format!("{} (line {}, column {})", self.path, self.line, self.col)
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(
        text.bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i + 1),
    );
    v
}

fn line_col(starts: &[usize], text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let line = starts.partition_point(|s| *s <= pos).max(1);
    let start = starts[line - 1];
    let col = text
        .get(start..pos)
        .map(|s| s.chars().count() + 1)
        .unwrap_or(1);
    (line, col)
}

/// Bytes of an XML file into text: UTF-8 (with or without BOM) or UTF-16 with a BOM. A
/// declaration naming another encoding is refused, so nothing is silently garbled.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, XmlError> {
    let err = |en: String, zh: String| XmlError {
        line: 1,
        col: 1,
        path: String::new(),
        en,
        zh,
    };
    if bytes.len() > MAX_XML_BYTES {
        return Err(err(
            format!(
                "the XML file is {} bytes, more than the {} bytes read",
                bytes.len(),
                MAX_XML_BYTES
            ),
            format!(
                "XML 文件有 {} 字节，超过上限 {} 字节",
                bytes.len(),
                MAX_XML_BYTES
            ),
        ));
    }
    let text = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8(rest.to_vec()).ok()
    } else if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let le = bytes[0] == 0xFF;
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    } else {
        String::from_utf8(bytes.to_vec()).ok()
    };
    let Some(text) = text else {
        return Err(err(
            "the file is not UTF-8 text; save it as UTF-8".into(),
            "文件不是 UTF-8 编码的文本，请另存为 UTF-8".into(),
        ));
    };
    let head: String = text.chars().take(200).collect();
    if let Some(i) = head.find("encoding=") {
        let v: String = head[i + 9..]
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let l = v.to_ascii_lowercase();
        if !(l.is_empty() || l == "utf-8" || l == "utf8" || l.starts_with("utf-16")) {
            return Err(err(
                format!("the file declares encoding {v}; only UTF-8 is read, save it as UTF-8"),
                format!("文件声明的编码为 {v}，仅支持 UTF-8，请另存为 UTF-8"),
            ));
        }
    }
    Ok(text)
}

struct Open {
    el: Element,
    /// Namespace declarations made on this element: (prefix or "", uri).
    decls: Vec<(String, String)>,
}

fn resolve(stack: &[Open], root_decls: &[(String, String)], prefix: &str) -> String {
    for o in stack.iter().rev() {
        if let Some((_, u)) = o.decls.iter().rev().find(|(p, _)| p == prefix) {
            return u.clone();
        }
    }
    root_decls
        .iter()
        .rev()
        .find(|(p, _)| p == prefix)
        .map(|(_, u)| u.clone())
        .unwrap_or_default()
}

/// Parse a whole document into its root element.
pub(crate) fn parse(text: &str) -> Result<Element, XmlError> {
    let starts = line_starts(text);
    let mut reader = Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = true;
    cfg.expand_empty_elements = false;
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Element> = None;
    let mut nodes = 0usize;
    let xml_ns = vec![(
        "xml".to_string(),
        "http://www.w3.org/XML/1998/namespace".to_string(),
    )];
    loop {
        let before = reader.buffer_position() as usize;
        let here = |stack: &[Open]| stack.last().map(|o| o.el.path.clone()).unwrap_or_default();
        let fail = |pos: usize, path: String, en: String, zh: String| {
            let (line, col) = line_col(&starts, text, pos);
            XmlError {
                line,
                col,
                path,
                en,
                zh,
            }
        };
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let pos = reader.error_position() as usize;
                return Err(fail(
                    pos,
                    here(&stack),
                    format!("the XML is not well formed: {e}"),
                    format!("XML 格式错误：{e}"),
                ));
            }
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(fail(
                before,
                here(&stack),
                format!("the document has more than {MAX_NODES} nodes"),
                format!("文档节点数超过 {MAX_NODES}"),
            ));
        }
        match ev {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let empty = matches!(ev, Event::Empty(_));
                if root.is_some() {
                    return Err(fail(
                        before,
                        String::new(),
                        "content after the root element".into(),
                        "根元素之后还有内容".into(),
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(fail(
                        before,
                        here(&stack),
                        format!("elements nest deeper than {MAX_DEPTH} levels"),
                        format!("元素嵌套超过 {MAX_DEPTH} 层"),
                    ));
                }
                let open = start(s, &stack, &xml_ns, &starts, text, before)
                    .map_err(|(en, zh)| fail(before, here(&stack), en, zh))?;
                if empty {
                    let el = open.el;
                    match stack.last_mut() {
                        Some(p) => p.el.children.push(Node::Element(el)),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(open);
                }
            }
            Event::End(_) => {
                let Some(o) = stack.pop() else {
                    return Err(fail(
                        before,
                        String::new(),
                        "a closing tag without an opening tag".into(),
                        "出现了没有开始标签的结束标签".into(),
                    ));
                };
                match stack.last_mut() {
                    Some(p) => p.el.children.push(Node::Element(o.el)),
                    None => root = Some(o.el),
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                push_text(&mut stack, &s);
                if (root.is_some() || stack.is_empty()) && !s.trim().is_empty() {
                    {
                        return Err(fail(
                            before,
                            String::new(),
                            "text outside the root element".into(),
                            "根元素之外出现了文本".into(),
                        ));
                    }
                }
            }
            Event::CData(c) => {
                let s = c.into_inner().into_owned();
                push_text(&mut stack, &s);
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    Ok(None) => match &*r {
                        "lt" => Some("<".into()),
                        "gt" => Some(">".into()),
                        "amp" => Some("&".into()),
                        "quot" => Some("\"".into()),
                        "apos" => Some("'".into()),
                        _ => None,
                    },
                    Err(_) => None,
                };
                match ch {
                    Some(c) => push_text(&mut stack, &c),
                    None => {
                        let name: &str = &r;
                        return Err(fail(
                            before,
                            here(&stack),
                            format!(
                                "the entity &{name}; is not defined (only the five XML entities and character references are read)"
                            ),
                            format!(
                                "未定义的实体 &{name};（只支持 XML 的五个预定义实体和字符引用）"
                            ),
                        ));
                    }
                }
            }
            Event::DocType(d) => {
                let s = d.xml10_content();
                if s.contains("<!ENTITY") || s.contains('[') {
                    return Err(fail(
                        before,
                        String::new(),
                        "the document declares a DTD with entities; such documents are refused"
                            .into(),
                        "文档在 DOCTYPE 中声明了实体，出于安全原因拒绝读取".into(),
                    ));
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(o) = stack.last() {
        let (line, col) = line_col(&starts, text, text.len());
        return Err(XmlError {
            line,
            col,
            path: o.el.path.clone(),
            en: format!("the element <{}> is never closed", o.el.name),
            zh: format!("元素 <{}> 没有结束标签", o.el.name),
        });
    }
    root.ok_or_else(|| XmlError {
        line: 1,
        col: 1,
        path: String::new(),
        en: "the document has no root element".into(),
        zh: "文档没有根元素".into(),
    })
}

fn push_text(stack: &mut [Open], s: &str) {
    if let Some(o) = stack.last_mut() {
        if let Some(Node::Text(t)) = o.el.children.last_mut() {
            t.push_str(s);
        } else {
            o.el.children.push(Node::Text(s.to_string()));
        }
    }
}

fn start(
    s: &BytesStart<'_>,
    stack: &[Open],
    xml_ns: &[(String, String)],
    starts: &[usize],
    text: &str,
    pos: usize,
) -> Result<Open, (String, String)> {
    let qname = s.name().into_inner().to_string();
    let (prefix, local) = match qname.split_once(':') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (String::new(), qname.clone()),
    };
    let mut attrs = Vec::new();
    let mut decls = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|e| {
            (
                format!("bad attribute on <{qname}>: {e}"),
                format!("<{qname}> 的属性有误：{e}"),
            )
        })?;
        let key = a.key.into_inner().to_string();
        let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| {
            (
                format!("bad value of attribute {key} on <{qname}>: {e}"),
                format!("<{qname}> 的属性 {key} 取值有误：{e}"),
            )
        })?;
        let value = value.into_owned();
        if key == "xmlns" {
            decls.push((String::new(), value.clone()));
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            decls.push((p.to_string(), value.clone()));
        }
        attrs.push((key, value));
    }
    let ns = decls
        .iter()
        .rev()
        .find(|(p, _)| *p == prefix)
        .map(|(_, u)| u.clone())
        .unwrap_or_else(|| resolve(stack, xml_ns, &prefix));
    let path = match stack.last() {
        Some(p) => format!("{}/{}", p.el.path, local),
        None => local.clone(),
    };
    let (line, col) = line_col(starts, text, pos);
    Ok(Open {
        el: Element {
            name: local,
            ns,
            attrs,
            children: Vec::new(),
            line,
            col,
            path,
        },
        decls,
    })
}

/// Escape text for XML content.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            // Characters XML 1.0 cannot carry at all are dropped.
            '\u{0}'..='\u{8}'
            | '\u{b}'
            | '\u{c}'
            | '\u{e}'..='\u{1f}'
            | '\u{fffe}'
            | '\u{ffff}' => {}
            _ => o.push(c),
        }
    }
    o
}

const VOID: &[&str] = &["br", "img", "hr", "col", "area", "wbr"];

/// Serialize child nodes as HTML (local names, plain attributes), for the sanitizer.
/// `skip` drops an element (and its content) when it returns true; `map` may replace an
/// element with other HTML.
pub(crate) fn children_html(e: &Element, visit: &mut dyn FnMut(&Element) -> Visit) -> String {
    let mut out = String::new();
    for c in &e.children {
        node_html(c, visit, &mut out);
    }
    out
}

/// What [`children_html`] does with an element.
pub(crate) enum Visit {
    /// Serialize as is (recursively).
    Keep,
    /// Leave out with its content.
    Drop,
    /// Put this HTML in its place.
    Replace(String),
    /// Leave out the tag, keep its content.
    Unwrap,
}

fn node_html(n: &Node, visit: &mut dyn FnMut(&Element) -> Visit, out: &mut String) {
    match n {
        Node::Text(t) => out.push_str(&esc(t)),
        Node::Element(e) => match visit(e) {
            Visit::Drop => {}
            Visit::Replace(h) => out.push_str(&h),
            Visit::Unwrap => {
                for c in &e.children {
                    node_html(c, visit, out);
                }
            }
            Visit::Keep => {
                out.push('<');
                out.push_str(&e.name);
                for (k, v) in &e.attrs {
                    if k.contains(':') || k == "xmlns" {
                        continue;
                    }
                    out.push(' ');
                    out.push_str(k);
                    out.push_str("=\"");
                    out.push_str(&esc(v));
                    out.push('"');
                }
                out.push('>');
                if VOID.contains(&e.name.as_str()) {
                    return;
                }
                for c in &e.children {
                    node_html(c, visit, out);
                }
                out.push_str("</");
                out.push_str(&e.name);
                out.push('>');
            }
        },
    }
}

/// Sanitized rich text (HTML as the sanitizer writes it) into well-formed XHTML for an
/// XML file: void elements closed, named entities turned into character references,
/// `<` in attribute values escaped. `src` maps image sources.
pub(crate) fn html_to_xhtml(html: &str, src: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(html.len() + 16);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&text_entities(&rest[..lt]));
        rest = &rest[lt..];
        // Find the tag end, respecting quoted attribute values.
        let mut q: Option<char> = None;
        let mut end = None;
        for (i, c) in rest.char_indices().skip(1) {
            match (q, c) {
                (None, '"' | '\'') => q = Some(c),
                (Some(x), c) if c == x => q = None,
                (None, '>') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            out.push_str(&esc(rest));
            rest = "";
            break;
        };
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            out.push_str("</");
            out.push_str(name.trim());
            out.push('>');
            continue;
        }
        if tag.starts_with('!') {
            continue;
        }
        let tag = tag.trim_end_matches('/');
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        out.push('<');
        out.push_str(&name);
        for (k, v) in html_attrs(&tag[name.len()..]) {
            let v = if name == "img" && k == "src" {
                src(&v)
            } else {
                v
            };
            out.push(' ');
            out.push_str(&k);
            out.push_str("=\"");
            out.push_str(&esc(&v));
            out.push('"');
        }
        if VOID.contains(&name.as_str()) {
            out.push_str("/>");
        } else {
            out.push('>');
        }
    }
    out.push_str(&text_entities(rest));
    out
}

/// Attributes of an HTML start tag (after the name), values decoded.
fn html_attrs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_whitespace() {
            i += 1;
        }
        let st = i;
        while i < b.len() && !b[i].is_whitespace() && b[i] != '=' {
            i += 1;
        }
        let key: String = b[st..i].iter().collect();
        if key.is_empty() {
            i += 1;
            continue;
        }
        let mut val = String::new();
        if i < b.len() && b[i] == '=' {
            i += 1;
            if i < b.len() && (b[i] == '"' || b[i] == '\'') {
                let q = b[i];
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                val = b[vs..i].iter().collect();
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_whitespace() {
                    i += 1;
                }
                val = b[vs..i].iter().collect();
            }
        }
        out.push((key, decode_entities(&val)));
    }
    out
}

fn text_entities(s: &str) -> String {
    esc(&decode_entities(s))
}

/// HTML entity references (the ones the sanitizer writes, plus numeric) decoded.
pub(crate) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(a) = rest.find('&') {
        out.push_str(&rest[..a]);
        let tail = &rest[a..];
        let semi = tail[..tail.len().min(12)].find(';');
        let decoded = semi.and_then(|semi| {
            let ent = &tail[1..semi];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                    u32::from_str_radix(&ent[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_declarations_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        let e = parse(bomb).unwrap_err();
        assert!(e.en.contains("DTD"), "{e:?}");
        let undefined = "<a>\n  <b>&nope;</b></a>";
        let e = parse(undefined).unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (2, "a/b"), "{e:?}");
    }

    #[test]
    fn paths_namespaces_and_text() {
        let x = r#"<r xmlns="urn:a" xmlns:m="urn:m"><m:x k="1 &amp; 2">t&lt;<![CDATA[<b>]]></m:x><y/></r>"#;
        let r = parse(x).unwrap();
        let m = r.elements().next().unwrap();
        assert_eq!(
            (m.name.as_str(), m.ns.as_str(), m.path.as_str()),
            ("x", "urn:m", "r/x")
        );
        assert_eq!(m.attr("k"), Some("1 & 2"));
        assert_eq!(m.text(), "t<<b>");
        assert_eq!(r.elements().nth(1).unwrap().ns, "urn:a");
    }

    #[test]
    fn unclosed_element_names_itself() {
        let e = parse("<a><b>").unwrap_err();
        assert!(e.en.contains("<b>"), "{e:?}");
    }

    #[test]
    fn sanitized_html_becomes_xhtml() {
        let h = r#"<p>a&nbsp;b<br><img src="x.png" alt="1>0 &amp; &quot;q&quot;"></p>"#;
        let x = html_to_xhtml(h, &|s| format!("../{s}"));
        assert_eq!(
            x,
            r#"<p>a&#160;b<br/><img src="../x.png" alt="1&gt;0 &amp; &quot;q&quot;"/></p>"#
                .replace("&#160;", "\u{a0}")
        );
        parse(&format!("<r>{x}</r>")).unwrap();
    }
}
