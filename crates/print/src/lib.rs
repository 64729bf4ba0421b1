//! A4 PDF certificates (职业技能等级证书) with Chinese text and a verification QR code, one
//! PDF for a batch or a zip of one PDF per certificate.
//!
//! Pure Rust: [`krilla`] writes the PDF, the text is real (extractable) text in a bundled
//! TrueType CJK font — WenQuanYi Micro Hei, with HanaMinA as the fallback for CJK Extension A —
//! subset into each PDF; the QR code is drawn as vector rectangles. No network, no file reads:
//! the fonts are compiled in. A character neither font has prints as an empty box; check
//! names with [`covers`] first.

mod font;
mod layout;

use std::collections::HashSet;
use std::io::{Seek, Write};

use rayon::prelude::*;

/// Everything printed on one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePrint {
    /// Certificate number, e.g. "202630000000123X"; also the file name in [`render_zip`].
    pub number: String,
    /// Holder's name, e.g. 张三.
    pub holder_name: String,
    /// Masked ID number, e.g. "1101**********002X".
    pub id_masked: String,
    /// e.g. "电力需求响应综合服务".
    pub certificate_name: String,
    pub certificate_name_en: Option<String>,
    /// e.g. "中级".
    pub level_name: String,
    /// e.g. "Intermediate".
    pub level_name_en: Option<String>,
    /// The issuing training-evaluation organization (培训评价组织), printed as 发证机构.
    pub teo_name: String,
    /// The training college (培训院校), if any.
    pub college_name: Option<String>,
    pub issued_on: chrono::NaiveDate,
    /// The QR code encodes exactly this.
    pub verify_url: String,
    /// e.g. "已撤销 Revoked": printed as a banner and a diagonal watermark when set.
    pub status_note: Option<String>,
}

/// Why a certificate could not be printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("no certificates to print: a PDF needs at least one page")]
    NoCertificates,
    #[error(
        "certificate {number:?}: the verify URL is empty, there is nothing to put in the QR code"
    )]
    EmptyVerifyUrl { number: String },
    #[error("certificate {number:?}: the verify URL cannot be encoded as a QR code: {reason}")]
    QrCode { number: String, reason: String },
    #[error(
        "certificate number {number:?} cannot name a file in the zip: it is empty, or has '/', '\\\\', \"..\" or control characters"
    )]
    InvalidNumber { number: String },
    #[error(
        "certificate number {number:?} appears twice: the zip would hold two files of one name"
    )]
    DuplicateNumber { number: String },
    #[error("PDF generation failed: {0}")]
    Pdf(String),
    #[error("writing the zip failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the zip failed: {0}")]
    Io(#[from] std::io::Error),
}

/// One A4 page per certificate, in one PDF.
pub fn render_pdf(certs: &[CertificatePrint]) -> Result<Vec<u8>, PrintError> {
    if certs.is_empty() {
        return Err(PrintError::NoCertificates);
    }
    layout::document(certs)
}

/// Streams a zip of one PDF per certificate, named "{number}.pdf", to `out`.
///
/// All numbers are checked (usable as a file name, no duplicates) before anything is
/// written. Large batches are rendered in parallel with rayon, a bounded chunk at a time, and
/// written in input order. An empty slice gives an empty zip.
pub fn render_zip<W: Write + Seek>(certs: &[CertificatePrint], out: W) -> Result<(), PrintError> {
    let mut seen = HashSet::with_capacity(certs.len());
    for c in certs {
        let n = c.number.as_str();
        if n.is_empty()
            || n.contains(['/', '\\'])
            || n.contains("..")
            || n.chars().any(char::is_control)
        {
            return Err(PrintError::InvalidNumber {
                number: c.number.clone(),
            });
        }
        if !seen.insert(n) {
            return Err(PrintError::DuplicateNumber {
                number: c.number.clone(),
            });
        }
    }
    let mut zip = zip::ZipWriter::new(out);
    // The PDF streams are already deflated; storing them saves the time for ~1% of size.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    const PARALLEL_FROM: usize = 8;
    let chunk = 16 * rayon::current_num_threads().max(1);
    for batch in certs.chunks(chunk) {
        let pdfs: Vec<Result<Vec<u8>, PrintError>> = if batch.len() >= PARALLEL_FROM {
            batch
                .par_iter()
                .map(|c| layout::document(std::slice::from_ref(c)))
                .collect()
        } else {
            batch
                .iter()
                .map(|c| layout::document(std::slice::from_ref(c)))
                .collect()
        };
        for (cert, pdf) in batch.iter().zip(pdfs) {
            zip.start_file(format!("{}.pdf", cert.number), options)?;
            zip.write_all(&pdf?)?;
        }
    }
    zip.finish()?;
    Ok(())
}

/// The characters of `text` that the bundled fonts cannot draw (each once, in order of
/// appearance; spaces and control characters are ignored). Empty means `text` prints fully.
/// The fonts cover Latin, punctuation, all CJK Unified Ideographs U+4E00–9FFF that WenQuanYi
/// Micro Hei has and CJK Extension A; Extension B and later (e.g. 𠈌) are not bundled.
pub fn covers(text: &str) -> Vec<char> {
    font::uncovered(text)
}
