//! The files of a content package, from a zip archive (an upload) or a directory (an
//! unpacked package on disk), behind one small trait. Both refuse paths that leave the
//! package and cap what they read, so a zip bomb or a huge file stops with a problem.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use super::{Problem, normalize};

/// Most files a package may hold.
pub const MAX_FILES: usize = 20_000;
/// Largest single file read from a package, bytes.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes read from one package in all.
pub const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageError {
    NotFound,
    TooLarge { limit: u64 },
    Unreadable(String),
}

impl PackageError {
    pub fn en(&self, path: &str) -> String {
        match self {
            PackageError::NotFound => format!("the file \"{path}\" is not in the package"),
            PackageError::TooLarge { limit } => {
                format!("the file \"{path}\" is larger than {limit} bytes")
            }
            PackageError::Unreadable(e) => format!("the file \"{path}\" cannot be read: {e}"),
        }
    }

    pub fn zh(&self, path: &str) -> String {
        match self {
            PackageError::NotFound => format!("包中没有文件“{path}”"),
            PackageError::TooLarge { limit } => format!("文件“{path}”超过 {limit} 字节"),
            PackageError::Unreadable(e) => format!("文件“{path}”无法读取：{e}"),
        }
    }
}

/// The files of a package by normalized, `/`-separated, package-relative path.
pub trait PackageFiles {
    /// Every file's path, sorted.
    fn paths(&self) -> Vec<String>;
    fn read(&self, path: &str) -> Result<Vec<u8>, PackageError>;
    /// Problems met while opening (entries refused, limits reached).
    fn problems(&self) -> Vec<Problem> {
        Vec::new()
    }
    fn contains(&self, path: &str) -> bool {
        self.paths().iter().any(|p| p == path)
    }
}

/// A zip archive, read whole into memory on opening under the caps above.
pub struct ZipPackage {
    name: String,
    files: Vec<(String, Vec<u8>)>,
    problems: Vec<Problem>,
}

impl ZipPackage {
    /// Open an archive; `name` is how problems name the upload (`bank.zip`). A damaged
    /// archive is an error problem, not a panic.
    pub fn open(name: &str, bytes: &[u8]) -> Result<ZipPackage, Box<Problem>> {
        let bad = |en: String, zh: String| Box::new(Problem::error(name, "", "bad_zip", en, zh));
        let opened = std::panic::catch_unwind(|| zip::ZipArchive::new(Cursor::new(bytes)));
        let mut archive = match opened {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => {
                return Err(bad(
                    format!("not a readable zip archive: {e}"),
                    format!("不是可读取的 zip 压缩包：{e}"),
                ));
            }
            Err(_) => {
                return Err(bad(
                    "not a readable zip archive".into(),
                    "不是可读取的 zip 压缩包".into(),
                ));
            }
        };
        if archive.len() > MAX_FILES {
            return Err(bad(
                format!(
                    "the archive holds {} entries, more than {MAX_FILES}",
                    archive.len()
                ),
                format!("压缩包有 {} 个条目，超过上限 {MAX_FILES}", archive.len()),
            ));
        }
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut problems = Vec::new();
        let mut total = 0u64;
        for i in 0..archive.len() {
            let mut entry = match archive.by_index(i) {
                Ok(e) => e,
                Err(e) => {
                    problems.push(Problem::warning(
                        name,
                        format!("entry {}", i + 1),
                        "bad_zip_entry",
                        format!("entry {} cannot be read and is skipped: {e}", i + 1),
                        format!("第 {} 个条目无法读取，已跳过：{e}", i + 1),
                    ));
                    continue;
                }
            };
            let raw = match entry.name() {
                Ok(n) => n.replace('\\', "/"),
                Err(_) => String::from_utf8_lossy(entry.name_raw()).replace('\\', "/"),
            };
            if entry.is_dir() || raw.ends_with('/') {
                continue;
            }
            if entry.is_symlink() {
                problems.push(Problem::warning(
                    name,
                    raw.clone(),
                    "refused_path",
                    format!("\"{raw}\" is a symbolic link and is skipped"),
                    format!("“{raw}”是符号链接，已跳过"),
                ));
                continue;
            }
            let path = match normalize(raw.trim_start_matches("./")) {
                Ok(p) if !raw.starts_with('/') && !raw.contains(':') => p,
                Ok(_) | Err(_) => {
                    problems.push(Problem::warning(
                        name,
                        raw.clone(),
                        "refused_path",
                        format!(
                            "the entry \"{raw}\" would be placed outside the package and is skipped"
                        ),
                        format!("条目“{raw}”的路径指向包外，已跳过"),
                    ));
                    continue;
                }
            };
            // The declared size may lie: read at most one byte past the limit.
            let mut data = Vec::new();
            let read = (&mut entry).take(MAX_FILE_BYTES + 1).read_to_end(&mut data);
            if let Err(e) = read {
                problems.push(Problem::warning(
                    name,
                    path.clone(),
                    "bad_zip_entry",
                    format!("\"{path}\" cannot be decompressed and is skipped: {e}"),
                    format!("“{path}”无法解压，已跳过：{e}"),
                ));
                continue;
            }
            if data.len() as u64 > MAX_FILE_BYTES {
                problems.push(Problem::warning(
                    name,
                    path.clone(),
                    "file_too_large",
                    format!("\"{path}\" is larger than {MAX_FILE_BYTES} bytes and is skipped"),
                    format!("“{path}”超过 {MAX_FILE_BYTES} 字节，已跳过"),
                ));
                continue;
            }
            total += data.len() as u64;
            if total > MAX_TOTAL_BYTES {
                return Err(bad(
                    format!("the archive unpacks to more than {MAX_TOTAL_BYTES} bytes"),
                    format!("压缩包解压后超过 {MAX_TOTAL_BYTES} 字节"),
                ));
            }
            if files.iter().any(|(p, _)| *p == path) {
                continue;
            }
            files.push((path, data));
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(ZipPackage {
            name: name.to_string(),
            files,
            problems,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl PackageFiles for ZipPackage {
    fn paths(&self) -> Vec<String> {
        self.files.iter().map(|(p, _)| p.clone()).collect()
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, PackageError> {
        self.files
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .map(|i| self.files[i].1.clone())
            .map_err(|_| PackageError::NotFound)
    }

    fn problems(&self) -> Vec<Problem> {
        self.problems.clone()
    }

    fn contains(&self, path: &str) -> bool {
        self.files
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .is_ok()
    }
}

/// An unpacked package on disk. Symbolic links are not followed.
pub struct DirPackage {
    root: PathBuf,
    paths: Vec<String>,
    problems: Vec<Problem>,
}

impl DirPackage {
    pub fn open(root: &Path) -> Result<DirPackage, Box<Problem>> {
        let name = root.display().to_string();
        let meta = std::fs::symlink_metadata(root).map_err(|e| {
            Box::new(Problem::error(
                &name,
                "",
                "no_directory",
                format!("the directory cannot be read: {e}"),
                format!("无法读取目录：{e}"),
            ))
        })?;
        if !meta.is_dir() {
            return Err(Box::new(Problem::error(
                &name,
                "",
                "no_directory",
                "not a directory",
                "不是目录",
            )));
        }
        let mut paths = Vec::new();
        let mut problems = Vec::new();
        let mut todo = vec![(root.to_path_buf(), String::new())];
        while let Some((dir, prefix)) = todo.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                problems.push(Problem::warning(
                    &name,
                    prefix.clone(),
                    "unreadable",
                    format!("the folder \"{prefix}\" cannot be read"),
                    format!("无法读取文件夹“{prefix}”"),
                ));
                continue;
            };
            for ent in rd.flatten() {
                let Ok(ft) = ent.file_type() else { continue };
                let Some(fname) = ent.file_name().to_str().map(str::to_string) else {
                    continue;
                };
                let rel = format!("{prefix}{fname}");
                if ft.is_symlink() {
                    problems.push(Problem::warning(
                        &name,
                        rel.clone(),
                        "refused_path",
                        format!("\"{rel}\" is a symbolic link and is skipped"),
                        format!("“{rel}”是符号链接，已跳过"),
                    ));
                } else if ft.is_dir() {
                    todo.push((ent.path(), format!("{rel}/")));
                } else if ft.is_file() {
                    paths.push(rel);
                    if paths.len() > MAX_FILES {
                        return Err(Box::new(Problem::error(
                            &name,
                            "",
                            "too_many_files",
                            format!("the directory holds more than {MAX_FILES} files"),
                            format!("目录中的文件超过 {MAX_FILES} 个"),
                        )));
                    }
                }
            }
        }
        paths.sort();
        Ok(DirPackage {
            root: root.to_path_buf(),
            paths,
            problems,
        })
    }
}

impl PackageFiles for DirPackage {
    fn paths(&self) -> Vec<String> {
        self.paths.clone()
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, PackageError> {
        if self
            .paths
            .binary_search_by(|p| p.as_str().cmp(path))
            .is_err()
        {
            return Err(PackageError::NotFound);
        }
        let full = self.root.join(path);
        let f = std::fs::File::open(&full).map_err(|e| PackageError::Unreadable(e.to_string()))?;
        let mut data = Vec::new();
        f.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| PackageError::Unreadable(e.to_string()))?;
        if data.len() as u64 > MAX_FILE_BYTES {
            return Err(PackageError::TooLarge {
                limit: MAX_FILE_BYTES,
            });
        }
        Ok(data)
    }

    fn problems(&self) -> Vec<Problem> {
        self.problems.clone()
    }

    fn contains(&self, path: &str) -> bool {
        self.paths
            .binary_search_by(|p| p.as_str().cmp(path))
            .is_ok()
    }
}

/// An in-memory package (tests, and packages built by other code).
impl PackageFiles for Vec<(String, Vec<u8>)> {
    fn paths(&self) -> Vec<String> {
        let mut v: Vec<String> = self.iter().map(|(p, _)| p.clone()).collect();
        v.sort();
        v
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, PackageError> {
        self.iter()
            .find(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .ok_or(PackageError::NotFound)
    }
}
