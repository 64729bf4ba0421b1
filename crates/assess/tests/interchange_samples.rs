//! Sample items of every kind for the interchange tests (shared with `#[path]`), with
//! Chinese text and an image. Built by hand from the item model, not by any exporter.
#![allow(dead_code)]

use xcert_assess::interchange::MediaFile;
use xcert_assess::item::{
    Blank, Choice, Criterion, Descriptor, Interaction, Item, ItemContent, ItemKind, ItemMeta,
    MediaRef, ObservationScale, Scoring,
};
use xcert_assess::markup::{from_plain, sanitize};
use xcert_domain::framework::Level;

/// A 1×1 PNG (made with Python's zlib and struct from the PNG specification's chunk
/// layout).
pub const PNG: [u8; 69] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0,
    0, 0, 144, 119, 83, 222, 0, 0, 0, 12, 73, 68, 65, 84, 120, 156, 99, 248, 207, 192, 0, 0, 3, 1,
    1, 0, 201, 254, 146, 239, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

pub const IMAGE: &str = "images/电路图.png";

pub fn media() -> Vec<MediaFile> {
    vec![MediaFile {
        path: IMAGE.into(),
        mime: "image/png".into(),
        bytes: PNG.to_vec(),
    }]
}

fn meta(ident: &str, full: bool) -> ItemMeta {
    if !full {
        return ItemMeta {
            ident: ident.into(),
            ..Default::default()
        };
    }
    ItemMeta {
        ident: ident.into(),
        requirements: vec!["1.2.3".into(), "2.1.1".into()],
        level: Some(Level::Intermediate),
        difficulty: Some(2.5),
        enemy_group: Some("继保-互斥-1".into()),
        testlet: Some("案例一".into()),
        author: Some("张三".into()),
        time_seconds: Some(90),
    }
}

fn choices(texts: &[&str]) -> Vec<Choice> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Choice::new(((b'A' + i as u8) as char).to_string(), from_plain(t)))
        .collect()
}

fn content(kind: ItemKind, stem: &str, interaction: Interaction, points: f64) -> ItemContent {
    ItemContent {
        kind,
        stem: stem.to_string(),
        interaction,
        points,
        scoring: Scoring::AllOrNothing,
        explanation: None,
        media: vec![],
    }
}

/// One item of each kind (two orderings, two text entries), all metadata on most.
pub fn items() -> Vec<Item> {
    let mut out = Vec::new();

    let mut c = content(
        ItemKind::SingleChoice,
        &sanitize(&format!(
            "<p>如图所示电路，<img src=\"{IMAGE}\" alt=\"电路图\">电流表 A 的读数约为多少？</p>"
        )),
        Interaction::Choice {
            choices: {
                let mut c = choices(&["0.5 A", "1 A", "2 A", "以上都不对"]);
                c[3].fixed = true;
                c
            },
            correct: vec!["B".into()],
            shuffle: true,
        },
        2.0,
    );
    c.explanation = Some(from_plain("由欧姆定律 I = U / R = 220 V / 220 Ω = 1 A。"));
    c.media = vec![MediaRef {
        path: IMAGE.into(),
        mime: "image/png".into(),
        object: None,
    }];
    out.push(Item {
        meta: meta("DG-0001", true),
        content: c,
    });

    let mut c = content(
        ItemKind::MultipleChoice,
        &from_plain("继电保护装置的基本要求包括哪些？"),
        Interaction::Choice {
            choices: choices(&["选择性", "速动性", "经济性", "灵敏性", "可靠性"]),
            correct: vec!["A".into(), "B".into(), "D".into(), "E".into()],
            shuffle: true,
        },
        4.0,
    );
    c.scoring = Scoring::Partial;
    out.push(Item {
        meta: meta("DG-0002", true),
        content: c,
    });

    out.push(Item {
        meta: meta("DG-0003", false),
        content: content(
            ItemKind::TrueFalse,
            &from_plain("停电检修时，应先验电后挂接地线。"),
            Interaction::Choice {
                choices: vec![Choice::new("T", "正确"), Choice::new("F", "错误")],
                correct: vec!["T".into()],
                shuffle: false,
            },
            1.0,
        ),
    });

    let mut c = content(
        ItemKind::TextEntry,
        &from_plain("电流的单位是____，电压的单位是______。"),
        Interaction::TextEntry {
            blanks: vec![
                Blank {
                    id: "1".into(),
                    accepted: vec!["安培".into(), "A".into()],
                    case_sensitive: false,
                },
                Blank {
                    id: "2".into(),
                    accepted: vec!["伏特".into(), "V".into()],
                    case_sensitive: false,
                },
            ],
        },
        2.0,
    );
    c.scoring = Scoring::Partial;
    out.push(Item {
        meta: meta("DG-0004", true),
        content: c,
    });

    out.push(Item {
        meta: meta("DG-0005", false),
        content: content(
            ItemKind::TextEntry,
            &sanitize("<p>写出交流电有效值的英文缩写（大写）。</p>"),
            Interaction::TextEntry {
                blanks: vec![Blank {
                    id: "b1".into(),
                    accepted: vec!["RMS".into()],
                    case_sensitive: true,
                }],
            },
            1.0,
        ),
    });

    let mut c = content(
        ItemKind::Matching,
        &from_plain("将下列电气设备与其主要作用连线。"),
        Interaction::Match {
            sources: vec![
                Choice::new("1", "断路器"),
                Choice::new("2", "隔离开关"),
                Choice::new("3", "电流互感器"),
            ],
            targets: choices(&[
                "开断负荷电流和短路电流",
                "形成明显断开点",
                "测量与保护取流",
                "无功补偿",
            ]),
            correct: vec![
                ("1".into(), "A".into()),
                ("2".into(), "B".into()),
                ("3".into(), "C".into()),
            ],
            shuffle: true,
        },
        3.0,
    );
    c.scoring = Scoring::Partial;
    out.push(Item {
        meta: meta("DG-0006", true),
        content: c,
    });

    out.push(Item {
        meta: meta("DG-0007", false),
        content: content(
            ItemKind::Ordering,
            &from_plain("将倒闸操作的步骤按正确顺序排列。"),
            Interaction::Order {
                choices: choices(&["拉开断路器", "拉开负荷侧隔离开关", "拉开电源侧隔离开关"]),
                correct: vec!["A".into(), "B".into(), "C".into()],
                shuffle: true,
            },
            1.0,
        ),
    });

    let mut c = content(
        ItemKind::Ordering,
        &from_plain("将安全措施按实施顺序排列。"),
        Interaction::Order {
            choices: choices(&["停电", "验电", "装设接地线", "悬挂标示牌"]),
            correct: vec!["A".into(), "B".into(), "C".into(), "D".into()],
            shuffle: true,
        },
        4.0,
    );
    c.scoring = Scoring::Partial;
    out.push(Item {
        meta: meta("DG-0008", true),
        content: c,
    });

    let mut c = content(
        ItemKind::ExtendedText,
        &from_plain("简述变压器并列运行的条件。"),
        Interaction::ExtendedText {
            expected_length: Some(300),
            guide: Some(sanitize(
                "<ol><li>联结组别相同（3 分）</li><li>电压比相等（3 分）</li><li>短路阻抗相近（4 分）</li></ol>",
            )),
        },
        10.0,
    );
    c.explanation = Some(from_plain("参见《电力变压器运行规程》。"));
    out.push(Item {
        meta: meta("DG-0009", true),
        content: c,
    });

    out.push(Item {
        meta: meta("DG-0010", true),
        content: content(
            ItemKind::PracticalTask,
            &from_plain("完成单相电能表的接线并通电检查。"),
            Interaction::Practical {
                scale: ObservationScale {
                    criteria: vec![
                        Criterion {
                            id: "safety".into(),
                            text: "安全防护：佩戴绝缘手套 | 验电".into(),
                            points: 10.0,
                            descriptors: vec![
                                Descriptor {
                                    points: 10.0,
                                    text: "全程规范".into(),
                                },
                                Descriptor {
                                    points: 0.0,
                                    text: "未佩戴；未验电".into(),
                                },
                            ],
                            critical: true,
                        },
                        Criterion {
                            id: "2".into(),
                            text: "接线正确".into(),
                            points: 30.0,
                            descriptors: vec![],
                            critical: false,
                        },
                    ],
                },
            },
            40.0,
        ),
    });
    out
}
