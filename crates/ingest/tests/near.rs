//! Near-duplicate detection on generated Chinese text: estimates against exact Jaccard
//! similarity, light edits grouped, unrelated texts on one topic kept apart, normalization.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use xcert_ingest::minhash::{
    MIN_SHINGLES, MinHasher, NearGroup, Signature, estimate_jaccard, exact_jaccard, lsh_bands,
    near_duplicate_groups, normalize,
};

/// The shared topic vocabulary: every generated document draws from these words, so
/// unrelated documents look alike word by word and differ only in how words follow.
const WORDS: &[&str] = &[
    "职业",
    "技能",
    "等级",
    "证书",
    "培训",
    "考核",
    "大纲",
    "标准",
    "院校",
    "学生",
    "教师",
    "企业",
    "行业",
    "试点",
    "工作",
    "方案",
    "课程",
    "教材",
    "资源",
    "平台",
    "专家",
    "团队",
    "管理",
    "制度",
    "协议",
    "评价",
    "组织",
    "申报",
    "材料",
    "单位",
    "实训",
    "基地",
    "岗位",
    "能力",
    "要求",
    "内容",
    "模块",
    "学时",
    "安排",
    "理论",
    "实践",
    "操作",
    "规范",
    "质量",
    "监督",
    "检查",
    "认定",
    "发放",
    "机构",
    "部门",
    "省级",
    "国家",
    "推进",
    "落实",
    "建设",
    "开展",
    "完善",
    "提升",
    "加强",
    "服务",
    "保障",
    "经费",
    "场地",
    "设备",
    "信息化",
    "数据",
    "系统",
    "运行",
    "维护",
    "安全",
    "环境",
    "考点",
    "考场",
    "考评员",
    "督导员",
    "题库",
    "样题",
    "试卷",
    "成绩",
    "合格",
    "初级",
    "中级",
    "高级",
    "模式",
    "书证融通",
    "学分",
    "银行",
    "转换",
    "认证",
    "互认",
    "衔接",
    "专业",
    "目录",
    "教学",
    "改革",
    "育人",
    "产教融合",
    "校企合作",
    "师资",
    "队伍",
    "培养",
    "计划",
    "任务",
    "目标",
    "原则",
    "范围",
    "对象",
    "条件",
    "程序",
    "流程",
    "时间",
    "地点",
    "方式",
    "结果",
    "应用",
    "推广",
    "宣传",
    "总结",
    "报告",
    "附件",
    "说明",
    "依据",
    "文件",
    "通知",
    "意见",
    "办法",
    "细则",
    "指南",
    "手册",
    "案例",
    "项目",
    "任务书",
    "工单",
    "活页式",
    "新形态",
    "在线",
    "学习",
    "视频",
    "微课",
    "虚拟仿真",
    "智能制造",
    "工业机器人",
    "大数据",
    "云计算",
    "物联网",
    "电子商务",
    "物流",
    "财务",
    "会计",
    "护理",
    "养老",
    "幼儿",
    "照护",
    "汽车",
    "维修",
    "建筑",
    "信息",
    "模型",
    "网络",
    "运维",
    "设计",
];

fn sentence(rng: &mut StdRng) -> String {
    let n = rng.gen_range(6..=14);
    let mut s: String = (0..n).map(|_| *WORDS.choose(rng).unwrap()).collect();
    s.push(*['。', '；', '，', '！'].choose(rng).unwrap());
    s
}

fn document(rng: &mut StdRng, sentences: usize) -> Vec<String> {
    (0..sentences).map(|_| sentence(rng)).collect()
}

/// Replaces each character with a random vocabulary character with probability `rate`.
fn edit_chars(rng: &mut StdRng, text: &str, rate: f64) -> String {
    let alphabet: Vec<char> = WORDS.iter().flat_map(|w| w.chars()).collect();
    text.chars()
        .map(|c| {
            if rng.gen_bool(rate) {
                *alphabet.choose(rng).unwrap()
            } else {
                c
            }
        })
        .collect()
}

#[test]
fn estimates_track_exact_jaccard() {
    let hasher = MinHasher::default_for_documents();
    let mut rng = StdRng::seed_from_u64(1);
    let rates = [0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8];
    let mut errors = Vec::new();
    let mut exact_by_rate = vec![0.0; rates.len()];
    let trials = 30;
    for _ in 0..trials {
        let original = document(&mut rng, 30).concat();
        for (k, &rate) in rates.iter().enumerate() {
            let edited = edit_chars(&mut rng, &original, rate);
            let exact = exact_jaccard(&original, &edited, 5);
            let a = hasher.signature(&original).unwrap();
            let b = hasher.signature(&edited).unwrap();
            errors.push(estimate_jaccard(&a, &b) - exact);
            exact_by_rate[k] += exact / trials as f64;
        }
    }
    // Substituting each character with probability p keeps a 5-character shingle with
    // probability q = (1 − p)^5, so J ≈ q / (2 − q) (repeated shingles aside).
    for (&rate, &mean_exact) in rates.iter().zip(&exact_by_rate) {
        let q = (1.0f64 - rate).powi(5);
        let expected = q / (2.0 - q);
        assert!(
            (mean_exact - expected).abs() < 0.05,
            "rate {rate}: exact {mean_exact:.3}, model {expected:.3}"
        );
    }
    // A 128-permutation estimate has standard deviation √(J(1−J)/128) ≤ 0.045, so ±0.1 is
    // at least 2.2σ: nearly all pairs within it, none far beyond, no bias.
    let n = errors.len() as f64;
    let within = errors.iter().filter(|e| e.abs() <= 0.1).count() as f64 / n;
    let worst = errors.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    let bias = errors.iter().sum::<f64>() / n;
    eprintln!(
        "{} pairs: {:.1}% within ±0.1, worst {worst:.3}, bias {bias:+.4}",
        errors.len(),
        within * 100.0
    );
    assert!(within >= 0.97, "{within}");
    assert!(worst <= 0.16, "{worst}");
    assert!(bias.abs() <= 0.015, "{bias}");
}

#[test]
fn light_edits_are_grouped_with_their_original() {
    let hasher = MinHasher::default_for_documents();
    let mut rng = StdRng::seed_from_u64(2);
    let mut sigs = Vec::new();
    let mut expected = Vec::new();
    for pair in 0..20usize {
        let original = document(&mut rng, 100);
        // 5% of the sentences rewritten.
        let mut edited = original.clone();
        let mut positions: Vec<usize> = (0..original.len()).collect();
        positions.shuffle(&mut rng);
        for &p in &positions[..5] {
            edited[p] = sentence(&mut rng);
        }
        let (a, b) = (original.concat(), edited.concat());
        assert!(exact_jaccard(&a, &b, 5) > 0.8);
        sigs.push((2 * pair, hasher.signature(&a).unwrap()));
        sigs.push((2 * pair + 1, hasher.signature(&b).unwrap()));
        expected.push(vec![2 * pair, 2 * pair + 1]);
    }
    // Unrelated documents on the same topic, numbered after the pairs.
    for id in 40..100 {
        sigs.push((
            id,
            hasher.signature(&document(&mut rng, 100).concat()).unwrap(),
        ));
    }
    sigs.shuffle(&mut rng);
    let groups = near_duplicate_groups(&sigs, 0.8);
    let members: Vec<Vec<usize>> = groups.iter().map(|g| g.members.clone()).collect();
    assert_eq!(members, expected);
    for g in &groups {
        assert_eq!(g.pairs.len(), 1);
        let (a, b, s) = g.pairs[0];
        assert_eq!((a, b), (g.members[0], g.members[1]));
        assert!(s >= 0.8);
    }
}

#[test]
fn unrelated_texts_on_one_topic_are_not_grouped() {
    let hasher = MinHasher::default_for_documents();
    let mut rng = StdRng::seed_from_u64(3);
    let docs: Vec<String> = (0..300).map(|_| document(&mut rng, 40).concat()).collect();
    let sigs: Vec<(usize, Signature)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (i, hasher.signature(d).unwrap()))
        .collect();
    assert!(near_duplicate_groups(&sigs, 0.8).is_empty());
    assert!(near_duplicate_groups(&sigs, 0.5).is_empty());
    // They do share words, and some shingles: similar in vocabulary, not in text.
    let exact = exact_jaccard(&docs[0], &docs[1], 5);
    let bigrams = exact_jaccard(&docs[0], &docs[1], 2);
    eprintln!("unrelated: 5-shingle Jaccard {exact:.3}, 2-shingle {bigrams:.3}");
    assert!(bigrams > 0.1, "{bigrams}");
    assert!(exact < 0.2, "{exact}");
}

#[test]
fn whitespace_punctuation_and_case_do_not_change_the_signature() {
    let hasher = MinHasher::default_for_documents();
    let plain =
        "职业技能等级证书ABC培训方案由培训评价组织制定考核大纲明确了初级中级高级的能力要求1234";
    let variants = [
        "职业技能等级证书 ABC，培训方案由培训评价组织制定。\n考核大纲明确了初级、中级、高级的能力要求：1234！",
        "【职业技能等级证书】abc；\t培训方案——由培训评价组织制定…… 《考核大纲》明确了“初级”“中级”“高级”的能力要求(1234).",
        "职业技能等级证书\u{3000}ＡＢＣ：培训方案，由培训评价组织制定．考核大纲明确了初级·中级·高级的能力要求，１２３４。",
        "  职 业 技 能 等 级 证 书 a b c / 培训方案 - 由 培训评价组织 制定 ; 考核大纲 ' 明确了 初级 中级 高级 的能力要求 1 2 3 4 ? ",
    ];
    let reference = hasher.signature(plain).unwrap();
    for v in variants {
        assert_eq!(normalize(v), normalize(plain), "{v}");
        assert_eq!(hasher.signature(v).unwrap(), reference, "{v}");
        assert_eq!(exact_jaccard(plain, v, 5), 1.0);
    }
    // Ideographic numbers are text, not punctuation.
    assert_eq!(
        normalize("二〇二四年"),
        "二〇二四年".chars().collect::<Vec<_>>()
    );
    // A real change does change it.
    let changed = plain.replace("初级", "四级");
    assert_ne!(hasher.signature(&changed).unwrap(), reference);
}

#[test]
fn short_texts_have_no_signature() {
    let hasher = MinHasher::default_for_documents();
    assert_eq!(hasher.signature(""), None);
    assert_eq!(hasher.signature("你好，世界。"), None);
    // n distinct characters give n − 4 distinct 5-character shingles.
    let mut seen = std::collections::HashSet::new();
    let distinct: String = WORDS
        .concat()
        .chars()
        .filter(|&c| seen.insert(c))
        .take(MIN_SHINGLES + 4)
        .collect();
    assert_eq!(distinct.chars().count(), MIN_SHINGLES + 4);
    assert!(hasher.signature(&distinct).is_some());
    let one_short: String = distinct.chars().take(MIN_SHINGLES + 3).collect();
    assert_eq!(hasher.signature(&one_short), None);
    // A long text of one repeated phrase has few distinct shingles.
    assert_eq!(hasher.signature(&"职业技能".repeat(500)), None);
}

#[test]
fn exact_jaccard_matches_hand_counts() {
    // {abc, bcd, cde, def} vs {abc, bcd, cde, deg}: 3 shared of 5.
    assert!((exact_jaccard("abcdef", "abcdeg", 3) - 0.6).abs() < 1e-12);
    assert!((exact_jaccard("ab,c DEF", "abcdeg", 3) - 0.6).abs() < 1e-12);
    // 职业 业技 技能 能等 等级 + 级证 证书 / 级标 标准: 5 shared of 9.
    assert!((exact_jaccard("职业技能等级证书", "职业技能等级标准", 2) - 5.0 / 9.0).abs() < 1e-12);
    assert_eq!(exact_jaccard("", "。", 5), 1.0);
    assert_eq!(exact_jaccard("", "职业技能等级", 5), 0.0);
}

#[test]
fn signatures_round_trip_through_bytes() {
    let hasher = MinHasher::new(64, 4, 99);
    let text = document(&mut StdRng::seed_from_u64(4), 10).concat();
    let sig = hasher.signature(&text).unwrap();
    assert_eq!(sig.0.len(), 64);
    let bytes = sig.to_bytes();
    assert_eq!(bytes.len(), 256);
    assert_eq!(&bytes[..4], &sig.0[0].to_le_bytes());
    assert_eq!(Signature::from_bytes(&bytes), Some(sig.clone()));
    assert_eq!(Signature::from_bytes(&bytes[..255]), None);
    assert_eq!(Signature::from_bytes(&[]), None);
    // Same parameters, same signature; another seed, another one.
    assert_eq!(
        MinHasher::new(64, 4, 99).signature(&text),
        Some(sig.clone())
    );
    assert_ne!(
        MinHasher::new(64, 4, 100).signature(&text),
        Some(sig.clone())
    );
    assert_eq!(estimate_jaccard(&sig, &sig), 1.0);
    assert_eq!(estimate_jaccard(&sig, &Signature(vec![0; 32])), 0.0);
}

#[test]
fn lsh_bands_follow_the_s_curve() {
    assert_eq!(lsh_bands(128, 0.8), (32, 4));
    assert_eq!(lsh_bands(128, 0.5), (64, 2));
    assert_eq!(lsh_bands(128, 0.9), (21, 6));
    assert_eq!(lsh_bands(128, 1.0), (1, 128));
    // At the threshold a pair shares a band with probability 1 − (1 − t^r)^b ≥ 1 − 10⁻⁶.
    for t in [0.6, 0.7, 0.75, 0.85, 0.95] {
        let (b, r) = lsh_bands(128, t);
        assert!(b * r <= 128);
        let miss = (1.0 - t.powi(r as i32)).powi(b as i32);
        assert!(miss <= 1e-6, "{t}: {b}×{r} misses {miss}");
    }
}

#[test]
fn groups_join_chains_and_skip_mismatched_signatures() {
    // Hand-made signatures: 0 ~ 1 ~ 2 in a chain (0 and 2 further apart), 3 alone, 4 of
    // another length.
    let base: Vec<u32> = (0..128).collect();
    let mut one = base.clone();
    one[..10].iter_mut().for_each(|v| *v += 1000);
    let mut two = one.clone();
    two[10..20].iter_mut().for_each(|v| *v += 1000);
    let alone: Vec<u32> = (1000..1128).collect();
    let sigs = vec![
        (10, Signature(base.clone())),
        (11, Signature(one)),
        (12, Signature(two)),
        (13, Signature(alone)),
        (14, Signature(base[..64].to_vec())),
    ];
    let groups = near_duplicate_groups(&sigs, 0.9);
    assert_eq!(
        groups,
        vec![NearGroup {
            members: vec![10, 11, 12],
            pairs: vec![(10, 11, 118.0 / 128.0), (11, 12, 118.0 / 128.0)],
        }]
    );
    // At 0.8 the ends (108 of 128 equal) are a verified pair too.
    let groups = near_duplicate_groups(&sigs, 0.8);
    assert_eq!(groups[0].pairs.len(), 3);
    assert!(near_duplicate_groups(&[], 0.8).is_empty());
}

#[test]
fn ten_thousand_signatures_group_quickly() {
    let hasher = MinHasher::default_for_documents();
    let mut rng = StdRng::seed_from_u64(5);
    let mut texts: Vec<String> = (0..10_000)
        .map(|_| document(&mut rng, 8).concat())
        .collect();
    // 300 planted near copies: document 2k+1 is document 2k with one character changed.
    for k in 0..300 {
        let (a, b) = (2 * k, 2 * k + 1);
        let mut chars: Vec<char> = texts[a].chars().collect();
        let at = rng.gen_range(0..chars.len());
        chars[at] = if chars[at] == '证' { '书' } else { '证' };
        texts[b] = chars.into_iter().collect();
    }
    let started = Instant::now();
    let sigs: Vec<(usize, Signature)> = texts
        .par_iter()
        .enumerate()
        .filter_map(|(i, t)| hasher.signature(t).map(|s| (i, s)))
        .collect();
    let signed = started.elapsed();
    assert_eq!(sigs.len(), texts.len());
    let started = Instant::now();
    let groups = near_duplicate_groups(&sigs, 0.8);
    let grouped = started.elapsed();
    eprintln!(
        "10,000 signatures: computed in {:.3} s, grouped in {:.3} s",
        signed.as_secs_f64(),
        grouped.as_secs_f64()
    );
    let members: Vec<Vec<usize>> = groups.into_iter().map(|g| g.members).collect();
    let expected: Vec<Vec<usize>> = (0..300).map(|k| vec![2 * k, 2 * k + 1]).collect();
    assert_eq!(members, expected);
}
