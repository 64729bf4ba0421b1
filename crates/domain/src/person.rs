//! People in the registry: students and candidates (学生/考生) of a pilot college.

use crate::FieldError;
use crate::error::{optional_text, required_text};
use crate::ids::ResidentId;
use serde::{Deserialize, Serialize};

/// A validated person. The identity number is kept as a [`ResidentId`], which only
/// ever displays or serializes masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewPerson {
    pub name: String,
    pub id_number: ResidentId,
    pub student_no: Option<String>,
    pub major: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PersonInput {
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub student_no: String,
    #[serde(default)]
    pub major: String,
    #[serde(default)]
    pub phone: String,
}

impl PersonInput {
    pub fn parse(&self) -> Result<NewPerson, Vec<FieldError>> {
        let mut errs = Vec::new();
        let name = required_text("name", &self.name, 50)
            .map_err(|e| errs.push(e))
            .ok();
        let id_number = ResidentId::parse(&self.id_number)
            .map_err(|e| errs.push(e.field("id_number")))
            .ok();
        let student_no = optional_text("student_no", &self.student_no, 40)
            .map_err(|e| errs.push(e))
            .ok();
        let major = optional_text("major", &self.major, 100)
            .map_err(|e| errs.push(e))
            .ok();
        let phone = match optional_text("phone", &self.phone, 20) {
            Ok(Some(p))
                if !p
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '+') =>
            {
                errs.push(FieldError::new(
                    "phone",
                    "bad_phone",
                    "may contain only digits, '+' and '-'",
                    "只能包含数字、“+”和“-”",
                ));
                None
            }
            Ok(p) => Some(p),
            Err(e) => {
                errs.push(e);
                None
            }
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(NewPerson {
            name: name.unwrap(),
            id_number: id_number.unwrap(),
            student_no: student_no.unwrap(),
            major: major.unwrap(),
            phone: phone.unwrap(),
        })
    }
}
