//! Broken and hostile input never panics: every fixture, truncated at many points and with
//! bytes overwritten by the characters each format treats specially, goes through its
//! importer, which must return problems rather than crash.

use std::path::Path;

use xcert_assess::interchange::{
    export_qti3, import_gift, import_moodle_xml, import_qti, import_qti_zip, import_xlsx,
};

fn read(p: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/interchange")
            .join(p),
    )
    .unwrap()
}

/// Deterministic variants of `bytes`: truncations and byte overwrites.
fn variants(bytes: &[u8], specials: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let step = (bytes.len() / 40).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        out.push(bytes[..cut].to_vec());
    }
    // A small linear congruential generator (Numerical Recipes constants).
    let mut x: u32 = 12345;
    for _ in 0..200 {
        let mut v = bytes.to_vec();
        for _ in 0..4 {
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            let at = (x as usize) % v.len().max(1);
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            if let Some(b) = v.get_mut(at) {
                *b = specials[(x as usize) % specials.len()];
            }
        }
        out.push(v);
    }
    out
}

#[test]
fn gift_variants() {
    for v in variants(&read("gift/bank.gift"), b"{}=~#:\\%\n->") {
        let _ = import_gift("v.gift", &v);
    }
}

#[test]
fn moodle_variants() {
    for v in variants(&read("moodle/quiz.xml"), b"<>&;\"'/=![]@%") {
        let _ = import_moodle_xml("v.xml", &v);
    }
}

#[test]
fn qti_item_variants() {
    for f in ["qti/v3p0/items/text_entry.xml", "qti/v2p1/items/match.xml"] {
        for v in variants(&read(f), b"<>&;\"'/=![]:.") {
            let files = vec![("items/x.xml".to_string(), v)];
            let _ = import_qti(&files);
        }
    }
}

#[test]
fn zip_and_xlsx_variants() {
    let zip = export_qti3(&[], &[]);
    for v in variants(&zip, &[0, 0xff, b'P', b'K', 3, 4]) {
        let _ = import_qti_zip("v.zip", &v);
    }
    let xlsx = read("xlsx/bank.xlsx");
    for v in variants(&xlsx, &[0, 0xff, b'<', b'>', b'"'])
        .into_iter()
        .step_by(4)
    {
        let _ = import_xlsx("v.xlsx", &v);
    }
}
