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
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

#[cfg(test)]
mod tests {
    use super::*;

    // Examples published independently of this code. Their check characters were not
    // computed here, so a wrong weight table or alphabet would fail on them.
    const CREDIT_CODES: [&str; 5] = [
        "91350100M000100Y43", // the example in GB 32100-2015 itself
        "914403001922038216", // 华为技术有限公司
        "91440300708461136T", // 深圳市腾讯计算机系统有限公司
        "91330100716105852F", // 阿里巴巴（中国）有限公司
        "91110108551385082Q", // 北京小米科技有限责任公司
    ];
    const RESIDENT_IDS: [&str; 2] = [
        "11010519491231002X", // the example in GB 11643-1999 itself
        "440524188001010014", // the standard's second example (born 1880)
    ];

    /// `s` with the character at `pos` replaced by `c`.
    fn with_char(s: &str, pos: usize, c: char) -> String {
        s.chars()
            .enumerate()
            .map(|(i, x)| if i == pos { c } else { x })
            .collect()
    }

    #[test]
    fn published_credit_codes_parse() {
        for code in CREDIT_CODES {
            let parsed = CreditCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
            assert_eq!(
                CreditCode::check_char(&code[..17]).unwrap(),
                code.chars().last().unwrap()
            );
        }
    }

    #[test]
    fn any_single_changed_credit_code_character_is_caught() {
        // 31 is prime and no weight is a multiple of it, so MOD 31 catches every
        // single substitution; check that the code does.
        for code in CREDIT_CODES {
            for pos in 0..18 {
                for c in USCC_ALPHABET.chars() {
                    if code.chars().nth(pos) == Some(c) {
                        continue;
                    }
                    let changed = with_char(code, pos, c);
                    match CreditCode::parse(&changed) {
                        Err(IdError::BadCheck { .. }) => {}
                        other => panic!("{changed}: expected BadCheck, got {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn credit_code_letters_outside_the_alphabet_are_rejected() {
        let code = CREDIT_CODES[0];
        for bad in ['I', 'O', 'Z', 'S', 'V'] {
            assert_eq!(
                CreditCode::parse(&with_char(code, 9, bad)),
                Err(IdError::BadChar {
                    position: 10,
                    ch: bad
                })
            );
            assert_eq!(
                CreditCode::parse(&with_char(code, 17, bad)),
                Err(IdError::BadChar {
                    position: 18,
                    ch: bad
                })
            );
            // Lowercase forms are uppercased first and then rejected the same way.
            let lower = bad.to_ascii_lowercase();
            assert_eq!(
                CreditCode::parse(&with_char(code, 17, lower)),
                Err(IdError::BadChar {
                    position: 18,
                    ch: bad
                })
            );
        }
        assert!(matches!(
            CreditCode::parse("91350100M00010-Y43"),
            Err(IdError::BadChar { position: 15, .. })
        ));
    }

    #[test]
    fn credit_code_length_case_and_blanks() {
        assert_eq!(CreditCode::parse("  "), Err(IdError::Empty));
        assert_eq!(
            CreditCode::parse("91350100M000100Y4"),
            Err(IdError::Length {
                expected: 18,
                got: 17
            })
        );
        assert_eq!(
            CreditCode::parse("91350100M000100Y433"),
            Err(IdError::Length {
                expected: 18,
                got: 19
            })
        );
        let c = CreditCode::parse(" 91350100m000100y43 ").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
        // People paste codes with spaces in groups.
        let c = CreditCode::parse("9135 0100 M000 100Y 43").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
        let e = CreditCode::parse("91350100M000100Y44")
            .unwrap_err()
            .field("credit_code");
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("credit_code", "bad_check")
        );
        assert!(
            e.en.contains("'3'") && e.zh.contains("“3”"),
            "names the expected character"
        );
    }

    #[test]
    fn published_resident_ids_parse() {
        let id = ResidentId::parse(RESIDENT_IDS[0]).unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
        assert_eq!(id.birth_date(), (1949, 12, 31));
        let id = ResidentId::parse(RESIDENT_IDS[1]).unwrap();
        assert_eq!(id.birth_date(), (1880, 1, 1));
        for raw in RESIDENT_IDS {
            assert_eq!(
                ResidentId::check_char(&raw[..17]).unwrap(),
                raw.chars().last().unwrap()
            );
        }
    }

    #[test]
    fn any_single_changed_resident_id_character_is_caught() {
        // MOD 11-2 catches every single substitution. A changed birth-date digit may
        // be caught by the date check first, which is also a rejection.
        for raw in RESIDENT_IDS {
            for pos in 0..18 {
                let alphabet = if pos == 17 {
                    "0123456789X"
                } else {
                    "0123456789"
                };
                for c in alphabet.chars() {
                    if raw.chars().nth(pos) == Some(c) {
                        continue;
                    }
                    let changed = with_char(raw, pos, c);
                    match ResidentId::parse(&changed) {
                        Err(IdError::BadCheck { .. }) => {}
                        Err(IdError::BadDate) if (6..14).contains(&pos) => {}
                        other => panic!("{changed}: expected rejection, got {other:?}"),
                    }
                }
            }
            // An X anywhere but the last place is not a digit.
            assert_eq!(
                ResidentId::parse(&with_char(raw, 3, 'X')),
                Err(IdError::BadChar {
                    position: 4,
                    ch: 'X'
                })
            );
        }
        assert_eq!(
            ResidentId::parse("11010519491231002Y"),
            Err(IdError::BadChar {
                position: 18,
                ch: 'Y'
            })
        );
    }

    #[test]
    fn resident_id_length_case_and_dates() {
        assert_eq!(ResidentId::parse(""), Err(IdError::Empty));
        // The old 15-digit numbers are not accepted.
        assert_eq!(
            ResidentId::parse("110105491231002"),
            Err(IdError::Length {
                expected: 18,
                got: 15
            })
        );
        let id = ResidentId::parse("11010519491231002x").unwrap();
        assert_eq!(id.expose(), "11010519491231002X");

        // A number whose check character is right but whose date does not exist.
        let with_check =
            |first17: &str| format!("{first17}{}", ResidentId::check_char(first17).unwrap());
        for (first17, ok) in [
            ("11010519490230002", false), // 30 February
            ("11010519000229002", false), // 1900 was not a leap year
            ("11010520000229002", true),  // 2000 was
            ("11010519491301002", false), // month 13
            ("11010519490100002", false), // day 0
            ("11010519490431002", false), // 31 April
        ] {
            let r = ResidentId::parse(&with_check(first17));
            if ok {
                assert!(r.is_ok(), "{first17}: {r:?}");
            } else {
                assert_eq!(r, Err(IdError::BadDate), "{first17}");
            }
        }
    }

    #[test]
    fn resident_id_never_shows_the_raw_number() {
        let raw = RESIDENT_IDS[0];
        let id = ResidentId::parse(raw).unwrap();
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(mask_id_number(raw), "1101**********002X");
        assert_eq!(mask_id_number("1234"), "****");
        let shown = [
            format!("{id:?}"),
            format!("{id:#?}"),
            format!("{id}"),
            serde_json::to_string(&id).unwrap(),
            serde_json::to_string(&vec![id.clone()]).unwrap(),
        ];
        for s in &shown {
            assert!(!s.contains(raw), "{s}");
            assert!(!s.contains("19491231"), "birth date leaked: {s}");
            assert!(s.contains("1101**********002X"), "{s}");
        }
        assert_eq!(serde_json::to_value(&id).unwrap(), "1101**********002X");
    }
}
