//! National identifiers with check characters.
//!
//! - Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters over a
//!   31-symbol alphabet, the last a MOD 31 check character.
//! - Resident identity number (公民身份号码), GB 11643-1999: 17 digits and an
//!   ISO 7064 MOD 11-2 check character (0–9 or X).

use crate::FieldError;
use serde::Serialize;

/// Why an identifier was rejected; `field()` turns it into a [`FieldError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    Empty,
    Length { expected: usize, got: usize },
    BadChar { position: usize, ch: char },
    BadCheck { expected: char, got: char },
    BadDate,
}

impl IdError {
    pub fn field(&self, field: &str) -> FieldError {
        let (code, en, zh) = match self {
            IdError::Empty => (
                "required",
                "is required".to_string(),
                "不能为空".to_string(),
            ),
            IdError::Length { expected, got } => (
                "bad_length",
                format!("must be {expected} characters, got {got}"),
                format!("应为 {expected} 位，实际 {got} 位"),
            ),
            IdError::BadChar { position, ch } => (
                "bad_char",
                format!("character {position} ('{ch}') is not allowed there"),
                format!("第 {position} 位字符“{ch}”不合法"),
            ),
            IdError::BadCheck { expected, got } => (
                "bad_check",
                format!("check character is '{got}' but the other characters require '{expected}'"),
                format!("校验位为“{got}”，按前 17 位计算应为“{expected}”"),
            ),
            IdError::BadDate => (
                "bad_date",
                "the birth date in the number is not a real date".to_string(),
                "号码中的出生日期不存在".to_string(),
            ),
        };
        FieldError::new(field, code, en, zh)
    }
}

impl std::fmt::Display for IdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.field("value").en)
    }
}

impl std::error::Error for IdError {}

/// GB 32100 alphabet: digits and capitals without I, O, Z, S, V.
const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn normalize(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Unified social credit code, 统一社会信用代码 (GB 32100).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CreditCode(String);

impl CreditCode {
    /// Compute the check character for the first 17 characters.
    pub fn check_char(first17: &str) -> Result<char, IdError> {
        let chars: Vec<char> = first17.chars().collect();
        if chars.len() != 17 {
            return Err(IdError::Length {
                expected: 17,
                got: chars.len(),
            });
        }
        let mut sum = 0u32;
        for (i, c) in chars.iter().enumerate() {
            let v = USCC_ALPHABET.find(*c).ok_or(IdError::BadChar {
                position: i + 1,
                ch: *c,
            })? as u32;
            sum += v * USCC_WEIGHTS[i];
        }
        let check = (31 - sum % 31) % 31;
        Ok(USCC_ALPHABET.as_bytes()[check as usize] as char)
    }

    pub fn parse(s: &str) -> Result<CreditCode, IdError> {
        let s = normalize(s);
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(IdError::Length {
                expected: 18,
                got: chars.len(),
            });
        }
        let first17: String = chars[..17].iter().collect();
        let expected = Self::check_char(&first17)?;
        let got = chars[17];
        if !USCC_ALPHABET.contains(got) {
            return Err(IdError::BadChar {
                position: 18,
                ch: got,
            });
        }
        if got != expected {
            return Err(IdError::BadCheck { expected, got });
        }
        Ok(CreditCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// Resident identity number, 公民身份号码 (GB 11643). `Debug` and `Display` show only
/// the masked form so that a raw number cannot reach a log by accident; the raw value
/// is available through [`ResidentId::expose`] for storage and lookup.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

impl ResidentId {
    pub fn check_char(first17: &str) -> Result<char, IdError> {
        let chars: Vec<char> = first17.chars().collect();
        if chars.len() != 17 {
            return Err(IdError::Length {
                expected: 17,
                got: chars.len(),
            });
        }
        let mut sum = 0u32;
        for (i, c) in chars.iter().enumerate() {
            let d = c.to_digit(10).ok_or(IdError::BadChar {
                position: i + 1,
                ch: *c,
            })?;
            sum += d * ID_WEIGHTS[i];
        }
        Ok(ID_CHECK[(sum % 11) as usize] as char)
    }

    pub fn parse(s: &str) -> Result<ResidentId, IdError> {
        let s = normalize(s);
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(IdError::Length {
                expected: 18,
                got: chars.len(),
            });
        }
        let first17: String = chars[..17].iter().collect();
        let expected = Self::check_char(&first17)?;
        let got = chars[17];
        if !(got.is_ascii_digit() || got == 'X') {
            return Err(IdError::BadChar {
                position: 18,
                ch: got,
            });
        }
        let y: u32 = first17[6..10].parse().unwrap();
        let m: u32 = first17[10..12].parse().unwrap();
        let d: u32 = first17[12..14].parse().unwrap();
        if !valid_date(y, m, d) {
            return Err(IdError::BadDate);
        }
        if got != expected {
            return Err(IdError::BadCheck { expected, got });
        }
        Ok(ResidentId(s))
    }

    /// The raw number, for storage and exact lookup only; never display or log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// First four and last four characters kept: `1101**********1234`.
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }

    /// (year, month, day) of birth encoded in the number.
    pub fn birth_date(&self) -> (u32, u32, u32) {
        (
            self.0[6..10].parse().unwrap(),
            self.0[10..12].parse().unwrap(),
            self.0[12..14].parse().unwrap(),
        )
    }
}

impl std::fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

impl std::fmt::Display for ResidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for ResidentId {
    /// Serializes masked: serialized values end up in JSON responses and audit entries.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

/// Mask any identity-number-like string, keeping the first 4 and last 4 characters.
pub fn mask_id_number(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

fn valid_date(y: u32, m: u32, d: u32) -> bool {
    if !(1800..=2100).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}
