//! The demo's declaration and review data (申报与评审演示数据):
//!
//! - the expert pool: the `expert` account and ten more expert accounts, each with an
//!   organization, a province and fields, so a draw has conflicts to avoid;
//! - a finished fourth batch shaped as the ministry reported it (984 proposals from 602
//!   organizations, 355 certificates of 270 organizations shortlisted, 36 %), State Grid's
//!   eleven among them (nine shortlisted, with their experts' rubric scores), the other
//!   applicants generated from a fixed seed;
//! - an open fifth batch in which State Grid, led by 国网技术学院, prepares two proposals
//!   with a task breakdown across its units, and 北京翰云数智科技有限公司 one more.
//!
//! The finished batch is history: it goes in through the store's bulk history import with
//! its 2020 dates and one audit entry. The open batch goes through the ordinary store
//! calls, acting as the account whose job each step is.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;
use xcert_declare::diff::Snapshot;
use xcert_declare::review::{self, Applicant, ConflictRule, PoolExpert};
use xcert_declare::stats::batch_stats;
use xcert_declare::tasks::TaskState;
use xcert_declare::{BatchInput, BatchSettings, BatchState, ProposalState, Rubric};
use xcert_domain::annex::Annex;
use xcert_domain::ids::CreditCode;
use xcert_domain::org::{NewOrganization, OrgKind, PROVINCES, Province, TeoState};
use xcert_store::declarations_history::{
    HistoryApplication, HistoryAssignment, HistoryBatch, HistoryObjection, HistoryProposal,
    HistoryVerification,
};
use xcert_store::{NewExpert, NewTask, NewUser, ProposalContentRow, Store};

const SGCC: &str = "91110000954255506N";
const HANYUN: &str = "91110108MA3NM9WK5B";
const HUACHI: &str = "91420100MA106A076M";
const COLLEGE: &str = "国网技术学院";
const ENERGY: &str = "能源动力与材料";

/// The fourth batch as published (seed 002 §6).
const APPLICANTS: usize = 602;
const PROPOSALS: usize = 984;
const SHORTLISTED: usize = 355;
const SHORTLISTED_UNITS: usize = 270;

/// State Grid's two certificates the fourth batch did not shortlist; it proposes them again
/// in the fifth.
const NOT_SHORTLISTED: [&str; 2] = ["SGCC-PTI", "SGCC-DOMS"];

/// The other demo TEOs in the fourth batch: credit code, lead unit, contact, phone, the
/// account that filed it, and their certificates with the field each was proposed in. All
/// shortlisted: the registry lists them as published.
type DemoTeo = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);
const OTHER_DEMO_TEOS: &[DemoTeo] = &[
    (
        HANYUN,
        "北京翰云数智科技有限公司",
        "高雅婷",
        "13910862257",
        "hanyun",
        &[("HY-WEBFE", "电子与信息"), ("HY-CLOUD", "电子与信息")],
    ),
    (
        HUACHI,
        "华驰汽车技术服务有限公司",
        "黄志鹏",
        "13707158824",
        "demo-loader",
        &[("HC-AMR", "交通运输"), ("HC-NEV", "装备制造")],
    ),
];

/// The expert pool: username, name, organization, province, fields. `expert` exists
/// already; the others are created. 李建华 works for State Grid and 孙伟 is in Beijing, so
/// a draw for State Grid must pass them over.
const EXPERTS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "expert",
        "评审专家",
        "武汉电力职业技术学院",
        "湖北省",
        &[ENERGY, "装备制造"],
    ),
    (
        "expert02",
        "张立新",
        "山东电力高等专科学校",
        "山东省",
        &[ENERGY],
    ),
    (
        "expert03",
        "王海燕",
        "郑州电力高等专科学校",
        "河南省",
        &[ENERGY, "装备制造"],
    ),
    (
        "expert04",
        "李建华",
        "国家电网有限公司",
        "北京市",
        &[ENERGY],
    ),
    (
        "expert05",
        "陈思远",
        "南京信息职业技术学院",
        "江苏省",
        &["电子与信息"],
    ),
    (
        "expert06",
        "刘晓梅",
        "浙江经济职业技术学院",
        "浙江省",
        &["财经商贸", "电子与信息"],
    ),
    (
        "expert07",
        "周国强",
        "四川电力职业技术学院",
        "四川省",
        &[ENERGY],
    ),
    (
        "expert08",
        "赵敏",
        "浙江电力职业技术学院",
        "浙江省",
        &[ENERGY, "电子与信息"],
    ),
    (
        "expert09",
        "孙伟",
        "中国电力企业联合会",
        "北京市",
        &[ENERGY],
    ),
    (
        "expert10",
        "吴婧",
        "湖北交通职业技术学院",
        "湖北省",
        &["交通运输", "装备制造"],
    ),
    (
        "expert11",
        "郑浩然",
        "广东水利电力职业技术学院",
        "广东省",
        &[ENERGY, "水利"],
    ),
];

/// The 19 higher-vocational major categories (专业大类) as proposal fields, one row each:
/// the field, its share of the generated proposals, words for an organization's line of
/// business and certificate names (lists separated by `;`).
const FIELDS_CSV: &str = include_str!("../../demo/declaration_fields.csv");

struct Field {
    name: String,
    share: f64,
    business: Vec<String>,
    certificates: Vec<String>,
}

fn fields() -> Result<Vec<Field>> {
    let mut rdr = csv::Reader::from_reader(FIELDS_CSV.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("declaration_fields.csv row {}", i + 2))?;
        let list = |c: usize| -> Vec<String> {
            rec.get(c)
                .unwrap_or("")
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let field = Field {
            name: rec.get(0).unwrap_or("").trim().to_string(),
            share: rec
                .get(1)
                .unwrap_or("")
                .trim()
                .parse()
                .with_context(|| format!("declaration_fields.csv row {}: share", i + 2))?,
            business: list(2),
            certificates: list(3),
        };
        // A generated organization proposes up to eight certificates in one field.
        if field.business.is_empty() || field.certificates.len() < 8 {
            bail!(
                "declaration_fields.csv row {}: {} needs business words and 8 or more certificates",
                i + 2,
                field.name
            );
        }
        out.push(field);
    }
    Ok(out)
}

/// The 31 provinces (PROVINCES without the Production and Construction Corps): division
/// code, short name, a few cities with their division codes, and the province's share of
/// the generated applicants (national organizations cluster in Beijing and on the coast).
type Place = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    f64,
);
const PLACES: [Place; 31] = [
    ("11", "北京", &[("北京", "1101")], 25.0),
    ("12", "天津", &[("天津", "1201")], 2.0),
    (
        "13",
        "河北",
        &[("石家庄", "1301"), ("唐山", "1302"), ("保定", "1306")],
        1.5,
    ),
    ("14", "山西", &[("太原", "1401"), ("大同", "1402")], 1.0),
    (
        "15",
        "内蒙古",
        &[("呼和浩特", "1501"), ("包头", "1502")],
        0.6,
    ),
    ("21", "辽宁", &[("沈阳", "2101"), ("大连", "2102")], 1.5),
    ("22", "吉林", &[("长春", "2201"), ("吉林", "2202")], 1.0),
    ("23", "黑龙江", &[("哈尔滨", "2301"), ("大庆", "2306")], 1.0),
    ("31", "上海", &[("上海", "3101")], 7.0),
    (
        "32",
        "江苏",
        &[
            ("南京", "3201"),
            ("无锡", "3202"),
            ("常州", "3204"),
            ("苏州", "3205"),
        ],
        7.0,
    ),
    (
        "33",
        "浙江",
        &[("杭州", "3301"), ("宁波", "3302"), ("温州", "3303")],
        6.0,
    ),
    ("34", "安徽", &[("合肥", "3401"), ("芜湖", "3402")], 2.0),
    (
        "35",
        "福建",
        &[("福州", "3501"), ("厦门", "3502"), ("泉州", "3505")],
        2.5,
    ),
    ("36", "江西", &[("南昌", "3601"), ("赣州", "3607")], 1.0),
    (
        "37",
        "山东",
        &[
            ("济南", "3701"),
            ("青岛", "3702"),
            ("烟台", "3706"),
            ("潍坊", "3707"),
        ],
        5.0,
    ),
    ("41", "河南", &[("郑州", "4101"), ("洛阳", "4103")], 3.0),
    (
        "42",
        "湖北",
        &[("武汉", "4201"), ("宜昌", "4205"), ("襄阳", "4206")],
        3.0,
    ),
    ("43", "湖南", &[("长沙", "4301"), ("株洲", "4302")], 2.0),
    (
        "44",
        "广东",
        &[
            ("广州", "4401"),
            ("深圳", "4403"),
            ("珠海", "4404"),
            ("佛山", "4406"),
            ("东莞", "4419"),
        ],
        9.0,
    ),
    ("45", "广西", &[("南宁", "4501"), ("柳州", "4502")], 1.0),
    ("46", "海南", &[("海口", "4601"), ("三亚", "4602")], 0.5),
    ("50", "重庆", &[("重庆", "5001")], 2.0),
    ("51", "四川", &[("成都", "5101"), ("绵阳", "5107")], 3.0),
    ("52", "贵州", &[("贵阳", "5201"), ("遵义", "5203")], 1.0),
    ("53", "云南", &[("昆明", "5301"), ("曲靖", "5303")], 1.0),
    ("54", "西藏", &[("拉萨", "5401")], 0.3),
    ("61", "陕西", &[("西安", "6101"), ("宝鸡", "6103")], 2.0),
    ("62", "甘肃", &[("兰州", "6201"), ("天水", "6205")], 0.6),
    ("63", "青海", &[("西宁", "6301")], 0.3),
    ("64", "宁夏", &[("银川", "6401")], 0.4),
    (
        "65",
        "新疆",
        &[("乌鲁木齐", "6501"), ("克拉玛依", "6502")],
        0.6,
    ),
];

/// Trade names (字号) for generated organizations.
const BRANDS: &[&str] = &[
    "博远", "华信", "中联", "新道", "瑞达", "卓越", "凯瑞", "易通", "天工", "鸿图", "汇智", "启明",
    "联创", "正方", "智谷", "鼎泰", "恒信", "精工", "海纳", "远景", "慧科", "英才", "东方", "蓝海",
    "星辰", "九州", "中锐", "安泰", "德明", "弘毅", "明德", "知行", "睿思", "云帆", "澜图", "鼎新",
    "聚能", "泰和", "宏达", "同创", "众智", "华远", "信诺", "捷通", "优路", "锦程", "鹏程", "万象",
    "天衡", "致远", "博雅", "思创", "恒泰", "新锐", "科瑞", "润泽", "青禾", "丰泽", "山河", "长风",
    "北辰", "嘉禾", "金石", "朗睿", "立信",
];

const SUFFIXES: &[(&str, f64)] = &[
    ("有限公司", 6.0),
    ("股份有限公司", 1.5),
    ("集团有限公司", 1.0),
    ("研究院有限公司", 0.5),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "梁", "郑", "谢", "宋", "唐", "韩", "冯", "于", "董", "曹",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "文", "华", "建", "国", "红", "玉", "春", "海",
];

/// Why the five proposals put on the list and then refused in deliberation were refused:
/// the organization's verification (credit, tax) and the finding.
const VERIFICATION_FAILURES: [(bool, bool, &str, &str); 4] = [
    (
        true,
        false,
        "税务机关出具的纳税情况证明显示存在欠缴税款记录，截至核查日未补缴",
        "纳税信息核查未通过：存在欠缴税款记录",
    ),
    (
        false,
        true,
        "国家企业信用信息公示系统显示该单位被列入经营异常名录（未按期公示年度报告）",
        "信用信息核查未通过：被列入经营异常名录",
    ),
    (
        true,
        false,
        "未能提供近三年完税证明，税务机关未出具纳税情况证明",
        "纳税信息核查未通过：未能提供完税证明",
    ),
    (
        false,
        false,
        "信用中国查询到行政处罚记录，且未提供纳税情况证明",
        "信用和纳税信息核查均未通过",
    ),
];
const UPHELD_REASON: &str =
    "公示期间异议经核实成立：申报材料所列考核站点与实际情况不符，审议不予通过";
const PASSED_EVIDENCE: &str = "经国家企业信用信息公示系统、信用中国查询，无经营异常、严重违法失信记录；纳税情况证明已核验，无欠缴税款";

/// A small deterministic generator (SplitMix64): the demo must come out the same on every
/// load and every platform, whatever version of a random-number crate is in the tree.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Roughly normal with mean 0 and standard deviation 1 (sum of uniforms).
    fn normal(&mut self) -> f64 {
        (0..6).map(|_| self.unit()).sum::<f64>() - 3.0
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn weighted(&mut self, weights: impl Iterator<Item = f64> + Clone) -> usize {
        let total: f64 = weights.clone().sum();
        let mut x = self.unit() * total;
        let mut last = 0;
        for (i, w) in weights.enumerate() {
            if x < w {
                return i;
            }
            x -= w;
            last = i;
        }
        last
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            xs.swap(i, self.below(i + 1));
        }
    }
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// A Beijing wall-clock time as stored (RFC 3339 UTC with milliseconds, like `now()`).
fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    beijing()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("a valid Beijing time")
        .with_timezone(&Utc)
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A time in office hours on a day `from + 0..days`.
fn some_day(rng: &mut Rng, from: DateTime<Utc>, days: usize) -> DateTime<Utc> {
    from + Duration::days(rng.below(days.max(1)) as i64)
        + Duration::minutes(rng.below(8 * 60) as i64)
}

fn person_name(rng: &mut Rng) -> String {
    let mut n = rng.pick(SURNAMES).to_string();
    n.push_str(rng.pick::<&str>(GIVEN));
    if rng.unit() < 0.6 {
        n.push_str(rng.pick::<&str>(GIVEN));
    }
    n
}

fn mobile(rng: &mut Rng) -> String {
    let prefix = *rng.pick(&["135", "136", "138", "139", "150", "158", "186", "189"]);
    format!("{prefix}{:08}", rng.next() % 100_000_000)
}

/// GB 11714 check character of an 8-character organization code.
fn org_code_check(first8: &str) -> char {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first8
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(36).unwrap_or(0) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        c => char::from_digit(c, 10).unwrap_or('0'),
    }
}

/// A unified social credit code of a company registered in `division`: "91", the
/// division, a 9-character organization code with its own check, and the GB 32100 check.
fn credit_code(rng: &mut Rng, division: &str) -> Result<CreditCode> {
    // The organization code alphabet leaves out I, O, S, V and Z, as the credit code does.
    const BODY: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut org = String::from("MA");
    for _ in 0..6 {
        org.push(BODY[rng.below(BODY.len())] as char);
    }
    let org = format!("{org}{}", org_code_check(&org));
    let first17 = format!("91{division}{org}");
    let check = CreditCode::check_char(&first17).map_err(|e| anyhow::anyhow!("{e}"))?;
    CreditCode::parse(&format!("{first17}{check}")).map_err(|e| anyhow::anyhow!("{e}"))
}

/// One generated applicant of the fourth batch.
struct Generated {
    org: NewOrganization,
    /// The field of each of its proposals (indexes into the fields).
    fields: Vec<usize>,
}

/// District codes that exist in all four municipalities (01 is 东城, 和平, 黄浦 and 万州).
const DISTRICTS: [&str; 6] = ["01", "05", "06", "12", "13", "15"];

/// The generated applicants: unique names and credit codes, every province at least once,
/// `proposals` proposals in all (each at least one, at most eight).
fn generate_applicants(
    rng: &mut Rng,
    fields: &[Field],
    n: usize,
    proposals: usize,
    taken_codes: &HashSet<String>,
    taken_names: &HashSet<String>,
) -> Result<Vec<Generated>> {
    let mut codes = taken_codes.clone();
    let mut names = taken_names.clone();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let p = if i < PLACES.len() {
            i
        } else {
            rng.weighted(PLACES.iter().map(|p| p.3))
        };
        let (code, short, cities, _) = PLACES[p];
        let field = rng.weighted(fields.iter().map(|f| f.share));
        let (name, division) = loop {
            let (city, city_code) = *rng.pick(cities);
            let (place, division) = if cities.len() == 1 {
                (
                    short.to_string(),
                    format!("{city_code}{}", rng.pick(&DISTRICTS)),
                )
            } else if rng.unit() < 0.4 {
                // Registered with the province.
                (short.to_string(), format!("{code}0000"))
            } else {
                (format!("{city}市"), format!("{city_code}00"))
            };
            let suffix = SUFFIXES[rng.weighted(SUFFIXES.iter().map(|s| s.1))].0;
            let name = format!(
                "{place}{}{}{suffix}",
                rng.pick(BRANDS),
                rng.pick(&fields[field].business)
            );
            if names.insert(name.clone()) {
                break (name, division);
            }
        };
        let credit = loop {
            let c = credit_code(rng, &division)?;
            if codes.insert(c.as_str().to_string()) {
                break c;
            }
        };
        out.push(Generated {
            org: NewOrganization {
                kind: OrgKind::Teo,
                name_zh: name,
                name_en: None,
                credit_code: credit,
                province: Some(
                    Province::parse("province", PROVINCES[p]).map_err(|e| anyhow::anyhow!(e.en))?,
                ),
                teo_state: Some(TeoState::Active),
                website: None,
            },
            fields: vec![field],
        });
    }
    // Everyone proposes one certificate; the rest go to organizations at random, in the
    // organization's own field four times out of five.
    let mut extra = proposals - n;
    while extra > 0 {
        let g = &mut out[rng.below(n)];
        if g.fields.len() < 8 {
            let f = if rng.unit() < 0.8 {
                g.fields[0]
            } else {
                rng.weighted(fields.iter().map(|f| f.share))
            };
            g.fields.push(f);
            extra -= 1;
        }
    }
    Ok(out)
}

/// Certificate names for the generated proposals, per field: the shortlisted ones dealt
/// from one shuffled deck, so no name is shortlisted twice while the field has unused
/// names; the others from another, so similar proposals recur among those left out, as
/// they do in a real batch.
struct Names<'a> {
    shortlisted: Vec<(Vec<&'a str>, usize)>,
    others: Vec<(Vec<&'a str>, usize)>,
}

impl<'a> Names<'a> {
    fn new(rng: &mut Rng, fields: &'a [Field]) -> Names<'a> {
        let mut deck = || -> Vec<(Vec<&'a str>, usize)> {
            fields
                .iter()
                .map(|f| {
                    let mut d: Vec<&str> = f.certificates.iter().map(String::as_str).collect();
                    rng.shuffle(&mut d);
                    (d, 0)
                })
                .collect()
        };
        Names {
            shortlisted: deck(),
            others: deck(),
        }
    }

    /// The next name of `field` for a proposal of this fate, not one in `used`.
    fn deal(&mut self, field: usize, shortlisted: bool, used: &[String]) -> String {
        let (deck, next) = if shortlisted {
            &mut self.shortlisted[field]
        } else {
            &mut self.others[field]
        };
        // Every field has more names than an organization has proposals (`fields` checks).
        loop {
            let name = deck[*next % deck.len()];
            *next += 1;
            if !used.iter().any(|u| u == name) {
                return name.to_string();
            }
        }
    }
}

/// The fate of a generated proposal.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    Approved,
    NotProposed,
    /// Proposed, then refused in deliberation for the given reason.
    Rejected(&'static str),
}

/// A combined score for `fate`: five expert totals (in half points) around a level that
/// suits the fate, combined by the batch's rule, until it falls on the fate's side of the
/// pass score.
fn score_for(rng: &mut Rng, s: &BatchSettings, fate: Fate) -> f64 {
    loop {
        let level = match fate {
            Fate::Approved => rng.range(77.0, 93.0),
            Fate::Rejected(_) => rng.range(76.0, 86.0),
            Fate::NotProposed if rng.unit() < 0.7 => rng.range(64.0, 74.0),
            Fate::NotProposed => rng.range(45.0, 64.0),
        };
        let totals: Vec<f64> = (0..s.experts_per_proposal)
            .map(|_| {
                ((level + 3.0 * rng.normal()) * 2.0)
                    .round()
                    .clamp(0.0, 200.0)
                    / 2.0
            })
            .collect();
        let Some(score) = review::combine(s.combine, &totals) else {
            continue;
        };
        let pass = score >= s.pass_score;
        if pass == (fate != Fate::NotProposed) {
            return score;
        }
    }
}

/// One expert's rubric scores at about `level` percent: every item in half points within
/// its range, so the rubric accepts them; returns the scores and their total.
fn rubric_scores(
    rng: &mut Rng,
    rubric: &Rubric,
    level: f64,
) -> Result<(BTreeMap<String, f64>, f64)> {
    let mut scores = BTreeMap::new();
    for item in rubric.categories.iter().flat_map(|c| &c.items) {
        let v = item.points * (level + 4.0 * rng.normal()) / 100.0;
        scores.insert(
            item.code.clone(),
            ((v * 2.0).round() / 2.0).clamp(0.0, item.points),
        );
    }
    let total = rubric
        .total(&scores)
        .map_err(|e| anyhow::anyhow!("demo rubric scores: {}", e[0].en))?;
    Ok((scores, total))
}

fn decision(fate: Fate, score: f64, pass: f64) -> String {
    match fate {
        Fate::Approved => {
            format!("综合得分 {score:.2} 分，经公示、信用与纳税核查和审议，同意入围")
        }
        Fate::NotProposed => {
            format!("综合得分 {score:.2} 分，低于入围分数线 {pass} 分，未列入拟入围名单")
        }
        Fate::Rejected(r) => format!("综合得分 {score:.2} 分，列入拟入围名单；{r}"),
    }
}

fn fate_state(f: Fate) -> ProposalState {
    match f {
        Fate::Approved => ProposalState::Approved,
        Fate::NotProposed => ProposalState::NotProposed,
        Fate::Rejected(_) => ProposalState::Rejected,
    }
}

fn settings(input: BatchInput) -> Result<BatchSettings> {
    input.parse().map_err(|e| {
        anyhow::anyhow!(
            "demo batch settings: {}",
            e.iter()
                .map(|e| format!("{}: {}", e.field, e.en))
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

fn fourth_batch_settings() -> Result<BatchSettings> {
    settings(BatchInput {
        number: "4".into(),
        title_zh: "第四批职业教育培训评价组织和职业技能等级证书".into(),
        title_en: "Fourth batch of training-evaluation organizations and vocational skill grade certificates".into(),
        notice: "面向社会公开招募第四批参与 1+X 证书制度试点的职业教育培训评价组织。申报单位通过申报系统填报申报书，每个证书提交职业技能等级标准、试点有关事项说明、考核方案、考核站点建设标准、考核成本核算方案、收费项目及依据、必要性与可行性报告等七个附件；逾期不予受理。".into(),
        apply_from: "2020-09-01".into(),
        apply_until: "2020-10-15".into(),
        review_until: "2020-11-15".into(),
        publicity_days: "7".into(),
        exclude_same_org: "on".into(),
        exclude_same_province: "on".into(),
        ..Default::default()
    })
}

fn fifth_batch_settings(today: NaiveDate) -> Result<BatchSettings> {
    let day = |d: i64| (today + Duration::days(d)).to_string();
    settings(BatchInput {
        number: "5".into(),
        title_zh: "第五批职业教育培训评价组织和职业技能等级证书".into(),
        title_en: "Fifth batch of training-evaluation organizations and vocational skill grade certificates".into(),
        notice: "第五批职业教育培训评价组织和职业技能等级证书开始申报。已入围的培训评价组织可申报新证书，也可对上一批未入围的证书修改完善后重新申报。每个证书须关联已登记的职业技能等级标准和题库，并上传七个附件；申报截止前可多次修改，提交后进入形式审查。".into(),
        apply_from: day(-20),
        apply_until: day(25),
        review_until: day(55),
        publicity_days: "5".into(),
        exclude_same_org: "on".into(),
        exclude_same_province: "on".into(),
        ..Default::default()
    })
}

/// Load the declaration part of the demo (called once, when the demo is created).
pub async fn load(store: &Store) -> Result<()> {
    let started = Instant::now();
    let pool = expert_pool(store).await?;
    let fourth = fourth_batch(store, &pool).await?;
    let fifth = fifth_batch(store).await?;

    let stats = batch_stats(&store.stat_facts(fourth).await?);
    if (
        stats.proposals,
        stats.units,
        stats.shortlisted,
        stats.shortlisted_units,
    ) != (PROPOSALS, APPLICANTS, SHORTLISTED, SHORTLISTED_UNITS)
    {
        bail!("demo fourth batch came out as {stats:?}");
    }
    eprintln!(
        "demo declaration: batch 4 published ({} proposals from {} units, {} shortlisted from {}, {:.1} %), batch 5 open ({fifth}), {} experts (expert02…expert{:02} / {}); loaded in {:.2} s",
        stats.proposals,
        stats.units,
        stats.shortlisted,
        stats.shortlisted_units,
        stats.pass_rate * 100.0,
        pool.len(),
        EXPERTS.len(),
        super::DEMO_PASSWORD,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The `expert` account joins the pool; ten more expert accounts are opened for it.
/// Returns the pool as a draw sees it.
async fn expert_pool(store: &Store) -> Result<Vec<PoolExpert>> {
    let mut tx = store.begin_write("admin").await?;
    let mut out = Vec::new();
    for (username, name, org_name, province, fields) in EXPERTS {
        let org_id = tx.org_find(org_name).await?.map(|o| o.id);
        let user_id = match store.user_by_username(username).await? {
            Some(u) => u.id,
            None => {
                tx.user_create(&NewUser {
                    username: username.to_string(),
                    display_name: format!("{name}（评审专家）"),
                    password: super::DEMO_PASSWORD.into(),
                    role: "expert_reviewer".into(),
                    // Accounts of this role belong to no organization; the pool row
                    // keeps the tie a draw checks.
                    org_id: None,
                    person_id: None,
                })
                .await?
                .id
            }
        };
        let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        let id = tx
            .expert_create(&NewExpert {
                user_id,
                name: name.to_string(),
                org_id,
                org_name: org_name.to_string(),
                province: Some(province.to_string()),
                fields: fields.clone(),
            })
            .await?;
        out.push(PoolExpert {
            expert_id: id,
            org_id,
            province: Some(province.to_string()),
            fields,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// What experts wrote about State Grid's certificates, by how well they scored them.
fn comment(rng: &mut Rng, cert: &str, total: f64) -> String {
    let good = [
        "标准对接电力行业典型岗位，工作领域划分清晰，技能要求可测量",
        "依托企业技能等级评价体系开发，三个等级递进关系明确",
        "题库规模充足，试题与技能要求对应关系清楚",
        "考核站点依托省公司实训基地布局，覆盖面广，条件完备",
    ];
    let advice = [
        "建议补充实操考核的评分细则",
        "建议进一步说明与中职、本科专业的衔接",
        "收费测算依据可再细化",
        "建议增加新设备、新工艺相关的技能要求",
    ];
    let weak = [
        "与已有证书的工作领域存在交叉，区分度论证不足",
        "考核站点建设标准偏高，院校落地难度较大",
        "考核成本核算依据不充分，收费标准偏高",
        "试点院校范围和培训安排说明不够具体",
    ];
    if total >= 75.0 {
        format!("《{cert}》{}；{}。", rng.pick(&good), rng.pick(&advice))
    } else {
        let first = rng.below(weak.len());
        let second = (first + 1 + rng.below(weak.len() - 1)) % weak.len();
        format!("《{cert}》{}；{}。", weak[first], weak[second])
    }
}

/// The finished fourth batch. Returns its id.
async fn fourth_batch(store: &Store, pool: &[PoolExpert]) -> Result<i64> {
    let s = fourth_batch_settings()?;
    let rubric = s.rubric.clone();
    let mut rng = Rng(4);
    let window = bj(2020, 9, 1, 9, 0);
    let drawn_at = bj(2020, 10, 20, 10, 0);
    let publicity_from = bj(2020, 11, 20, 0, 0);
    let publicity_until = publicity_from + Duration::days(s.publicity_days.into());
    let listed_at = bj(2020, 11, 19, 17, 0);
    let deliberated_at = bj(2020, 12, 15, 15, 0);
    let published_at = bj(2020, 12, 25, 10, 0);
    let ministry = "admin".to_string();

    let mut applications = Vec::with_capacity(APPLICANTS);
    let mut verifications = Vec::new();
    let mut objections = Vec::new();
    let passed = |code: &str, evidence: &str, rng: &mut Rng| HistoryVerification {
        credit_code: code.to_string(),
        credit_ok: true,
        tax_ok: true,
        evidence: evidence.to_string(),
        checked_by: ministry.clone(),
        checked_at: text(some_day(rng, bj(2020, 11, 23, 9, 0), 4)),
    };
    // A submitted proposal of a fixed fate, with its first version.
    let proposal = |content: ProposalContentRow,
                    fate: Fate,
                    score: f64,
                    created: DateTime<Utc>,
                    submitted: DateTime<Utc>,
                    by: &str| {
        let decided = if fate == Fate::NotProposed {
            listed_at
        } else {
            deliberated_at
        };
        let snapshot = Snapshot {
            version: 1,
            name_zh: content.name_zh.clone(),
            field: content.field.clone(),
            summary: content.summary.clone(),
            standard_version: content.standard_version,
            bank_items: content.bank_items,
            annexes: BTreeMap::new(),
        };
        HistoryProposal {
            content,
            state: fate_state(fate),
            score: Some(score),
            formal_note: Some("申报材料齐全，七个附件完整，形式审查通过".into()),
            decision_reason: Some(decision(fate, score, s.pass_score)),
            decided_by: Some(ministry.clone()),
            decided_at: Some(text(decided)),
            created_at: text(created),
            submitted: Some((snapshot, by.to_string(), text(submitted))),
            assignments: Vec::new(),
        }
    };

    // State Grid: eleven certificates, nine shortlisted, each scored by five experts drawn
    // without conflicts.
    let sgcc = store.org_find(SGCC).await?.context("demo State Grid")?;
    let mut sgcc_app = HistoryApplication {
        credit_code: SGCC.into(),
        lead_unit: COLLEGE.into(),
        contact_name: "李青松".into(),
        contact_phone: "13905318826".into(),
        created_by: "sgcc".into(),
        created_at: text(bj(2020, 9, 3, 9, 30)),
        proposals: Vec::new(),
    };
    let rule = ConflictRule {
        same_org: s.exclude_same_org,
        same_province: s.exclude_same_province,
    };
    // State Grid's certificates in the order the demo registry lists them.
    let sgcc_codes: Vec<String> = super::data_set()?
        .certificates
        .iter()
        .map(|c| c.cert.code.as_str().to_string())
        .filter(|c| c.starts_with("SGCC-"))
        .collect();
    if sgcc_codes.len() != 11 {
        bail!(
            "demo State Grid has {} certificates, not 11",
            sgcc_codes.len()
        );
    }
    for (k, code) in sgcc_codes.iter().enumerate() {
        let cert = store.certificate_by_code(code).await?;
        let (standard_version, _) = store.certificate_declaration_facts(cert.id).await?;
        let shortlisted = !NOT_SHORTLISTED.contains(&code.as_str());
        // Relay protection leads the list; the two left out fall just short.
        let level = match code.as_str() {
            "SGCC-RPM" => 91.0,
            "SGCC-PTI" => 72.0,
            "SGCC-DOMS" => 70.5,
            _ => rng.range(81.0, 89.0),
        };
        // The draw's date and the certificate's place, so each draw can be replayed.
        let seed = 2_020_102_000 + k as i64;
        let applicant = Applicant {
            teo_id: sgcc.id,
            province: sgcc.province.clone(),
            field: ENERGY.into(),
        };
        let drawn = review::draw(
            pool,
            &applicant,
            rule,
            s.experts_per_proposal as usize,
            &[],
            seed as u64,
        )
        .map_err(|r| anyhow::anyhow!("demo draw for {code}: {}", r.en))?;
        let (score, assignments) = loop {
            let mut sheets = Vec::new();
            for _ in &drawn {
                let own = level + 2.0 * rng.normal();
                sheets.push(rubric_scores(&mut rng, &rubric, own)?);
            }
            let totals: Vec<f64> = sheets.iter().map(|(_, t)| *t).collect();
            let score = review::combine(s.combine, &totals).context("no totals")?;
            if (score >= s.pass_score) != shortlisted {
                continue;
            }
            let outliers = review::outliers(&totals, s.outlier_points);
            let mut rows = Vec::new();
            for ((id, (scores, total)), outlier) in drawn.iter().zip(sheets).zip(outliers) {
                rows.push(HistoryAssignment {
                    expert_id: *id,
                    seed,
                    drawn_by: ministry.clone(),
                    drawn_at: text(drawn_at),
                    comment: comment(&mut rng, &cert.name_zh, total),
                    scores,
                    total,
                    submitted_at: text(some_day(&mut rng, bj(2020, 10, 26, 9, 0), 16)),
                    outlier,
                });
            }
            break (score, rows);
        };
        let fate = if shortlisted {
            Fate::Approved
        } else {
            Fate::NotProposed
        };
        let created = bj(2020, 9, 8, 10, 0) + Duration::days(k as i64);
        let mut p = proposal(
            ProposalContentRow {
                certificate_id: Some(cert.id),
                name_zh: cert.name_zh.clone(),
                field: ENERGY.into(),
                summary: cert.description.clone().unwrap_or_default(),
                standard_version,
                bank_items: 600 + rng.below(900) as i64,
            },
            fate,
            score,
            created,
            bj(2020, 10, 12, 16, 0) + Duration::minutes(7 * k as i64),
            "sgcc",
        );
        p.assignments = assignments;
        sgcc_app.proposals.push(p);
    }
    verifications.push(passed(
        SGCC,
        "国家企业信用信息公示系统、信用中国查询无经营异常和严重失信记录；国家税务总局北京市税务局出具的纳税情况证明已核验，无欠缴税款；核查报告见附件",
        &mut rng,
    ));
    // A dismissed objection against State Grid's first shortlisted certificate.
    if let Some(first) = sgcc_app
        .proposals
        .iter()
        .position(|p| p.state == ProposalState::Approved)
    {
        let name = sgcc_app.proposals[first].content.name_zh.clone();
        objections.push(HistoryObjection {
            application: 0,
            proposal: first,
            filer_name: "周明".into(),
            filer_contact: "zhouming@example.com".into(),
            content: format!("“{name}”与已公布的电力类证书内容重复，建议不予入围。"),
            client: "203.0.113.24".into(),
            filed_at: text(bj(2020, 11, 22, 14, 12)),
            state: "dismissed".into(),
            response: Some(format!(
                "经核查，“{name}”面向的岗位群和工作领域与已公布证书不同，技能要求不重复，异议不成立。"
            )),
            handled_by: Some(ministry.clone()),
            handled_at: Some(text(bj(2020, 12, 1, 10, 30))),
        });
    }
    applications.push(sgcc_app);

    // The other demo TEOs.
    for (code, lead, contact, phone, by, certs) in OTHER_DEMO_TEOS {
        let created = some_day(&mut rng, window, 20);
        let mut app = HistoryApplication {
            credit_code: code.to_string(),
            lead_unit: lead.to_string(),
            contact_name: contact.to_string(),
            contact_phone: phone.to_string(),
            created_by: by.to_string(),
            created_at: text(created),
            proposals: Vec::new(),
        };
        for (cert_code, field) in *certs {
            let cert = store.certificate_by_code(cert_code).await?;
            let (standard_version, _) = store.certificate_declaration_facts(cert.id).await?;
            let score = score_for(&mut rng, &s, Fate::Approved);
            app.proposals.push(proposal(
                ProposalContentRow {
                    certificate_id: Some(cert.id),
                    name_zh: cert.name_zh.clone(),
                    field: field.to_string(),
                    summary: cert.description.clone().unwrap_or_default(),
                    standard_version,
                    bank_items: 300 + rng.below(1200) as i64,
                },
                Fate::Approved,
                score,
                created + Duration::days(1),
                created + Duration::days(5 + rng.below(15) as i64),
                by,
            ));
        }
        verifications.push(passed(code, PASSED_EVIDENCE, &mut rng));
        applications.push(app);
    }

    // Everyone else, generated.
    let demo_proposals: usize = applications.iter().map(|a| a.proposals.len()).sum();
    let demo_shortlisted: usize = applications
        .iter()
        .flat_map(|a| &a.proposals)
        .filter(|p| p.state == ProposalState::Approved)
        .count();
    let demo_units = applications.len();
    let registry = store.org_list(&Default::default()).await?;
    let taken_codes = registry.iter().map(|o| o.credit_code.clone()).collect();
    let taken_names = registry.iter().map(|o| o.name_zh.clone()).collect();
    let fields = fields()?;
    let generated = generate_applicants(
        &mut rng,
        &fields,
        APPLICANTS - demo_units,
        PROPOSALS - demo_proposals,
        &taken_codes,
        &taken_names,
    )?;

    // Fates: one shortlisted certificate for each of the remaining shortlisted
    // organizations, the remaining shortlisted certificates among their other proposals;
    // five organizations put on the list and refused (four failed verification, one met an
    // upheld objection); everything else scored below the line.
    let mut order: Vec<usize> = (0..generated.len()).collect();
    rng.shuffle(&mut order);
    let winners = SHORTLISTED_UNITS - demo_units;
    let mut fates: Vec<Vec<Fate>> = generated
        .iter()
        .map(|g| vec![Fate::NotProposed; g.fields.len()])
        .collect();
    let mut seconds = Vec::new();
    for &i in &order[..winners] {
        let first = rng.below(fates[i].len());
        fates[i][first] = Fate::Approved;
        seconds.extend((0..fates[i].len()).filter(|j| *j != first).map(|j| (i, j)));
    }
    let more = SHORTLISTED - demo_shortlisted - winners;
    if seconds.len() < more {
        bail!(
            "demo: {} spare proposals for {more} more shortlisted",
            seconds.len()
        );
    }
    rng.shuffle(&mut seconds);
    for &(i, j) in &seconds[..more] {
        fates[i][j] = Fate::Approved;
    }
    let refused = &order[winners..winners + VERIFICATION_FAILURES.len() + 1];
    for (k, &i) in refused.iter().enumerate() {
        fates[i][0] = Fate::Rejected(match VERIFICATION_FAILURES.get(k) {
            Some(v) => v.3,
            None => UPHELD_REASON,
        });
    }

    let mut names = Names::new(&mut rng, &fields);
    let mut fee_objection = false;
    let mut new_orgs = Vec::with_capacity(generated.len());
    for (gi, (g, fates)) in generated.into_iter().zip(fates).enumerate() {
        let created = some_day(&mut rng, window, 40);
        let code = g.org.credit_code.as_str().to_string();
        let mut app = HistoryApplication {
            credit_code: code.clone(),
            lead_unit: g.org.name_zh.clone(),
            contact_name: person_name(&mut rng),
            contact_phone: mobile(&mut rng),
            created_by: "demo-loader".into(),
            created_at: text(created),
            proposals: Vec::new(),
        };
        let last = bj(2020, 10, 15, 17, 0);
        let mut used: Vec<String> = Vec::new();
        for (f, fate) in g.fields.iter().zip(&fates) {
            let field = fields[*f].name.as_str();
            let name = names.deal(*f, *fate == Fate::Approved, &used);
            used.push(name.clone());
            let score = score_for(&mut rng, &s, *fate);
            let submitted = (created + Duration::days(2 + rng.below(12) as i64)).min(last);
            app.proposals.push(proposal(
                ProposalContentRow {
                    certificate_id: None,
                    name_zh: name.clone(),
                    field: field.into(),
                    summary: format!(
                        "“{name}”职业技能等级证书面向{field}领域相关企业的{name}岗位（群），依据企业调研归纳的典型工作任务确定工作领域和技能要求，分初级、中级、高级三个等级，配套题库、考核方案和考核站点建设标准。"
                    ),
                    standard_version: None,
                    bank_items: 200 + rng.below(2300) as i64,
                },
                *fate,
                score,
                created,
                submitted,
                "demo-loader",
            ));
        }
        let app_index = applications.len();
        if fates.iter().any(|f| *f != Fate::NotProposed) {
            match refused.iter().position(|r| *r == gi) {
                Some(k) if k < VERIFICATION_FAILURES.len() => {
                    let (credit_ok, tax_ok, evidence, _) = VERIFICATION_FAILURES[k];
                    verifications.push(HistoryVerification {
                        credit_code: code.clone(),
                        credit_ok,
                        tax_ok,
                        evidence: evidence.into(),
                        checked_by: ministry.clone(),
                        checked_at: text(some_day(&mut rng, bj(2020, 11, 23, 9, 0), 4)),
                    });
                }
                Some(_) => {
                    verifications.push(passed(&code, PASSED_EVIDENCE, &mut rng));
                    let name = app.proposals[0].content.name_zh.clone();
                    objections.push(HistoryObjection {
                        application: app_index,
                        proposal: 0,
                        filer_name: "匿名".into(),
                        filer_contact: "13600000000".into(),
                        content: format!(
                            "“{name}”申报材料所列的考核站点中有多个尚未建成，现场不具备考核条件。"
                        ),
                        client: "198.51.100.7".into(),
                        filed_at: text(bj(2020, 11, 24, 9, 40)),
                        state: "upheld".into(),
                        response: Some(
                            "经组织专家实地核查，所列考核站点中三个尚未建成、两个设备不全，异议成立，提交审议。"
                                .into(),
                        ),
                        handled_by: Some(ministry.clone()),
                        handled_at: Some(text(bj(2020, 12, 4, 16, 0))),
                    });
                }
                None => {
                    verifications.push(passed(&code, PASSED_EVIDENCE, &mut rng));
                    // The first shortlisted generated organization met a dismissed objection
                    // about its fees.
                    if !fee_objection
                        && let Some(j) = fates.iter().position(|f| *f == Fate::Approved)
                    {
                        fee_objection = true;
                        let name = app.proposals[j].content.name_zh.clone();
                        objections.push(HistoryObjection {
                            application: app_index,
                            proposal: j,
                            filer_name: "某职业院校教师".into(),
                            filer_contact: "teacher@example.edu.cn".into(),
                            content: format!("“{name}”的考核收费标准明显高于同类证书。"),
                            client: "192.0.2.55".into(),
                            filed_at: text(bj(2020, 11, 21, 20, 5)),
                            state: "dismissed".into(),
                            response: Some(
                                "经核对考核成本核算方案，收费标准在核定的成本上限以内，异议不成立。".into(),
                            ),
                            handled_by: Some(ministry.clone()),
                            handled_at: Some(text(bj(2020, 11, 30, 11, 0))),
                        });
                    }
                }
            }
        }
        applications.push(app);
        new_orgs.push(g.org);
    }

    let history = HistoryBatch {
        settings: s,
        state: BatchState::Published,
        publicity: Some((text(publicity_from), text(publicity_until))),
        created_by: ministry.clone(),
        created_at: text(bj(2020, 8, 20, 10, 0)),
        published_at: Some(text(published_at)),
        organizations: new_orgs,
        applications,
        verifications,
        objections,
    };
    let mut tx = store.begin_write("demo-loader").await?;
    let out = tx.batch_import_history(&history).await?;
    tx.commit().await?;
    Ok(out.batch_id)
}

/// A small text file for an annex slot, put into the object store. The demo has no real
/// documents, so it says what the annex would hold.
async fn annex_file(
    store: &Store,
    cert: &str,
    code: &str,
    annex: Annex,
) -> Result<(String, String, i64)> {
    let body = format!(
        "附件{n} {zh}\n\n证书名称：{cert}（{code}）\n培训评价组织：国家电网有限公司\n牵头单位：{COLLEGE}\n\n\
         本文件为演示数据，按第五批申报要求整理，说明该证书的{zh}。正式申报时请替换为盖章版文件。\n",
        n = annex.number(),
        zh = annex.zh(),
    );
    let bytes = body.into_bytes();
    let size = bytes.len() as i64;
    let key = store.objects.put(bytes).await?;
    Ok((
        format!("附件{} {}（{cert}）.txt", annex.number(), annex.zh()),
        key,
        size,
    ))
}

/// A task of the fifth batch's breakdown: unit, assignee, title, the proposal and annex
/// it fills (if any), deadline in days from today.
type TaskPlan = (
    &'static str,
    &'static str,
    String,
    Option<(i64, Annex)>,
    i64,
);

/// The open fifth batch: State Grid's application under way, 翰云数智's just begun.
/// Returns a few words for the summary line.
async fn fifth_batch(store: &Store) -> Result<String> {
    let today = Utc::now().with_timezone(&beijing()).date_naive();
    let s = fifth_batch_settings(today)?;
    let mut tx = store.begin_write("admin").await?;
    let batch = tx.batch_create(&s).await?;
    tx.batch_set_state(batch.id, BatchState::Draft, BatchState::Open, None)
        .await?;
    tx.commit().await?;

    // State Grid, its college leading.
    let sgcc = store.org_find(SGCC).await?.context("demo State Grid")?;
    let college = store.org_find(COLLEGE).await?.context("demo college")?;
    let mut tx = store.begin_write("sgcc").await?;
    let app = tx
        .application_create(batch.id, sgcc.id, SGCC, COLLEGE, "李青松", "13905318826")
        .await?;
    let mut units = BTreeMap::new();
    for (name, org) in [
        (COLLEGE, Some(college.id)),
        ("国网山东省电力公司", None),
        (
            "山东电力高等专科学校",
            store.org_find("山东电力高等专科学校").await?.map(|o| o.id),
        ),
        ("国网浙江省电力有限公司", None),
    ] {
        units.insert(name, tx.unit_create(app, name, org).await?);
    }
    // Annexes each proposal already holds; the rest are still missing.
    let plan: [(&str, &[Annex]); 2] = [
        (
            "SGCC-PTI",
            &[
                Annex::Standard,
                Annex::PilotMatters,
                Annex::AssessmentScheme,
                Annex::Feasibility,
            ],
        ),
        ("SGCC-DOMS", &[Annex::Standard, Annex::Feasibility]),
    ];
    let mut proposals = BTreeMap::new();
    for (code, filled) in plan {
        let cert = store.certificate_by_code(code).await?;
        let (standard_version, bank_items) = store.certificate_declaration_facts(cert.id).await?;
        let p = tx
            .proposal_create(
                app,
                batch.id,
                sgcc.id,
                &ProposalContentRow {
                    certificate_id: Some(cert.id),
                    name_zh: cert.name_zh.clone(),
                    field: ENERGY.into(),
                    summary: format!(
                        "第四批评审中该证书得分未达入围分数线。本次根据专家意见，重新论证与已入围证书的区分度，下调考核站点建设标准，细化考核成本核算。{}",
                        cert.description.clone().unwrap_or_default()
                    ),
                    standard_version,
                    bank_items,
                },
                ProposalState::Draft,
            )
            .await?;
        for annex in filled {
            let (file, key, size) = annex_file(store, &cert.name_zh, code, *annex).await?;
            tx.annex_put(
                p.id,
                annex.number().into(),
                &file,
                &key,
                "sha256",
                size,
                "upload",
            )
            .await?;
        }
        proposals.insert(code, (p.id, cert.name_zh));
    }
    let day = |d: i64| (today + Duration::days(d)).to_string();
    let (pti, pti_name) = proposals["SGCC-PTI"].clone();
    let (doms, doms_name) = proposals["SGCC-DOMS"].clone();
    let annex_task = |a: Annex, name: &str| format!("附件{} {}（{name}）", a.number(), a.zh());
    let tasks: Vec<TaskPlan> = vec![
        (
            COLLEGE,
            "college",
            "填写申报书基本信息和联系人".into(),
            None,
            -12,
        ),
        (
            "国网山东省电力公司",
            "sgcc",
            annex_task(Annex::CostAccounting, &pti_name),
            Some((pti, Annex::CostAccounting)),
            -2,
        ),
        // The school has no account here: the TEO's own staff carry its task (the rule
        // allows the TEO's people or the unit's).
        (
            "山东电力高等专科学校",
            "sgcc",
            annex_task(Annex::ExamSiteStandard, &pti_name),
            Some((pti, Annex::ExamSiteStandard)),
            5,
        ),
        (
            COLLEGE,
            "college",
            annex_task(Annex::ExpenseItems, &pti_name),
            Some((pti, Annex::ExpenseItems)),
            8,
        ),
        (
            COLLEGE,
            "college",
            annex_task(Annex::AssessmentScheme, &doms_name),
            Some((doms, Annex::AssessmentScheme)),
            10,
        ),
        (
            "国网浙江省电力有限公司",
            "sgcc",
            annex_task(Annex::PilotMatters, &doms_name),
            Some((doms, Annex::PilotMatters)),
            12,
        ),
        (
            "国网山东省电力公司",
            "sgcc",
            format!("题库样题整理与录入（{doms_name}，初级）"),
            None,
            15,
        ),
    ];
    let mut first = None;
    for (unit, assignee, title, target, deadline) in &tasks {
        let id = tx
            .task_create(&NewTask {
                application_id: app,
                unit_id: units[unit],
                assignee: assignee.to_string(),
                title: title.clone(),
                proposal_id: target.map(|t| t.0),
                annex: target.map(|t| t.1.number().into()),
                deadline: day(*deadline),
            })
            .await?;
        first.get_or_insert(id);
    }
    tx.notify(
        "sgcc",
        &format!(
            "提醒：任务“{}”已逾期（截止 {}）",
            tasks[1].2,
            day(tasks[1].4)
        ),
        &format!(
            "Reminder: the task \"{}\" is overdue (due {})",
            tasks[1].2,
            day(tasks[1].4)
        ),
        "/my/tasks",
    )
    .await?;
    tx.commit().await?;

    // The college has done its first task (the first of the list) and is told about the
    // rest.
    let open: Vec<i64> = tasks[1..]
        .iter()
        .filter(|t| t.1 == "college")
        .map(|t| t.4)
        .collect();
    let next_due = day(open.iter().copied().min().unwrap_or_default());
    let mut tx = store.begin_write("college").await?;
    if let Some(id) = first {
        tx.task_set_state(
            id,
            TaskState::Done,
            Some("申报书基本信息、联系人和参与单位已填写，请国家电网人力资源部审核。"),
            None,
        )
        .await?;
    }
    tx.notify(
        "college",
        &format!(
            "第五批申报：国家电网有限公司申报书中有 {} 项任务分配给您，最早截止 {next_due}",
            open.len()
        ),
        &format!(
            "Fifth batch: {} tasks of State Grid's application are assigned to you, the first due {next_due}",
            open.len()
        ),
        "/my/tasks",
    )
    .await?;
    tx.commit().await?;

    // 翰云数智 has just started: one proposal, nothing uploaded yet.
    let hanyun = store.org_find(HANYUN).await?.context("demo 翰云数智")?;
    let cert = store.certificate_by_code("HY-BIGDATA").await?;
    let (standard_version, bank_items) = store.certificate_declaration_facts(cert.id).await?;
    let mut tx = store.begin_write("hanyun").await?;
    let app = tx
        .application_create(
            batch.id,
            hanyun.id,
            HANYUN,
            "北京翰云数智科技有限公司",
            "高雅婷",
            "13910862257",
        )
        .await?;
    tx.proposal_create(
        app,
        batch.id,
        hanyun.id,
        &ProposalContentRow {
            certificate_id: Some(cert.id),
            name_zh: cert.name_zh.clone(),
            field: "电子与信息".into(),
            summary: cert.description.clone().unwrap_or_default(),
            standard_version,
            bank_items,
        },
        ProposalState::Draft,
    )
    .await?;
    tx.commit().await?;
    Ok(format!(
        "{} to {}: State Grid 2 draft proposals and {} tasks, 翰云数智 1 draft",
        s.apply_from,
        s.apply_until,
        tasks.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_are_the_19_major_categories_with_distinct_certificates() {
        let fields = fields().unwrap();
        assert_eq!(fields.len(), 19);
        assert!(fields.iter().any(|f| f.name == ENERGY));
        let names: Vec<&String> = fields.iter().flat_map(|f| &f.certificates).collect();
        let distinct: HashSet<&&String> = names.iter().collect();
        assert_eq!(
            distinct.len(),
            names.len(),
            "a certificate name in two fields"
        );
        // Enough names that the fourth batch's 355 need hardly repeat one.
        assert!(names.len() >= 355, "{}", names.len());
    }

    #[test]
    fn organization_codes_inside_the_demo_credit_codes_check() {
        for code in [
            SGCC,
            HANYUN,
            HUACHI,
            "91370100MA0RPTKR5G",
            "91330100106549122L",
        ] {
            assert_eq!(
                org_code_check(&code[8..16]),
                code.chars().nth(16).unwrap(),
                "{code}"
            );
        }
    }

    #[test]
    fn generated_applicants_are_distinct_valid_and_from_every_province() {
        let fields = fields().unwrap();
        let generate = || {
            generate_applicants(
                &mut Rng(4),
                &fields,
                599,
                969,
                &HashSet::new(),
                &HashSet::new(),
            )
            .unwrap()
        };
        let a = generate();
        assert_eq!(a.len(), 599);
        assert_eq!(a.iter().map(|g| g.fields.len()).sum::<usize>(), 969);
        assert!(a.iter().all(|g| (1..=8).contains(&g.fields.len())));
        let codes: HashSet<&str> = a.iter().map(|g| g.org.credit_code.as_str()).collect();
        let names: HashSet<&str> = a.iter().map(|g| g.org.name_zh.as_str()).collect();
        assert_eq!((codes.len(), names.len()), (599, 599));
        for c in &codes {
            CreditCode::parse(c).unwrap();
            assert_eq!(org_code_check(&c[8..16]), c.chars().nth(16).unwrap(), "{c}");
        }
        let provinces: HashSet<&str> = a
            .iter()
            .filter_map(|g| g.org.province.as_ref().map(|p| p.as_str()))
            .collect();
        assert_eq!(provinces.len(), 31);
        // The same seed, the same organizations.
        let b = generate();
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.org == y.org && x.fields == y.fields)
        );
    }

    #[test]
    fn shortlisted_names_repeat_only_once_a_field_is_used_up() {
        let mut rng = Rng(1);
        let fields = fields().unwrap();
        let mut names = Names::new(&mut rng, &fields);
        let field = fields.iter().position(|f| f.name == "水利").unwrap();
        let size = fields[field].certificates.len();
        let dealt: Vec<String> = (0..size).map(|_| names.deal(field, true, &[])).collect();
        assert_eq!(dealt.iter().collect::<HashSet<_>>().len(), size);
        // Never a name the organization already proposes.
        let next = names.deal(field, true, &dealt[..1]);
        assert_ne!(next, dealt[0]);
    }
}
