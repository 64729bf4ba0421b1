//! Reading files end to end: templates, exports, CSV encodings, row errors.
//! Expected values are written from the rules (GB 32100 / GB 11643 check characters
//! computed independently), never copied from this crate's output.

use rust_xlsxwriter::Workbook;
use xcert_bulk::*;
use xcert_domain::certificate::CertificateInput;
use xcert_domain::framework::Level;
use xcert_domain::org::{OrgKind, OrganizationInput};
use xcert_domain::person::PersonInput;
use xcert_domain::standard::StandardTree;

/// Valid credit codes and ID numbers (check characters computed by hand).
const TEO_CODE: &str = "91110108MA01ABCD1E";
const COLLEGE_CODE: &str = "12440000455858291P";
const ID_A: &str = "11010519491231002X";
const ID_B: &str = "440304200103151232";
const ID_C: &str = "51010720031109788X";

enum V {
    S(&'static str),
    N(f64),
}
use V::{N, S};

/// A workbook from `(sheet name, rows)`; row 0 is the header.
fn book(sheets: &[(&str, Vec<Vec<V>>)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                match v {
                    S("") => {}
                    S(s) => {
                        ws.write_string(r as u32, c as u16, *s).unwrap();
                    }
                    N(n) => {
                        ws.write_number(r as u32, c as u16, *n).unwrap();
                    }
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn summary(errors: &[RowError]) -> Vec<(Sheet, usize, &str, &str)> {
    errors
        .iter()
        .map(|e| (e.sheet, e.row, e.column.as_str(), e.code.as_str()))
        .collect()
}

#[test]
fn template_reads_back_with_one_clean_row_per_sheet() {
    let set = read_xlsx(&template_xlsx()).unwrap();
    assert!(set.is_clean(), "{:?}", set.errors);
    assert_eq!(set.rows_read, 4);
    assert_eq!(set.organizations.len(), 1);
    assert_eq!(set.certificates.len(), 1);
    assert_eq!(set.standards.len(), 1);
    assert_eq!(set.people.len(), 1);
    let org = &set.organizations[0];
    assert_eq!(org.row, 2);
    assert_eq!(org.org.kind, OrgKind::Teo);
    assert_eq!(org.org.credit_code.as_str(), TEO_CODE);
    let cert = &set.certificates[0];
    assert_eq!(
        cert.teo, TEO_CODE,
        "the example certificate belongs to the example TEO"
    );
    assert_eq!(
        cert.cert.levels,
        vec![Level::Junior, Level::Intermediate, Level::Senior]
    );
    assert_eq!(set.standards[0].certificate_code, cert.cert.code.as_str());
    assert_eq!(set.standards[0].tree.requirement_count(), 1);
    assert_eq!(set.people[0].person.id_number.expose(), ID_A);
    assert_eq!(
        set.people[0].person.student_no.as_deref(),
        Some("2023010101")
    );
    let c = set.counts();
    assert_eq!(
        (c.rows_read, c.rejected_rows, c.errors, c.requirements),
        (4, 0, 0, 1)
    );
}

#[test]
fn csv_templates_read_back_and_name_their_sheet() {
    for sheet in Sheet::ALL {
        let csv = template_csv(sheet);
        assert!(csv.starts_with('\u{feff}'), "{sheet:?} has a BOM");
        assert_eq!(csv.lines().count(), 2);
        let set = read_csv(csv.as_bytes(), None).unwrap();
        assert!(set.is_clean(), "{sheet:?}: {:?}", set.errors);
        assert_eq!(set.rows_read, 1);
        let got = [
            set.organizations.len(),
            set.certificates.len(),
            set.standards.len(),
            set.people.len(),
        ];
        let want: Vec<usize> = Sheet::ALL
            .iter()
            .map(|s| usize::from(*s == sheet))
            .collect();
        assert_eq!(got.to_vec(), want, "{sheet:?}");
    }
}

#[test]
fn export_reads_back_as_the_same_data() {
    let teo = OrganizationInput {
        kind: "teo".into(),
        name_zh: "中电联人才评价中心".into(),
        name_en: "CEC Talent Evaluation Center".into(),
        credit_code: TEO_CODE.into(),
        state: "scale_limited".into(),
        website: "https://example.cn".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let college = OrganizationInput {
        kind: "院校".into(),
        name_zh: "广东示例职业技术学院".into(),
        credit_code: COLLEGE_CODE.into(),
        province: "广东".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let cert = CertificateInput {
        code: "SGCC-RPM".into(),
        name_zh: "继电保护检修".into(),
        levels: "初级;高级".into(),
        status: "published".into(),
        majors: "发电厂及电力系统；供用电技术".into(),
        posts: "继电保护工".into(),
        description: "第一行\n第二行".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let tree = StandardTree::parse_outline(
        "# 变电设备巡视\n## 设备巡视\n- [初级] 能按巡视路线完成设备外观检查\n- [高级] 能发现并记录设备缺陷\n## 红外测温\n- [初级] 能使用红外测温仪\n# 倒闸操作\n## 操作票\n- [高级] 能审核复杂倒闸操作票\n",
    )
    .unwrap();
    let people: Vec<_> = [("张三", ID_A, "13800138000"), ("李四", ID_B, "")]
        .into_iter()
        .map(|(name, id, phone)| {
            PersonInput {
                name: name.into(),
                id_number: id.into(),
                student_no: "2023010101".into(),
                major: "供用电技术".into(),
                phone: phone.into(),
            }
            .parse()
            .unwrap()
        })
        .collect();
    let data = ExportData {
        organizations: vec![
            OrganizationExport::from_new(&teo),
            OrganizationExport::from_new(&college),
        ],
        certificates: vec![CertificateExport::from_new(&cert, TEO_CODE)],
        standards: vec![StandardExport {
            certificate_code: "SGCC-RPM".into(),
            version: 3,
            tree: tree.clone(),
        }],
        people: people
            .iter()
            .map(|p| PersonExport::from_new(p, COLLEGE_CODE, true))
            .collect(),
    };
    let set = read_xlsx(&export_xlsx(&data)).unwrap();
    assert!(set.is_clean(), "{:?}", set.errors);
    let orgs: Vec<_> = set.organizations.iter().map(|o| o.org.clone()).collect();
    assert_eq!(orgs, vec![teo, college]);
    assert_eq!(set.certificates.len(), 1);
    assert_eq!(set.certificates[0].cert, cert);
    assert_eq!(set.certificates[0].teo, TEO_CODE);
    assert_eq!(set.standards.len(), 1);
    assert_eq!(set.standards[0].certificate_code, "SGCC-RPM");
    assert_eq!(set.standards[0].tree, tree);
    assert_eq!(set.standards[0].rows, vec![2, 3, 4, 5]);
    let got: Vec<_> = set.people.iter().map(|p| p.person.clone()).collect();
    assert_eq!(got, people);
    assert!(set.people.iter().all(|p| p.college == COLLEGE_CODE));

    // Masked ID numbers are for reading, not for re-import: every person row says so.
    let masked = ExportData {
        people: people
            .iter()
            .map(|p| PersonExport::from_new(p, COLLEGE_CODE, false))
            .collect(),
        ..Default::default()
    };
    let set = read_xlsx(&export_xlsx(&masked)).unwrap();
    assert!(set.people.is_empty());
    assert_eq!(
        summary(&set.errors)
            .iter()
            .map(|e| (e.1, e.2))
            .collect::<Vec<_>>(),
        vec![(2, "id_number"), (3, "id_number")]
    );
}

#[test]
fn csv_bad_credit_code_names_row_3() {
    // Last character changed from the valid check character 'P' to 'Q'.
    let csv = format!(
        "类型,中文名称,统一社会信用代码,省份\n\
         院校,广东示例职业技术学院,{COLLEGE_CODE},广东省\n\
         院校,另一所学院,12440000455858291Q,广东省\n"
    );
    let set = read_csv(csv.as_bytes(), None).unwrap();
    assert_eq!(
        summary(&set.errors),
        vec![(Sheet::Organizations, 3, "credit_code", "bad_check")]
    );
    assert_eq!(set.organizations.len(), 1);
    assert_eq!(set.organizations[0].row, 2);
    assert_eq!(set.rows_read, 2);
    assert!(!set.is_clean());
    assert_eq!(set.counts().rejected_rows, 1);
}

#[test]
fn gbk_csv_reads_chinese_text() {
    let text =
        format!("姓名,身份证号,院校,专业\r\n王小明,{ID_C},四川示例职业技术学院,电气自动化技术\r\n");
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let set = read_file("人员.csv", &bytes).unwrap();
    assert!(set.is_clean(), "{:?}", set.errors);
    let p = &set.people[0];
    assert_eq!(p.person.name, "王小明");
    assert_eq!(p.college, "四川示例职业技术学院");
    assert_eq!(p.person.major.as_deref(), Some("电气自动化技术"));
    assert_eq!(p.person.id_number.expose(), ID_C);

    // GB18030 beyond GBK (a four-byte character) decodes too.
    let text = format!("姓名,身份证号,院校\n𠀀明,{ID_C},四川示例职业技术学院\n");
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    let set = read_csv(&bytes, Some(Sheet::People)).unwrap();
    assert_eq!(set.people[0].person.name, "𠀀明");
}

#[test]
fn xlsx_missing_column_is_a_file_error() {
    let bytes = book(&[
        ("说明", vec![vec![S("请按模板填写")]]),
        (
            "人员",
            vec![
                vec![S("姓名"), S("身份证号"), S("学号")],
                vec![S("张三"), S(ID_A), S("1")],
            ],
        ),
    ]);
    let err = read_xlsx(&bytes).unwrap_err();
    assert_eq!(
        err,
        FileError::MissingColumns {
            sheet: Sheet::People,
            columns: vec!["college"],
        }
    );
    assert_eq!(err.code(), "missing_column");
    assert!(err.en().contains("college"), "{}", err.en());
    assert!(err.zh().contains("院校"), "{}", err.zh());
}

#[test]
fn xlsx_row_errors_are_exact() {
    let bytes = book(&[
        ("说明 (instructions)", vec![vec![S("ignored")]]),
        (
            "certificates",
            vec![
                vec![S("code"), S("name_zh"), S("teo"), S("levels")],
                vec![
                    S("DEMO-WEB"),
                    S("Web 前端开发"),
                    S(TEO_CODE),
                    S("初级;中级"),
                ],
                // The same code in lower case is the same certificate.
                vec![S("demo-web"), S("重复的证书"), S(TEO_CODE), S("初级")],
            ],
        ),
        (
            "标准",
            vec![
                vec![
                    S("证书代码"),
                    S("等级"),
                    S("工作领域"),
                    S("工作任务"),
                    S("职业技能要求"),
                ],
                vec![
                    S("DEMO-WEB"),
                    S("特级"),
                    S("静态网页"),
                    S("页面"),
                    S("能写 HTML"),
                ],
            ],
        ),
        (
            "人员 (people)",
            vec![
                vec![
                    S("姓名 (name)"),
                    S("身份证号 (id_number)"),
                    S("院校 (college)"),
                    S("学号 (student_no)"),
                ],
                vec![S("张三"), S(ID_A), S(COLLEGE_CODE), N(2023010101.0)],
                // Typed as a number: Excel has already rounded the last digits away.
                vec![S("李四"), N(440304200103151232.0), S(COLLEGE_CODE), S("")],
                vec![S("王五"), S(ID_A), S(COLLEGE_CODE), S("")],
            ],
        ),
    ]);
    let set = read_xlsx(&bytes).unwrap();
    assert_eq!(
        summary(&set.errors),
        vec![
            (Sheet::Certificates, 3, "code", "duplicate"),
            (Sheet::Standards, 2, "level", "bad_level"),
            (Sheet::People, 3, "id_number", "numeric_cell"),
            (Sheet::People, 4, "id_number", "duplicate"),
        ]
    );
    assert!(set.errors[0].en.contains("row 2"), "{}", set.errors[0].en);
    assert!(set.errors[0].zh.contains("第 2 行"), "{}", set.errors[0].zh);
    assert!(set.errors[3].en.contains("row 2"));
    assert_eq!(set.rows_read, 6);
    assert_eq!(set.certificates.len(), 1);
    assert!(set.standards.is_empty());
    assert_eq!(set.people.len(), 1);
    assert_eq!(
        set.people[0].person.student_no.as_deref(),
        Some("2023010101"),
        "a numeric student number keeps its digits and gains no .0"
    );
    assert_eq!(set.counts().rejected_rows, 4);
}

#[test]
fn standards_rows_form_one_tree_per_certificate() {
    let csv = "证书代码,等级,工作领域,工作任务,职业技能要求\n\
               AAA-1,初级,领域甲,任务一,要求 1\n\
               BBB-2,中级,领域乙,任务一,要求 B1\n\
               AAA-1,高级,领域丙,任务三,要求 2\n\
               aaa-1,中级,领域甲,任务二,要求 3\n\
               AAA-1,1,领域甲,任务一,要求 4\n\
               AAA-1,2,领域丙,任务一,要求 5\n\
               \n\
               BBB-2,senior,领域乙,任务一,要求 B2\n";
    let set = read_csv(csv.as_bytes(), None).unwrap();
    assert!(set.is_clean(), "{:?}", set.errors);
    assert_eq!(set.standards.len(), 2);
    let a = &set.standards[0];
    assert_eq!(a.certificate_code, "AAA-1");
    assert_eq!(a.rows, vec![2, 4, 5, 6, 7]);
    let outline = |t: &StandardTree| -> Vec<String> {
        t.areas
            .iter()
            .flat_map(|ar| {
                ar.tasks.iter().flat_map(move |tk| {
                    tk.requirements.iter().map(move |r| {
                        format!(
                            "{} {}/{} {}/{} {} {}",
                            ar.code,
                            tk.code,
                            ar.title,
                            tk.title,
                            r.code,
                            r.level.zh(),
                            r.text
                        )
                    })
                })
            })
            .collect()
    };
    assert_eq!(
        outline(&a.tree),
        vec![
            "1 1.1/领域甲 任务一/1.1.1 初级 要求 1",
            "1 1.1/领域甲 任务一/1.1.2 初级 要求 4",
            "1 1.2/领域甲 任务二/1.2.1 中级 要求 3",
            "2 2.1/领域丙 任务三/2.1.1 高级 要求 2",
            "2 2.2/领域丙 任务一/2.2.1 中级 要求 5",
        ]
    );
    let b = &set.standards[1];
    assert_eq!(b.certificate_code, "BBB-2");
    assert_eq!(b.rows, vec![3, 9], "the blank line is row 8");
    assert_eq!(
        outline(&b.tree),
        vec![
            "1 1.1/领域乙 任务一/1.1.1 中级 要求 B1",
            "1 1.1/领域乙 任务一/1.1.2 高级 要求 B2",
        ]
    );
}

#[test]
fn standards_row_and_tree_errors_land_on_their_rows() {
    let long_area = "领".repeat(201);
    let long_req = "要".repeat(1001);
    let csv = format!(
        "certificate_code,level,work_area,work_task,skill_requirement\n\
         AB,初级,领域,任务,要求\n\
         GOOD-1,,领域,任务,要求\n\
         GOOD-1,初级,,任务,要求\n\
         LONG-1,初级,{long_area},任务,要求 1\n\
         LONG-1,初级,{long_area},任务,{long_req}\n\
         DUP-1,初级,领域,任务,要求\n\
         DUP-1,初级,领域,任务,要求\n\
         OK-1,高级,领域,任务,要求\n"
    );
    let set = read_csv(csv.as_bytes(), Some(Sheet::Standards)).unwrap();
    assert_eq!(
        summary(&set.errors),
        vec![
            (Sheet::Standards, 2, "certificate_code", "bad_code"),
            (Sheet::Standards, 3, "level", "required"),
            (Sheet::Standards, 4, "work_area", "required"),
            (Sheet::Standards, 5, "work_area", "too_long"),
            (Sheet::Standards, 6, "skill_requirement", "too_long"),
            (Sheet::Standards, 8, "skill_requirement", "duplicate"),
        ]
    );
    let codes: Vec<_> = set
        .standards
        .iter()
        .map(|s| s.certificate_code.as_str())
        .collect();
    assert_eq!(codes, vec!["OK-1"], "only error-free standards are kept");
}

#[test]
fn standard_levels_must_be_offered_by_a_certificate_in_the_same_file() {
    let bytes = book(&[
        (
            "证书",
            vec![
                vec![S("证书代码"), S("证书名称"), S("培训评价组织"), S("等级")],
                vec![S("ONLY-JR"), S("只有初级"), S("某评价组织"), S("初级")],
            ],
        ),
        (
            "标准",
            vec![
                vec![
                    S("证书代码"),
                    S("等级"),
                    S("工作领域"),
                    S("工作任务"),
                    S("职业技能要求"),
                ],
                vec![S("ONLY-JR"), S("初级"), S("甲"), S("一"), S("要求 1")],
                vec![S("ONLY-JR"), S("高级"), S("甲"), S("一"), S("要求 2")],
            ],
        ),
    ]);
    let set = read_xlsx(&bytes).unwrap();
    assert_eq!(
        summary(&set.errors),
        vec![(Sheet::Standards, 3, "level", "level_not_offered")]
    );
    assert_eq!(set.certificates[0].teo, "某评价组织", "a TEO may be named");
    assert!(set.standards.is_empty());
}

#[test]
fn merged_work_area_cells_apply_to_every_row() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("standards").unwrap();
    let header = [
        "certificate_code",
        "level",
        "work_area",
        "work_task",
        "skill_requirement",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (task, req)) in [
        ("任务一", "要求 1"),
        ("任务二", "要求 2"),
        ("任务二", "要求 3"),
    ]
    .iter()
    .enumerate()
    {
        let r = r as u32 + 1;
        ws.write_string(r, 0, "MRG-1").unwrap();
        ws.write_string(r, 1, "中级").unwrap();
        ws.write_string(r, 3, *task).unwrap();
        ws.write_string(r, 4, *req).unwrap();
    }
    let fmt = rust_xlsxwriter::Format::new();
    ws.merge_range(1, 2, 3, 2, "合并的领域", &fmt).unwrap();
    let set = read_xlsx(&wb.save_to_buffer().unwrap()).unwrap();
    assert!(set.is_clean(), "{:?}", set.errors);
    let tree = &set.standards[0].tree;
    assert_eq!(tree.areas.len(), 1);
    assert_eq!(tree.areas[0].title, "合并的领域");
    let tasks: Vec<_> = tree.areas[0]
        .tasks
        .iter()
        .map(|t| (t.title.as_str(), t.requirements.len()))
        .collect();
    assert_eq!(tasks, vec![("任务一", 1), ("任务二", 2)]);
}

#[test]
fn header_aliases_all_work() {
    let headers = [
        ["kind", "name_zh", "credit_code"],
        ["类型", "中文名称", "统一社会信用代码"],
        [
            "类型 (kind)",
            "中文名称 (name_zh)",
            "统一社会信用代码 (credit_code)",
        ],
        [
            "类型（kind）",
            "中文名称（name_zh）",
            "统一社会信用代码（credit_code）",
        ],
        [
            " *KIND ",
            "\u{3000}Name_ZH\u{3000}",
            "*统一社会信用代码 (credit_code)",
        ],
    ];
    for h in headers {
        // Columns in a different order than the template, plus an unknown column.
        let csv = format!(
            "备注,{},{},{}\n随便写,{TEO_CODE},培训评价组织,示例评价组织\n",
            h[2], h[0], h[1]
        );
        let set = read_csv(csv.as_bytes(), None).unwrap();
        assert!(set.is_clean(), "{h:?}: {:?}", set.errors);
        assert_eq!(set.organizations.len(), 1, "{h:?}");
        let org = &set.organizations[0].org;
        assert_eq!(org.name_zh, "示例评价组织");
        assert_eq!(org.credit_code.as_str(), TEO_CODE);
    }
}

#[test]
fn cells_are_trimmed_including_full_width_spaces() {
    let csv = format!(
        "\u{feff}姓名,身份证号,院校,手机号\n\u{3000}张三 , {ID_A}\u{3000},\u{a0}某学院 ,\t13800138000\n"
    );
    let set = read_csv(csv.as_bytes(), None).unwrap();
    assert!(set.is_clean(), "{:?}", set.errors);
    let p = &set.people[0];
    assert_eq!(p.person.name, "张三");
    assert_eq!(p.college, "某学院");
    assert_eq!(p.person.phone.as_deref(), Some("13800138000"));
}

#[test]
fn scientific_id_numbers_in_csv_ask_for_text_format() {
    let csv = "姓名,身份证号,院校\n张三,1.10105E+17,某学院\n";
    let set = read_csv(csv.as_bytes(), None).unwrap();
    assert_eq!(
        summary(&set.errors),
        vec![(Sheet::People, 2, "id_number", "numeric_cell")]
    );
    assert!(set.errors[0].zh.contains("文本"));
}

#[test]
fn references_that_look_like_credit_codes_are_checked() {
    let csv = format!(
        "code,name_zh,teo,levels\n\
         AAA-1,一,{},初级\n\
         AAA-2,二,{},初级\n\
         AAA-3,三,,初级\n",
        TEO_CODE.to_lowercase(),
        "91110108MA01ABCD1F"
    );
    let set = read_csv(csv.as_bytes(), None).unwrap();
    assert_eq!(
        summary(&set.errors),
        vec![
            (Sheet::Certificates, 3, "teo", "bad_check"),
            (Sheet::Certificates, 4, "teo", "required"),
        ]
    );
    assert_eq!(
        set.certificates[0].teo, TEO_CODE,
        "normalized to upper case"
    );
}

#[test]
fn every_error_of_a_row_is_reported_in_column_order() {
    let csv = "类型,中文名称,统一社会信用代码,省份,状态\n院校,,123,东京,\n";
    let set = read_csv(csv.as_bytes(), None).unwrap();
    assert_eq!(
        summary(&set.errors),
        vec![
            (Sheet::Organizations, 2, "name_zh", "required"),
            (Sheet::Organizations, 2, "credit_code", "bad_length"),
            (Sheet::Organizations, 2, "province", "bad_province"),
        ]
    );
}

#[test]
fn whole_file_problems() {
    assert!(matches!(read_file("a.csv", b""), Err(FileError::Empty)));
    assert!(matches!(
        read_file("a.csv", b" \r\n "),
        Err(FileError::Empty)
    ));
    assert!(matches!(
        read_file("report.pdf", b"%PDF-1.4"),
        Err(FileError::NotSpreadsheet { .. })
    ));
    assert!(matches!(
        read_file(
            "old.xls",
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0]
        ),
        Err(FileError::LegacyXls)
    ));
    assert!(matches!(
        read_file("x.csv", "姓名,身份证号,院校\n".as_bytes()),
        Err(FileError::NoRows)
    ));
    assert!(matches!(
        read_file("x.csv", "foo,bar\n1,2\n".as_bytes()),
        Err(FileError::UnknownCsvSheet)
    ));
    assert!(matches!(
        read_xlsx(&book(&[("Sheet1", vec![vec![S("kind")]])])),
        Err(FileError::NoSheet { found }) if found == vec!["Sheet1".to_string()]
    ));
    assert!(matches!(
        read_xlsx(b"PK\x03\x04 not really a zip"),
        Err(FileError::BadWorkbook { .. })
    ));
    assert!(matches!(
        read_xlsx(&book(&[
            ("机构", vec![vec![S("kind")]]),
            ("organizations", vec![vec![S("kind")]]),
        ])),
        Err(FileError::DuplicateSheet {
            sheet: Sheet::Organizations
        })
    ));
    assert!(matches!(
        read_csv("姓名,name,身份证号,院校\n".as_bytes(), None),
        Err(FileError::DuplicateColumn {
            sheet: Sheet::People,
            column: "name"
        })
    ));
    // The blank template has headers only.
    assert!(matches!(
        read_xlsx(&export_xlsx(&ExportData::default())),
        Err(FileError::NoRows)
    ));
}

#[test]
fn read_file_trusts_content_over_name() {
    let set = read_file("导出.csv", &template_xlsx()).unwrap();
    assert_eq!(set.rows_read, 4);
    let set = read_file("", template_csv(Sheet::Certificates).as_bytes()).unwrap();
    assert_eq!(set.certificates.len(), 1);
    let set = read_file("X.XLSX", &template_xlsx()).unwrap();
    assert!(set.is_clean());
}

#[test]
fn title_rows_above_the_header_are_skipped() {
    let bytes = book(&[(
        "people",
        vec![
            vec![S("2024 级学生名单")],
            vec![S("name"), S("id_number"), S("college")],
            vec![S("张三"), S(ID_A), S("某学院")],
            vec![S("李四"), S("11010519491231002"), S("某学院")],
        ],
    )]);
    let set = read_xlsx(&bytes).unwrap();
    assert_eq!(set.people[0].row, 3);
    assert_eq!(
        summary(&set.errors),
        vec![(Sheet::People, 4, "id_number", "bad_length")]
    );
}

#[test]
fn errors_serialize_for_the_preview() {
    let csv = "姓名,身份证号,院校\n,11010519491231002X,某学院\n";
    let set = read_csv(csv.as_bytes(), None).unwrap();
    let json = serde_json::to_value(&set.errors[0]).unwrap();
    assert_eq!(json["sheet"], "people");
    assert_eq!(json["row"], 2);
    assert_eq!(json["column"], "name");
    assert_eq!(json["code"], "required");
}

#[test]
fn excel_unicode_text_files_are_read() {
    // Excel's "Unicode Text (*.txt)": UTF-16LE with a BOM, tab-separated.
    let text = format!("姓名\t身份证号\t院校\r\n赵六\t{ID_B}\t某学院\r\n");
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    let set = read_file("名单.txt", &bytes).unwrap();
    assert!(set.is_clean(), "{:?}", set.errors);
    assert_eq!(set.people[0].person.name, "赵六");
    assert_eq!(set.people[0].person.id_number.expose(), ID_B);
}
