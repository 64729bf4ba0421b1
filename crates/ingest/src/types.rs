//! The vocabulary every part of the engine shares: material categories, the seven annexes,
//! detected file kinds and the flags a file can carry.

use serde::{Deserialize, Serialize};

/// Material category (材料类别): the nine kinds of material a declaration collects
/// (seed 002 §4.3.2, Figure 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 培训指导方案
    TrainingScheme,
    /// 考核大纲
    AssessmentOutline,
    /// 样题题库
    SampleQuestions,
    /// 教材
    TeachingMaterials,
    /// 在线学习资源
    OnlineResources,
    /// 专家师资团队
    ExpertTeam,
    /// 管理制度
    ManagementSystem,
    /// 协议文本
    Agreement,
    /// 其他
    Other,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::TrainingScheme,
        Category::AssessmentOutline,
        Category::SampleQuestions,
        Category::TeachingMaterials,
        Category::OnlineResources,
        Category::ExpertTeam,
        Category::ManagementSystem,
        Category::Agreement,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::TrainingScheme => "training_scheme",
            Category::AssessmentOutline => "assessment_outline",
            Category::SampleQuestions => "sample_questions",
            Category::TeachingMaterials => "teaching_materials",
            Category::OnlineResources => "online_resources",
            Category::ExpertTeam => "expert_team",
            Category::ManagementSystem => "management_system",
            Category::Agreement => "agreement",
            Category::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Category::TrainingScheme => "培训指导方案",
            Category::AssessmentOutline => "考核大纲",
            Category::SampleQuestions => "样题题库",
            Category::TeachingMaterials => "教材",
            Category::OnlineResources => "在线学习资源",
            Category::ExpertTeam => "专家师资团队",
            Category::ManagementSystem => "管理制度",
            Category::Agreement => "协议文本",
            Category::Other => "其他",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Category::TrainingScheme => "Training guidance scheme",
            Category::AssessmentOutline => "Assessment outline",
            Category::SampleQuestions => "Sample question bank",
            Category::TeachingMaterials => "Teaching materials",
            Category::OnlineResources => "Online learning resources",
            Category::ExpertTeam => "Expert teacher team",
            Category::ManagementSystem => "Management system",
            Category::Agreement => "Agreement text",
            Category::Other => "Other",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        let t = s.trim();
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == t || c.zh() == t || c.en().eq_ignore_ascii_case(t))
    }
}

pub use xcert_domain::annex::Annex;

/// A file's type as read from its content (magic bytes and container structure), never
/// from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Docx,
    Pptx,
    Xlsx,
    /// Legacy OLE2 Word document (.doc)
    Doc,
    /// Legacy OLE2 PowerPoint (.ppt)
    Ppt,
    /// Legacy OLE2 Excel workbook (.xls)
    Xls,
    Pdf,
    /// Plain text, CSV, Markdown: anything that decodes as UTF-8 or GB18030 text.
    Text,
    Zip,
    SevenZ,
    Rar,
    Image,
    Video,
    Audio,
    /// Zero bytes.
    Empty,
    /// Binary content of no known kind.
    Unknown,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Docx => "docx",
            Kind::Pptx => "pptx",
            Kind::Xlsx => "xlsx",
            Kind::Doc => "doc",
            Kind::Ppt => "ppt",
            Kind::Xls => "xls",
            Kind::Pdf => "pdf",
            Kind::Text => "text",
            Kind::Zip => "zip",
            Kind::SevenZ => "7z",
            Kind::Rar => "rar",
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Audio => "audio",
            Kind::Empty => "empty",
            Kind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Docx,
            Kind::Pptx,
            Kind::Xlsx,
            Kind::Doc,
            Kind::Ppt,
            Kind::Xls,
            Kind::Pdf,
            Kind::Text,
            Kind::Zip,
            Kind::SevenZ,
            Kind::Rar,
            Kind::Image,
            Kind::Video,
            Kind::Audio,
            Kind::Empty,
            Kind::Unknown,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Kinds whose text the engine extracts (and which therefore take part in near-duplicate
    /// detection and text-based classification).
    pub fn has_text(self) -> bool {
        matches!(
            self,
            Kind::Docx | Kind::Pptx | Kind::Xlsx | Kind::Xls | Kind::Pdf | Kind::Text
        )
    }

    /// Archives the engine opens in place.
    pub fn is_archive(self) -> bool {
        matches!(self, Kind::Zip | Kind::SevenZ | Kind::Rar)
    }
}

/// What can be wrong with (or notable about) a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Zero bytes long.
    Empty,
    /// The extension says one type, the content another.
    ExtensionMismatch,
    /// The container is broken (bad zip directory, missing parts, unreadable PDF).
    Corrupt,
    /// The file ends early (PDF without its trailer, zip cut short).
    Truncated,
    /// Password-protected or encrypted (office encryption, PDF /Encrypt, encrypted zip entry).
    Encrypted,
    /// Text came out as replacement or private-use characters (a PDF without a usable
    /// ToUnicode map, typically); the text is not trusted.
    PoorText,
    /// Text extraction failed.
    ExtractFailed,
    /// An archive refused as hostile (path traversal, symlink, bomb, too many entries).
    HostileArchive,
    /// Archive nesting deeper than allowed; the inner archive is kept as a file.
    TooDeep,
    /// An archive format this build cannot open (kept as a file).
    UnsupportedArchive,
    /// Another path on the same file system is the same file (hard link).
    HardLink,
}

impl Flag {
    pub const ALL: [Flag; 11] = [
        Flag::Empty,
        Flag::ExtensionMismatch,
        Flag::Corrupt,
        Flag::Truncated,
        Flag::Encrypted,
        Flag::PoorText,
        Flag::ExtractFailed,
        Flag::HostileArchive,
        Flag::TooDeep,
        Flag::UnsupportedArchive,
        Flag::HardLink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Empty => "empty",
            Flag::ExtensionMismatch => "extension_mismatch",
            Flag::Corrupt => "corrupt",
            Flag::Truncated => "truncated",
            Flag::Encrypted => "encrypted",
            Flag::PoorText => "poor_text",
            Flag::ExtractFailed => "extract_failed",
            Flag::HostileArchive => "hostile_archive",
            Flag::TooDeep => "too_deep",
            Flag::UnsupportedArchive => "unsupported_archive",
            Flag::HardLink => "hard_link",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Flag::Empty => "空文件",
            Flag::ExtensionMismatch => "扩展名与内容不符",
            Flag::Corrupt => "文件损坏",
            Flag::Truncated => "文件不完整",
            Flag::Encrypted => "加密或有密码",
            Flag::PoorText => "文字提取质量差",
            Flag::ExtractFailed => "文字提取失败",
            Flag::HostileArchive => "危险压缩包已拒绝",
            Flag::TooDeep => "压缩包嵌套过深",
            Flag::UnsupportedArchive => "不支持的压缩格式",
            Flag::HardLink => "硬链接",
        }
    }

    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Flags that make a file not count as a valid record (有效记录).
    pub fn invalidates(self) -> bool {
        matches!(
            self,
            Flag::Empty | Flag::Corrupt | Flag::Truncated | Flag::HostileArchive
        )
    }
}

/// A flag with the detail that explains it ("extension .pdf, content docx").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagNote {
    pub flag: Flag,
    pub detail: String,
}

impl FlagNote {
    pub fn new(flag: Flag, detail: impl Into<String>) -> FlagNote {
        FlagNote {
            flag,
            detail: detail.into(),
        }
    }
}
