//! The catalog as files other engines read: CSV (UTF-8 with BOM, so spreadsheet programs
//! show Chinese correctly) and Parquet (for Spark, DuckDB, DataFusion once the catalog
//! outgrows one machine). Both carry the same columns in the same order.

use crate::report::Entry;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::io::Write;
use std::sync::Arc;

/// Column names, in order, of both export formats.
pub const COLUMNS: [&str; 18] = [
    "id",
    "path",
    "unit",
    "size",
    "mtime_ns",
    "hash",
    "kind",
    "ext",
    "category",
    "category_confidence",
    "annex",
    "annex_confidence",
    "certificate",
    "source",
    "reason",
    "text_chars",
    "flags",
    "archive",
];

/// Flags as one field: `flag` names separated by `;`.
fn flags_field(e: &Entry) -> String {
    e.record
        .flags
        .iter()
        .map(|f| f.flag.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

fn text_fields(e: &Entry) -> [String; 18] {
    let r = &e.record;
    [
        e.id.to_string(),
        r.path.clone(),
        r.unit.clone(),
        r.size.to_string(),
        r.mtime_ns.to_string(),
        r.hash.clone().unwrap_or_default(),
        r.kind.as_str().into(),
        r.ext.clone(),
        r.category.as_str().into(),
        format!("{:.3}", r.category_confidence),
        r.annex.map(|a| a.as_str().to_string()).unwrap_or_default(),
        format!("{:.3}", r.annex_confidence),
        r.certificate.clone().unwrap_or_default(),
        r.source.clone(),
        r.reason.clone(),
        r.text_chars.to_string(),
        flags_field(e),
        r.archive.clone().unwrap_or_default(),
    ]
}

pub fn write_csv<W: Write>(mut out: W, entries: &[Entry]) -> std::io::Result<()> {
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for e in entries {
        w.write_record(text_fields(e))?;
    }
    w.flush()?;
    Ok(())
}

const SCHEMA: &str = "message catalog {
    REQUIRED INT64 id;
    REQUIRED BYTE_ARRAY path (UTF8);
    REQUIRED BYTE_ARRAY unit (UTF8);
    REQUIRED INT64 size;
    REQUIRED INT64 mtime_ns;
    OPTIONAL BYTE_ARRAY hash (UTF8);
    REQUIRED BYTE_ARRAY kind (UTF8);
    REQUIRED BYTE_ARRAY ext (UTF8);
    REQUIRED BYTE_ARRAY category (UTF8);
    REQUIRED DOUBLE category_confidence;
    OPTIONAL BYTE_ARRAY annex (UTF8);
    REQUIRED DOUBLE annex_confidence;
    OPTIONAL BYTE_ARRAY certificate (UTF8);
    REQUIRED BYTE_ARRAY source (UTF8);
    REQUIRED BYTE_ARRAY reason (UTF8);
    REQUIRED INT64 text_chars;
    REQUIRED BYTE_ARRAY flags (UTF8);
    OPTIONAL BYTE_ARRAY archive (UTF8);
}";

/// Rows per row group: bounded memory for any catalog size.
const ROW_GROUP: usize = 65_536;

enum Col {
    I64(fn(&Entry) -> i64),
    F64(fn(&Entry) -> f64),
    Str(fn(&Entry) -> String),
    OptStr(fn(&Entry) -> Option<String>),
}

fn columns() -> [Col; 18] {
    [
        Col::I64(|e| e.id),
        Col::Str(|e| e.record.path.clone()),
        Col::Str(|e| e.record.unit.clone()),
        Col::I64(|e| e.record.size as i64),
        Col::I64(|e| e.record.mtime_ns),
        Col::OptStr(|e| e.record.hash.clone()),
        Col::Str(|e| e.record.kind.as_str().into()),
        Col::Str(|e| e.record.ext.clone()),
        Col::Str(|e| e.record.category.as_str().into()),
        Col::F64(|e| e.record.category_confidence as f64),
        Col::OptStr(|e| e.record.annex.map(|a| a.as_str().to_string())),
        Col::F64(|e| e.record.annex_confidence as f64),
        Col::OptStr(|e| e.record.certificate.clone()),
        Col::Str(|e| e.record.source.clone()),
        Col::Str(|e| e.record.reason.clone()),
        Col::I64(|e| e.record.text_chars as i64),
        Col::Str(flags_field),
        Col::OptStr(|e| e.record.archive.clone()),
    ]
}

pub fn write_parquet<W: Write + Send>(out: W, entries: &[Entry]) -> Result<(), String> {
    let schema = Arc::new(parse_message_type(SCHEMA).map_err(|e| e.to_string())?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_created_by("xcert".into())
            .build(),
    );
    let mut writer = SerializedFileWriter::new(out, schema, props).map_err(|e| e.to_string())?;
    let cols = columns();
    for chunk in entries.chunks(ROW_GROUP) {
        let mut rg = writer.next_row_group().map_err(|e| e.to_string())?;
        for col in &cols {
            let mut cw = rg
                .next_column()
                .map_err(|e| e.to_string())?
                .ok_or("schema and columns disagree")?;
            let r = match col {
                Col::I64(f) => {
                    let v: Vec<i64> = chunk.iter().map(f).collect();
                    cw.typed::<Int64Type>().write_batch(&v, None, None)
                }
                Col::F64(f) => {
                    let v: Vec<f64> = chunk.iter().map(f).collect();
                    cw.typed::<DoubleType>().write_batch(&v, None, None)
                }
                Col::Str(f) => {
                    let v: Vec<ByteArray> =
                        chunk.iter().map(|e| f(e).into_bytes().into()).collect();
                    cw.typed::<ByteArrayType>().write_batch(&v, None, None)
                }
                Col::OptStr(f) => {
                    let opts: Vec<Option<String>> = chunk.iter().map(f).collect();
                    let defs: Vec<i16> = opts.iter().map(|o| o.is_some() as i16).collect();
                    let v: Vec<ByteArray> = opts
                        .into_iter()
                        .flatten()
                        .map(|s| s.into_bytes().into())
                        .collect();
                    cw.typed::<ByteArrayType>()
                        .write_batch(&v, Some(&defs), None)
                }
            };
            r.map_err(|e| e.to_string())?;
            cw.close().map_err(|e| e.to_string())?;
        }
        rg.close().map_err(|e| e.to_string())?;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(())
}
