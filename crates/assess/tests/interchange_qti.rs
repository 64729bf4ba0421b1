//! QTI interchange: export → import round trip on items of every kind, validation of the
//! export against the 1EdTech QTI 3.0 XSDs (when present locally), and the hand-written
//! fixtures in QTI 2.1, 2.2 and 3.0, good and broken.

#[path = "interchange_samples.rs"]
mod samples;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use xcert_assess::interchange::{
    ImportReport, Problem, Severity, export_qti3, import_qti, import_qti_dir, import_qti_zip,
};
use xcert_assess::item::{Interaction, ItemKind, Scoring};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/interchange/qti")
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            (f.name().unwrap().to_string(), b)
        })
        .collect()
}

fn zip_dir(dir: &Path) -> Vec<u8> {
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut todo = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let name = format!("{prefix}{}", e.file_name().to_str().unwrap());
            if e.file_type().unwrap().is_dir() {
                todo.push((e.path(), format!("{name}/")));
            } else {
                zw.start_file(name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                zw.write_all(&std::fs::read(e.path()).unwrap()).unwrap();
            }
        }
    }
    zw.finish().unwrap().into_inner()
}

fn errors(r: &ImportReport) -> Vec<&Problem> {
    r.problems.iter().filter(|p| p.is_error()).collect()
}

#[test]
fn export_then_import_round_trips_every_field() {
    let items = samples::items();
    let zip = export_qti3(&items, &samples::media());
    let report = import_qti_zip("export.zip", &zip);
    assert!(errors(&report).is_empty(), "{:#?}", report.problems);
    assert!(
        report.problems.is_empty(),
        "no warnings expected on xcert's own export: {:#?}",
        report.problems
    );
    assert_eq!(report.items.len(), items.len());
    for original in &items {
        let back = report
            .items
            .iter()
            .find(|i| i.item.meta.ident == original.meta.ident)
            .unwrap_or_else(|| panic!("{} missing", original.meta.ident));
        assert_eq!(&back.item, original, "{}", original.meta.ident);
    }
    assert_eq!(report.media.len(), 1);
    assert_eq!(report.media[0].path, samples::IMAGE);
    assert_eq!(report.media[0].bytes, samples::PNG.to_vec());
    // The item files reference the image relative to themselves.
    let files = unzip(&zip);
    let first = files
        .iter()
        .find(|(n, _)| n == "items/DG-0001.xml")
        .unwrap();
    let text = String::from_utf8(first.1.clone()).unwrap();
    assert!(text.contains("src=\"../images/电路图.png\""), "{text}");
    assert!(files.iter().any(|(n, _)| n == samples::IMAGE));
}

#[test]
fn export_uses_standard_templates_where_they_fit() {
    let items = samples::items();
    let files = unzip(&export_qti3(&items, &samples::media()));
    let get = |n: &str| {
        String::from_utf8(
            files
                .iter()
                .find(|(f, _)| f == &format!("items/{n}.xml"))
                .unwrap()
                .1
                .clone(),
        )
        .unwrap()
    };
    // Partial-credit multiple choice: map_response with the wrong options costing all.
    let mc = get("DG-0002");
    assert!(mc.contains("rptemplates/map_response.xml"), "{mc}");
    assert!(mc.contains("map-key=\"C\" mapped-value=\"-4\""), "{mc}");
    // One-point true/false: match_correct.
    assert!(get("DG-0003").contains("rptemplates/match_correct.xml"));
    // Two-point single choice: written out, because match_correct gives 1 point.
    let sc = get("DG-0001");
    assert!(sc.contains("<qti-response-condition>") && sc.contains(">2</qti-base-value>"));
    // Practical task: an extended-text item with the scale in a scorer rubric.
    let pt = get("DG-0010");
    assert!(pt.contains("qti-extended-text-interaction"));
    assert!(pt.contains("view=\"scorer\"") && pt.contains("接线正确"));
}

/// Validate the export with xmllint against the 1EdTech QTI 3.0 XSDs in `QTI3_XSD_DIR`
/// (prepared by `tests/fixtures/interchange/prepare_qti3_xsd.sh`); skipped, loudly, when
/// they or xmllint are not there.
#[test]
fn export_validates_against_the_qti3_xsd() {
    let Some(dir) = std::env::var_os("QTI3_XSD_DIR").map(PathBuf::from) else {
        eprintln!(
            "SKIPPED export_validates_against_the_qti3_xsd: set QTI3_XSD_DIR (see tests/fixtures/interchange/prepare_qti3_xsd.sh)"
        );
        return;
    };
    let item_xsd = dir.join("qtiv3p0/imsqti_asiv3p0_sbacv1p0_v1p0.xsd");
    let cp_xsd = dir.join("qtiv3p0/imsqtiv3p0_imscpv1p2_v1p0.xsd");
    if !item_xsd.exists() || !cp_xsd.exists() {
        eprintln!("SKIPPED export_validates_against_the_qti3_xsd: XSDs not found in {dir:?}");
        return;
    }
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED export_validates_against_the_qti3_xsd: xmllint not installed");
        return;
    }
    let out = std::env::temp_dir().join(format!("xcert-qti3-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(out.join("items")).unwrap();
    let files = unzip(&export_qti3(&samples::items(), &samples::media()));
    let mut item_files = Vec::new();
    for (n, b) in &files {
        let p = out.join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b).unwrap();
        if n.starts_with("items/") {
            item_files.push(p);
        }
    }
    let run = |xsd: &Path, docs: &[PathBuf]| {
        let o = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--nonet")
            .arg("--schema")
            .arg(xsd)
            .args(docs)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "xmllint rejected the export:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        eprintln!("{}", String::from_utf8_lossy(&o.stderr).trim());
    };
    run(&item_xsd, &item_files);
    run(&cp_xsd, &[out.join("imsmanifest.xml")]);
    let _ = std::fs::remove_dir_all(&out);
}

fn item<'a>(r: &'a ImportReport, ident: &str) -> &'a xcert_assess::Item {
    &r.items
        .iter()
        .find(|i| i.item.meta.ident == ident)
        .unwrap_or_else(|| panic!("{ident} not imported: {:#?}", r.problems))
        .item
}

/// The good fixtures hold the same five items in each QTI flavour; what each must give
/// is written from the fixture's own key and outcome declarations.
fn check_good(r: &ImportReport, flavour: &str) {
    assert!(errors(r).is_empty(), "{flavour}: {:#?}", r.problems);
    assert_eq!(r.items.len(), 5, "{flavour}: {:#?}", r.problems);
    let single = item(r, "choice-single");
    assert_eq!(single.content.kind, ItemKind::SingleChoice);
    assert_eq!(single.content.points, 1.0);
    let Interaction::Choice {
        choices,
        correct,
        shuffle,
    } = &single.content.interaction
    else {
        panic!()
    };
    assert_eq!(correct, &vec!["ChoiceB".to_string()]);
    assert!(!shuffle);
    assert!(choices[2].fixed && !choices[0].fixed);
    assert_eq!(choices[1].text, "50 Hz");
    // The prompt becomes part of the stem, the image comes along.
    assert!(
        single.content.stem.contains("我国电网的额定频率是"),
        "{}",
        single.content.stem
    );
    assert!(
        single.content.stem.contains("src=\"images/sign.png\""),
        "{}",
        single.content.stem
    );
    assert!(
        !single.content.stem.contains("60 Hz"),
        "options are not in the stem"
    );
    assert_eq!(r.media.len(), 1);
    assert_eq!(r.media[0].path, "images/sign.png");
    assert_eq!(r.media[0].bytes, samples::PNG.to_vec());

    let multi = item(r, "choice-multiple");
    assert_eq!(multi.content.kind, ItemKind::MultipleChoice);
    assert_eq!(multi.content.scoring, Scoring::Partial);
    // upperBound of the mapping.
    assert_eq!(multi.content.points, 2.0);
    let Interaction::Choice { correct, .. } = &multi.content.interaction else {
        panic!()
    };
    assert_eq!(correct, &vec!["H".to_string(), "O".to_string()]);

    let tf = item(r, "true-false");
    assert_eq!(tf.content.kind, ItemKind::TrueFalse);

    let te = item(r, "text-entry");
    assert_eq!(te.content.kind, ItemKind::TextEntry);
    let Interaction::TextEntry { blanks } = &te.content.interaction else {
        panic!()
    };
    assert_eq!(blanks.len(), 2);
    assert_eq!(
        blanks[0].accepted,
        vec!["安培".to_string(), "A".to_string()]
    );
    assert!(!blanks[0].case_sensitive);
    assert_eq!(blanks[1].accepted, vec!["伏特".to_string()]);
    // MAXSCORE outcome.
    assert_eq!(te.content.points, 2.0);
    assert!(
        te.content.stem.contains("电流的单位是____"),
        "{}",
        te.content.stem
    );

    let m = item(r, "match");
    let Interaction::Match { correct, .. } = &m.content.interaction else {
        panic!()
    };
    assert_eq!(
        correct,
        &vec![
            ("C".to_string(), "R".to_string()),
            ("D".to_string(), "M".to_string())
        ]
    );
    // normalMaximum on SCORE.
    assert_eq!(m.content.points, 3.0);
    // Package metadata from the manifest's LOM.
    assert_eq!(single.meta.requirements, vec!["1.1.2".to_string()]);
    assert_eq!(single.meta.difficulty, Some(2.0));
    assert_eq!(single.meta.time_seconds, Some(90));
}

#[test]
fn qti_2_1_fixtures() {
    check_good(&import_qti_dir(&fixtures().join("v2p1")), "2.1");
}

#[test]
fn qti_2_2_fixtures() {
    check_good(&import_qti_dir(&fixtures().join("v2p2")), "2.2");
}

#[test]
fn qti_3_0_fixtures_from_a_zip() {
    let zip = zip_dir(&fixtures().join("v3p0"));
    check_good(&import_qti_zip("v3p0.zip", &zip), "3.0");
}

fn problem<'a>(r: &'a ImportReport, code: &str) -> &'a Problem {
    r.problems
        .iter()
        .find(|p| p.code == code)
        .unwrap_or_else(|| panic!("no {code} problem: {:#?}", r.problems))
}

#[test]
fn broken_fixtures_name_the_file_and_element() {
    let r = import_qti_dir(&fixtures().join("broken"));
    // Only the one good item comes through.
    let idents: Vec<&str> = r.items.iter().map(|i| i.item.meta.ident.as_str()).collect();
    assert_eq!(idents, vec!["ok"], "{:#?}", r.problems);

    let p = problem(&r, "missing_href");
    assert_eq!(p.file, "imsmanifest.xml");
    assert!(p.location.starts_with("manifest/resources/resource"), "{p}");

    let p = problem(&r, "missing_file");
    assert!(p.en.contains("items/absent.xml"), "{p}");

    let p = problem(&r, "bad_xml");
    assert_eq!(p.file, "items/bad.xml");
    assert!(
        p.location
            .contains("assessmentItem/itemBody/choiceInteraction"),
        "{p}"
    );

    let p = problem(&r, "unsupported_interaction");
    assert_eq!(p.file, "items/gap.xml");
    assert!(
        p.location
            .starts_with("qti-assessment-item/qti-item-body/qti-gap-match-interaction"),
        "{p}"
    );
    assert_eq!(p.item.as_deref(), Some("gap"));
    assert!(p.zh.contains("qti-gap-match-interaction"));

    let p = problem(&r, "key_not_an_option");
    assert_eq!(p.file, "items/badkey.xml");
    assert!(
        p.location.starts_with("assessmentItem/responseDeclaration"),
        "{p}"
    );
    assert!(p.en.contains("ChoiceZ") && p.zh.contains("ChoiceZ"), "{p}");

    let p = problem(&r, "refused_path");
    assert!(p.en.contains(".."), "{p}");

    let p = problem(&r, "bad_xml");
    assert_eq!(p.severity, Severity::Error);
    let bomb = r
        .problems
        .iter()
        .find(|p| p.file == "items/bomb.xml")
        .expect("the entity bomb is reported");
    assert!(bomb.en.contains("DTD"), "{bomb}");

    let p = problem(&r, "missing_media");
    assert_eq!(p.file, "items/noimage.xml");
    assert!(p.location.contains("img"), "{p}");
}

#[test]
fn a_package_without_manifest_is_scanned_with_a_warning() {
    let dir = fixtures().join("v3p0");
    let files: Vec<(String, Vec<u8>)> = ["items/choice.xml", "images/sign.png"]
        .iter()
        .map(|p| (p.to_string(), std::fs::read(dir.join(p)).unwrap()))
        .collect();
    let r = import_qti(&files);
    assert_eq!(problem(&r, "no_manifest").severity, Severity::Warning);
    assert_eq!(r.items.len(), 1, "{:#?}", r.problems);
    assert_eq!(r.items[0].item.meta.ident, "choice-single");
}

#[test]
fn hostile_archives_do_not_panic() {
    let r = import_qti_zip("junk.zip", b"PK\x03\x04 not really a zip");
    assert_eq!(problem(&r, "bad_zip").severity, Severity::Error);
    // An entry that climbs out of the package is refused, not read.
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zw.start_file("../evil.xml", zip::write::SimpleFileOptions::default())
        .unwrap();
    zw.write_all(b"<qti-assessment-item/>").unwrap();
    let bytes = zw.finish().unwrap().into_inner();
    let r = import_qti_zip("evil.zip", &bytes);
    assert!(r.items.is_empty());
    assert!(
        r.problems.iter().any(|p| p.code == "refused_path"),
        "{:#?}",
        r.problems
    );
    // Deeply nested elements stop at the depth cap.
    let deep = format!(
        "<qti-assessment-item xmlns=\"http://www.imsglobal.org/xsd/imsqtiasi_v3p0\">{}{}</qti-assessment-item>",
        "<div>".repeat(5000),
        "</div>".repeat(5000)
    );
    let files = vec![("deep.xml".to_string(), deep.into_bytes())];
    let r = import_qti(&files);
    assert!(
        r.problems
            .iter()
            .any(|p| p.code == "bad_xml" && p.en.contains("deeper")),
        "{:#?}",
        r.problems
    );
}

/// The 1EdTech example packages (github.com/1EdTech/qti-examples, `qtiv3-examples/
/// packaging/items` and `qtiv2p2-examples/items`) when `QTI_EXAMPLES_DIR` points at a
/// checkout: nothing panics, the examples of supported interactions import with the keys
/// the examples declare, and the others are reported by element.
#[test]
fn official_examples_when_present() {
    let Some(dir) = std::env::var_os("QTI_EXAMPLES_DIR").map(PathBuf::from) else {
        eprintln!(
            "SKIPPED official_examples_when_present: set QTI_EXAMPLES_DIR to a qti-examples checkout"
        );
        return;
    };
    for sub in ["qtiv3-examples/packaging/items", "qtiv2p2-examples/items"] {
        let r = import_qti_dir(&dir.join(sub));
        let got = |id: &str| r.items.iter().find(|i| i.item.meta.ident == id);
        eprintln!(
            "{sub}: {} items, {} errors, {} warnings",
            r.items.len(),
            r.errors().count(),
            r.warnings().count()
        );
        // Keys as the example files declare them.
        let choice = got("choice").expect("choice.xml");
        assert_eq!(
            choice.item.content.key(),
            Some(xcert_assess::Response::Choice(vec!["ChoiceA".into()]))
        );
        let order = got("order").expect("order.xml");
        assert_eq!(
            order.item.content.key(),
            Some(xcert_assess::Response::Order(vec![
                "DriverC".into(),
                "DriverA".into(),
                "DriverB".into()
            ]))
        );
        let m = got("match").expect("match.xml");
        let Interaction::Match { correct, .. } = &m.item.content.interaction else {
            panic!()
        };
        assert_eq!(correct.len(), 4);
        assert!(got("textEntry").is_some() || got("text_entry").is_some());
        for unsupported in ["hotspot.xml", "gap_match.xml", "slider.xml", "upload.xml"] {
            assert!(
                r.problems
                    .iter()
                    .any(|p| p.file.ends_with(unsupported) && p.code == "unsupported_interaction"),
                "{sub}/{unsupported}: {:#?}",
                r.problems
                    .iter()
                    .filter(|p| p.file.ends_with(unsupported))
                    .collect::<Vec<_>>()
            );
        }
    }
}
