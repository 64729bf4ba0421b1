//! Throughput: `cargo run --release -p xcert-print --example bench_print -- [N]` renders N
//! certificates (default 1000) as one PDF and as a zip of one PDF each, and prints pages/s
//! and bytes per page.

use std::io::Cursor;
use std::time::Instant;

use chrono::NaiveDate;
use xcert_print::{CertificatePrint, render_pdf, render_zip};

const SURNAMES: [&str; 8] = ["张", "王", "李", "欧阳", "刘", "陈", "司马", "赵"];
const GIVEN: [&str; 8] = ["三丰", "䶮", "晓明", "娜娜", "龑", "建国", "昇", "子涵"];

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("N must be a number"))
        .unwrap_or(1000);
    let certs: Vec<CertificatePrint> = (0..n)
        .map(|i| {
            let number = format!("20263{:011}", i);
            CertificatePrint {
                holder_name: format!("{}{}", SURNAMES[i % 8], GIVEN[(i / 8) % 8]),
                id_masked: format!("1101**********{:03}X", i % 1000),
                certificate_name: "电力需求响应综合服务".into(),
                certificate_name_en: Some("Power Demand Response Integrated Services".into()),
                level_name: ["初级", "中级", "高级"][i % 3].into(),
                level_name_en: Some(["Elementary", "Intermediate", "Advanced"][i % 3].into()),
                teo_name: "国网能源研究院有限公司".into(),
                college_name: (i % 2 == 0).then(|| "北京电力职业技术学院".into()),
                issued_on: NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(),
                verify_url: format!("https://verify.xcert.example/c/{number}?k=Qm9vdHN0cmFw"),
                status_note: (i % 50 == 49).then(|| "已撤销 Revoked".into()),
                number,
            }
        })
        .collect();

    let t = Instant::now();
    let pdf = render_pdf(&certs).expect("render_pdf");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "single PDF: {n} pages in {secs:.2} s = {:.0} pages/s, {} bytes = {:.1} KB/page",
        n as f64 / secs,
        pdf.len(),
        pdf.len() as f64 / n as f64 / 1024.0
    );

    let t = Instant::now();
    let mut zip = Cursor::new(Vec::new());
    render_zip(&certs, &mut zip).expect("render_zip");
    let secs = t.elapsed().as_secs_f64();
    let len = zip.into_inner().len();
    println!(
        "zip ({} threads): {n} PDFs in {secs:.2} s = {:.0} pages/s, {len} bytes = {:.1} KB/page",
        rayon::current_num_threads(),
        n as f64 / secs,
        len as f64 / n as f64 / 1024.0
    );
}
