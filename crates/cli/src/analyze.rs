//! `xcert analyze`: item analysis of one form from RESPONSES.csv (and KEY.csv), printed
//! as a table or as the JSON report (the same `AnalysisReport` the API serves).

use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::Path;
use xcert_assess::analysis::{
    AnalysisOptions, AnalysisReport, IrtRequest, analyze_data, read_key, read_responses,
};

/// Parse the `--irt` value.
pub fn parse_irt(s: &str) -> Result<IrtRequest> {
    Ok(match s {
        "none" => IrtRequest::None,
        "rasch" | "1pl" => IrtRequest::Rasch,
        "2pl" => IrtRequest::TwoPl,
        "auto" => IrtRequest::Auto,
        other => bail!("--irt {other}: use rasch, 2pl, none or auto"),
    })
}

fn file_label(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Read, analyze, print.
pub fn run(responses: &Path, key: Option<&Path>, json: bool, irt: IrtRequest) -> Result<()> {
    let key_table = match key {
        Some(k) => {
            let bytes = std::fs::read(k).with_context(|| format!("reading {}", k.display()))?;
            Some(
                read_key(&file_label(k), &bytes)
                    .map_err(|e| anyhow::anyhow!("{e}\n{}", e.zh_message()))?,
            )
        }
        None => None,
    };
    let bytes =
        std::fs::read(responses).with_context(|| format!("reading {}", responses.display()))?;
    let data = read_responses(&file_label(responses), &bytes, key_table.as_ref())
        .map_err(|e| anyhow::anyhow!("{e}\n{}", e.zh_message()))?;
    let opts = AnalysisOptions {
        irt,
        ..Default::default()
    };
    let report = analyze_data(&data, &opts);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&file_label(responses), &report));
    }
    Ok(())
}

fn f(x: Option<f64>, digits: usize) -> String {
    x.map_or("—".to_string(), |v| format!("{v:.digits$}"))
}

/// The readable report.
pub fn render(name: &str, r: &AnalysisReport) -> String {
    let t = &r.test;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{name}: {} candidates, {} items ({} presented every item)",
        t.n_persons, t.n_items, t.n_complete
    );
    let _ = writeln!(
        o,
        "total score: mean {} sd {} min {} max {} of {}",
        f(t.mean, 2),
        f(t.sd, 2),
        f(t.min, 1),
        f(t.max, 1),
        t.max_possible
    );
    let _ = writeln!(
        o,
        "Cronbach's alpha (KR-20 for 0/1 items) {}   SEM {}",
        f(t.alpha, 4),
        f(t.sem, 3)
    );
    let _ = writeln!(o);
    let irt_item = |id: &str| {
        r.irt
            .as_ref()
            .and_then(|fit| fit.items.iter().find(|i| i.item_id == id))
    };
    let _ = writeln!(
        o,
        "{:<10} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6} {:>9} {:>7} {:>7}",
        "item", "n", "p", "sd", "r_it", "r_rest", "D", "α-if-del", "IRT a", "IRT b"
    );
    for it in &r.items {
        let irt = irt_item(&it.item_id);
        let _ = writeln!(
            o,
            "{:<10} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6} {:>9} {:>7} {:>7}",
            it.item_id,
            it.n,
            f(it.facility, 3),
            f(it.sd, 3),
            f(it.r_item_total, 3),
            f(it.r_item_rest, 3),
            f(it.discrimination_index, 3),
            f(it.alpha_if_deleted, 3),
            f(irt.map(|i| i.a), 3),
            f(irt.map(|i| i.b), 3),
        );
    }
    if !r.distractors.is_empty() {
        let _ = writeln!(
            o,
            "\ndistractors (share of all / upper 27% / lower 27%, r with rest; * = key)"
        );
        for d in &r.distractors {
            let _ = write!(o, "{:<10}", d.item_id);
            for row in &d.rows {
                let label = match &row.option {
                    Some(opt) => format!("{opt}{}", if row.is_key { "*" } else { "" }),
                    None => "omit".into(),
                };
                let _ = write!(
                    o,
                    "  {label}: {}/{}/{} r {}",
                    f(row.proportion, 2),
                    f(row.upper_proportion, 2),
                    f(row.lower_proportion, 2),
                    f(row.r_rest, 2)
                );
            }
            let _ = writeln!(o);
        }
    }
    if !r.flags.is_empty() {
        let _ = writeln!(o, "\nflags");
        for fl in &r.flags {
            let _ = writeln!(
                o,
                "  {} {}{}: {}\n      {}：{}",
                fl.item_id,
                fl.kind.en(),
                fl.option
                    .as_ref()
                    .map_or(String::new(), |x| format!(" ({x})")),
                fl.en,
                fl.kind.zh(),
                fl.zh
            );
        }
    }
    if let Some(fit) = &r.irt {
        let _ = writeln!(
            o,
            "\nIRT {}: log-likelihood {:.3}, {} EM cycles, {}, {} distinct patterns",
            fit.model.as_str(),
            fit.log_likelihood,
            fit.iterations,
            if fit.converged {
                "converged"
            } else {
                "NOT converged"
            },
            fit.n_patterns
        );
        let _ = writeln!(
            o,
            "{:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "item", "a", "se(a)", "d", "se(d)", "b", "se(b)"
        );
        for i in &fit.items {
            let _ = writeln!(
                o,
                "{:<10} {:>8.3} {:>8} {:>8.3} {:>8} {:>8.3} {:>8}",
                i.item_id,
                i.a,
                f(i.se_a, 3),
                i.d,
                f(i.se_d, 3),
                i.b,
                f(i.se_b, 3)
            );
        }
    }
    for n in r.irt_notes.iter().chain(&r.notices) {
        let _ = writeln!(o, "note: {}\n      {}", n.en, n.zh);
    }
    o
}
