//! Classifier accuracy on a generated, labelled corpus: the generator knows each
//! document's category and annex. Train on the labels of half the units, evaluate on the
//! other half; print precision and recall per class (recorded in docs/PERFORMANCE.md).

use xcert_ingest::classify::{Classifier, Label, evaluate};
use xcert_ingest::corpus::{CorpusSpec, generate};
use xcert_ingest::{Category, Kind};

fn labelled(seed: u64) -> (Vec<Label>, Vec<Label>) {
    let dir = tempfile::tempdir().unwrap();
    let spec = CorpusSpec {
        seed,
        total_bytes: 24 << 20,
        archives: false,
        hard_links: false,
        ..CorpusSpec::default()
    };
    let m = generate(dir.path(), &spec, &mut |_| {}).unwrap();
    let units: Vec<String> = {
        let mut u: Vec<String> = m.files.iter().map(|f| f.unit.clone()).collect();
        u.sort();
        u.dedup();
        u
    };
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for f in &m.files {
        // Documents only (media are classified by folder and kind alone), not copies (a
        // copy in the training half would leak the answer), not unreadable ones.
        if !f.kind.has_text() || f.copy_of.is_some() || f.trap.is_some() || f.empty {
            continue;
        }
        let rel = f
            .path
            .split_once('/')
            .map(|x| x.1)
            .unwrap_or(&f.path)
            .to_string();
        let l = Label {
            path: rel,
            text: f.text_sample.clone(),
            kind: f.kind,
            category: f.category,
            annex: f.annex,
        };
        let unit_index = units.iter().position(|u| *u == f.unit).unwrap_or(0);
        if unit_index % 2 == 0 {
            train.push(l);
        } else {
            test.push(l);
        }
    }
    (train, test)
}

fn table(name: &str, e: &xcert_ingest::classify::Evaluation) {
    eprintln!(
        "{name}: accuracy {:.3}, macro-F1 {:.3}",
        e.accuracy, e.macro_f1
    );
    eprintln!(
        "  {:<20} {:>9} {:>7} {:>7} {:>8}",
        "class", "precision", "recall", "F1", "support"
    );
    for c in e.categories.iter().chain(e.annexes.iter()) {
        eprintln!(
            "  {:<20} {:>9.3} {:>7.3} {:>7.3} {:>8}",
            c.class, c.precision, c.recall, c.f1, c.support
        );
    }
}

#[test]
fn trained_classifier_is_accurate_on_held_out_units() {
    let (train, test) = labelled(3);
    assert!(
        train.len() > 50 && test.len() > 50,
        "{} / {}",
        train.len(),
        test.len()
    );
    let rules = evaluate(&Classifier::rules_only(), &test);
    let trained = Classifier::train(&train);
    let model = evaluate(&trained, &test);
    table("rules only", &rules);
    table("rules + model", &model);
    // Every category that occurs is recognized well, and the model does not make the
    // rules worse.
    assert!(model.macro_f1 >= 0.85, "macro-F1 {:.3}", model.macro_f1);
    assert!(model.accuracy >= rules.accuracy - 0.01);
    // Annexes are found with high precision: a wrong "present" would hide a missing annex.
    for a in &model.annexes {
        assert!(
            a.precision >= 0.9,
            "{} precision {:.3}",
            a.class,
            a.precision
        );
        assert!(a.recall >= 0.9, "{} recall {:.3}", a.class, a.recall);
    }

    // Files whose names say nothing: only the text (and the model) can tell.
    let vague: Vec<Label> = test
        .iter()
        .filter(|l| {
            let name = l.path.rsplit('/').next().unwrap_or("");
            ["扫描件", "新建", "final", "文档"]
                .iter()
                .any(|w| name.contains(w))
        })
        .cloned()
        .collect();
    if vague.len() >= 5 {
        let r = evaluate(&Classifier::rules_only(), &vague);
        let m = evaluate(&trained, &vague);
        eprintln!(
            "uninformative names ({}): rules {:.3}, rules + model {:.3}",
            vague.len(),
            r.accuracy,
            m.accuracy
        );
        assert!(m.accuracy >= r.accuracy, "{} < {}", m.accuracy, r.accuracy);
    }
    assert!(
        test.iter()
            .any(|l| l.kind == Kind::Pdf || l.kind == Kind::Docx)
    );
    assert!(test.iter().any(|l| l.category != Category::Other));
}
