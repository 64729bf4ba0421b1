//! Interface text of the question bank, blueprints, assembly, forms and item analysis pages: (key, Chinese, English).

pub const TEXT: &[(&str, &str, &str)] = &[("bank", "题库", "Question bank")];
