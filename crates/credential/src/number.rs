//! Certificate numbers (证书编号): year, level, sequence and an ISO 7064 MOD 11-2 check character.

use std::fmt;

/// Length of a certificate number: 4-digit year + level digit + 9-digit sequence + check char.
pub const LENGTH: usize = 15;
const MAX_SEQUENCE: u64 = 999_999_999;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("a certificate number has {LENGTH} characters, this one has {found}")]
    Length { found: usize },
    #[error("character {position} of the certificate number must be a digit, found '{found}'")]
    NotDigit { position: usize, found: char },
    #[error("the level (character 5) must be 1 to 5, found {found}")]
    Level { found: u32 },
    #[error("the year must have 4 digits (1000..=9999), got {found}")]
    Year { found: i32 },
    #[error("the sequence must be at most {MAX_SEQUENCE}, got {found}")]
    Sequence { found: u64 },
    #[error(
        "wrong check character (position 15): expected '{expected}', found '{found}' — a digit may be mistyped"
    )]
    Check { expected: char, found: char },
}

/// A validated certificate number, e.g. `2026300000012X`-style: `YYYY L SSSSSSSSS C`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertificateNumber(String);

impl CertificateNumber {
    pub fn new(year: i32, level: u8, sequence: u64) -> Result<Self, NumberError> {
        if !(1000..=9999).contains(&year) {
            return Err(NumberError::Year { found: year });
        }
        if !(1..=5).contains(&level) {
            return Err(NumberError::Level {
                found: level.into(),
            });
        }
        if sequence > MAX_SEQUENCE {
            return Err(NumberError::Sequence { found: sequence });
        }
        let body = format!("{year:04}{level}{sequence:09}");
        let check = mod11_2_check(&body);
        Ok(Self(format!("{body}{check}")))
    }

    /// Trims, accepts a lower-case `x`, and names the first problem found.
    pub fn parse(s: &str) -> Result<Self, NumberError> {
        let s = s.trim().to_uppercase();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != LENGTH {
            return Err(NumberError::Length { found: chars.len() });
        }
        for (i, c) in chars[..LENGTH - 1].iter().enumerate() {
            if !c.is_ascii_digit() {
                return Err(NumberError::NotDigit {
                    position: i + 1,
                    found: *c,
                });
            }
        }
        let last = chars[LENGTH - 1];
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(NumberError::NotDigit {
                position: LENGTH,
                found: last,
            });
        }
        let level = chars[4].to_digit(10).expect("digit");
        if !(1..=5).contains(&level) {
            return Err(NumberError::Level { found: level });
        }
        let expected = mod11_2_check(&s[..LENGTH - 1]);
        if expected != last {
            return Err(NumberError::Check {
                expected,
                found: last,
            });
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn year(&self) -> i32 {
        self.0[..4].parse().expect("validated")
    }

    pub fn level(&self) -> u8 {
        self.0[4..5].parse().expect("validated")
    }

    pub fn sequence(&self) -> u64 {
        self.0[5..14].parse().expect("validated")
    }
}

impl fmt::Display for CertificateNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for CertificateNumber {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// ISO 7064 MOD 11-2 check character (as in GB 11643 citizen ID numbers) over ASCII digits.
/// Non-digits are ignored by weight; callers validate first.
pub fn mod11_2_check(digits: &str) -> char {
    // Weight of the digit at distance k from the check position is 2^k mod 11.
    let mut sum = 0u32;
    let mut weight = 2u32;
    for d in digits.bytes().rev() {
        sum += u32::from(d.wrapping_sub(b'0')) % 10 * weight;
        weight = weight * 2 % 11;
    }
    match (12 - sum % 11) % 11 {
        10 => 'X',
        n => char::from_digit(n, 10).expect("0..=9"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb11643_golden() {
        // The example ID number printed in GB 11643-1999.
        assert_eq!(mod11_2_check("11010519491231002"), 'X');
        // Another commonly quoted GB 11643 example ID, 440524188001010014.
        assert_eq!(mod11_2_check("44052418800101001"), '4');
    }

    #[test]
    fn new_and_parse() {
        let n = CertificateNumber::new(2026, 3, 12).unwrap();
        assert_eq!(n.as_str().len(), LENGTH);
        assert!(n.as_str().starts_with("20263000000012"));
        assert_eq!(
            CertificateNumber::parse(&format!("  {} ", n.as_str().to_lowercase())).unwrap(),
            n
        );
        assert_eq!((n.year(), n.level(), n.sequence()), (2026, 3, 12));
        assert_eq!(n.to_string().parse::<CertificateNumber>().unwrap(), n);
    }

    #[test]
    fn errors_name_the_problem() {
        let n = CertificateNumber::new(2026, 3, 12).unwrap().to_string();
        let good = n.chars().last().unwrap();
        let wrong = if good == '0' { '1' } else { '0' };
        let bad = format!("{}{}", &n[..14], wrong);
        let e = CertificateNumber::parse(&bad).unwrap_err();
        assert_eq!(
            e,
            NumberError::Check {
                expected: good,
                found: wrong
            }
        );
        assert!(e.to_string().contains(&format!("expected '{good}'")));
        assert_eq!(
            CertificateNumber::parse("2026A0000000120").unwrap_err(),
            NumberError::NotDigit {
                position: 5,
                found: 'A'
            }
        );
        assert_eq!(
            CertificateNumber::parse("123").unwrap_err(),
            NumberError::Length { found: 3 }
        );
        assert!(matches!(
            CertificateNumber::parse("202660000000120"),
            Err(NumberError::Level { found: 6 })
        ));
        assert!(CertificateNumber::new(2026, 0, 1).is_err());
        assert!(CertificateNumber::new(2026, 1, 1_000_000_000).is_err());
    }
}
