//! Interface text of the exam sessions, the candidate's exam page, examiners' scoring and results pages: (key, Chinese, English).

pub const TEXT: &[(&str, &str, &str)] = &[
    ("exams", "考核", "Exams"),
    ("my_exams", "我的考试", "My exams"),
];
