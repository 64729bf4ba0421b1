//! Seeded generator of a realistic tree of declaration materials (申报材料) for benchmarks
//! and end-to-end tests, together with the ground truth of what it wrote: a [`Manifest`].
//!
//! The tree has one folder per unit, category folders with names that vary between units,
//! certificate proposal folders with their annexes (some deliberately left out), media that
//! fill the byte budget, exact and near copies across units, and traps: unreadable PDFs,
//! uninformative names, docx saved as .pdf, empty files, hard links, media pairs that agree
//! in size (and head and tail) but not in content, and zip archives with GBK names.
//!
//! Ground-truth conventions:
//! - Every document's `category` is the category of the folder it was written for. Annex
//!   documents are [`Category::Other`], except the assessment scheme (附件3 考核方案), which
//!   is [`Category::AssessmentOutline`]. Media are [`Category::OnlineResources`]; zip
//!   archives are [`Category::Other`]; hard links and copies keep their original's category.
//! - `text_sample` is the first 2,000 characters of the text written into the document, one
//!   line per paragraph (docx), text line (pdf), text box (pptx) or row (xlsx: one cell a
//!   row, the title then one sentence each). Unreadable PDFs (`trap: "poor_text"`) still
//!   carry the text they hold.
//! - `units_missing_categories` lists, per unit, the categories for which the unit has no
//!   non-empty file (archive entries included).

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::docgen;
use crate::rawzip::{RawEntry, write_zip};
use crate::types::{Annex, Category, Kind};

/// What to generate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpusSpec {
    pub seed: u64,
    /// Target size of the tree in bytes (apparent sizes, hard links counted); the result is
    /// within ±10 % unless the documents alone exceed it.
    pub total_bytes: u64,
    pub units: usize,
    /// Share of documents copied byte-identically into another unit.
    pub copy_ratio: f64,
    /// Share of documents re-generated with a sentence or two changed.
    pub near_ratio: f64,
    pub archives: bool,
    pub hard_links: bool,
}

impl Default for CorpusSpec {
    fn default() -> Self {
        CorpusSpec {
            seed: 1,
            total_bytes: 200 << 20,
            units: 16,
            copy_ratio: 0.2,
            near_ratio: 0.05,
            archives: true,
            hard_links: true,
        }
    }
}

/// One file the generator wrote (or one entry inside a zip it wrote).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Relative to the root, '/'-separated; the first segment is the unit. Archive entries
    /// read "unit/…/资料汇编.zip/inner/path".
    pub path: String,
    pub unit: String,
    /// The content's real kind.
    pub kind: Kind,
    pub size: u64,
    pub category: Category,
    pub annex: Option<Annex>,
    pub certificate: Option<String>,
    pub copy_of: Option<String>,
    pub near_of: Option<String>,
    /// "poor_text", "extension_mismatch", "same_head_tail" or "same_size".
    pub trap: Option<String>,
    pub hard_link_of: Option<String>,
    pub empty: bool,
    pub text_sample: String,
}

/// The annexes a certificate proposal folder holds and those deliberately left out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateExpectation {
    pub unit: String,
    pub certificate: String,
    pub present: Vec<Annex>,
    pub missing: Vec<Annex>,
}

/// Ground truth for a generated tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub spec: CorpusSpec,
    pub files: Vec<ManifestFile>,
    pub certificates: Vec<CertificateExpectation>,
    pub units_missing_categories: Vec<(String, Vec<Category>)>,
}

const UNIT_NAMES: [&str; 20] = [
    "山东电力高等专科学校",
    "国网技术学院",
    "湖北省电力职业技术培训中心",
    "江苏电力职业技术学院",
    "浙江电力职业技术学院",
    "重庆电力高等专科学校",
    "长沙电力职业技术学院",
    "郑州电力高等专科学校",
    "武汉电力职业技术学院",
    "福建电力职业技术学院",
    "四川电力职业技术学院",
    "国网冀北电力技能培训中心",
    "国网辽宁省电力有限公司技能培训中心",
    "国网安徽省电力有限公司培训中心",
    "保定电力职业技术学院",
    "西安电力高等专科学校",
    "哈尔滨电力职业技术学院",
    "国网河南省电力公司技能培训中心",
    "广西电力职业技术学院",
    "国网新疆电力有限公司培训中心",
];

/// State Grid power certificates (国家电网电力类职业技能等级证书).
const CERTIFICATES: [&str; 11] = [
    "变电运维",
    "继电保护",
    "输电线路运检",
    "配电线路运检",
    "电力调度",
    "用电检查",
    "电能计量",
    "电力营销",
    "新能源运维",
    "电力电缆",
    "带电作业",
];

const LEVELS: [&str; 3] = ["初级", "中级", "高级"];
const PERSONS: [&str; 14] = [
    "张伟", "王芳", "李强", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周涛", "吴刚", "徐丽", "孙鹏",
    "马骏", "朱琳",
];
const PROVINCES: [&str; 8] = [
    "山东", "江苏", "湖北", "浙江", "河南", "四川", "福建", "安徽",
];
const TOPICS: [&str; 8] = [
    "设备巡视",
    "倒闸操作",
    "安全工器具使用",
    "故障处理",
    "接地线装设",
    "验电操作",
    "缺陷识别",
    "标准化作业",
];

/// Units with certificate proposal folders: the first ones, up to this many.
const CERTIFICATE_UNITS: usize = 6;

fn folder_variants(c: Category) -> &'static [&'static str] {
    match c {
        Category::TrainingScheme => &["培训指导方案", "培训方案", "培训指导方案及计划"],
        Category::AssessmentOutline => &["考核大纲", "考核大纲及评分标准"],
        Category::SampleQuestions => &["样题题库", "题库", "试题库"],
        Category::TeachingMaterials => &["教材", "教材讲义", "培训教材"],
        Category::OnlineResources => &["在线学习资源", "微课视频", "网络课程资源"],
        Category::ExpertTeam => &["专家师资团队", "师资队伍", "师资团队"],
        Category::ManagementSystem => &["管理制度", "规章制度"],
        Category::Agreement => &["协议文本", "合作协议"],
        Category::Other => &["其他材料", "其他"],
    }
}

/// File-name stems that say what a document is (slots filled like sentences).
fn name_stems(c: Category) -> &'static [&'static str] {
    match c {
        Category::TrainingScheme => &[
            "{cert}职业技能等级证书培训指导方案",
            "{cert}{level}培训实施方案",
            "{year}年{cert}培训计划",
            "培训方案（{cert}）",
            "Training scheme {year}",
        ],
        Category::AssessmentOutline => &[
            "{cert}{level}考核大纲",
            "{cert}职业技能等级考核大纲",
            "技能操作考核大纲（{level}）",
            "Assessment outline v{m}",
        ],
        Category::SampleQuestions => &[
            "{cert}{level}理论样题",
            "{cert}试题库",
            "技能操作样题{m}",
            "题库（{level}）",
            "Question bank {year}",
        ],
        Category::TeachingMaterials => &[
            "{cert}培训教材第{ch}章",
            "{cert}讲义",
            "教材讲义-{cert}基础",
            "{cert}实训指导书",
            "Lecture notes ch{ch}",
        ],
        Category::OnlineResources => &[
            "在线课程资源清单",
            "{cert}微课目录",
            "网络学习平台使用说明",
            "Online course list",
        ],
        Category::ExpertTeam => &[
            "师资队伍情况表",
            "专家团队简介",
            "{name}个人简历",
            "考评员名单",
            "Faculty list",
        ],
        Category::ManagementSystem => &[
            "培训管理办法",
            "考务管理制度",
            "{cert}证书试点工作管理办法",
            "学员管理规定",
            "实训安全管理制度",
            "Exam regulations",
        ],
        Category::Agreement => &[
            "校企合作协议",
            "{cert}证书试点合作协议",
            "共建实训基地协议书",
            "合作框架协议（盖章版）",
            "Cooperation agreement signed",
        ],
        Category::Other => &[
            "{year}年工作总结",
            "会议纪要",
            "情况说明",
            "申报材料清单",
            "学校基本情况",
            "Misc notes",
        ],
    }
}

fn category_pool(c: Category) -> &'static [&'static str] {
    match c {
        Category::TrainingScheme => &[
            "本方案依据《{cert}职业技能等级标准》制定，适用于{level}证书的培训组织与实施。",
            "培训对象为电力类相关专业在校学生及企业在职员工，每期培训规模不超过{n}人。",
            "{level}培训总学时为{h}学时，其中理论教学{h2}学时，其余为实操训练。",
            "培训目标是使学员掌握{cert}岗位所需的基本知识和核心技能。",
            "培训内容按模块化设计，分为安全规程、基础理论、设备结构、操作技能和故障处理五个模块。",
            "培训方式采用线上线下相结合，理论部分依托网络学习平台开展自主学习。",
            "实训环节在{unit}实训基地开展，实行小班化教学，每组学员不超过{m}人。",
            "培训师资由院校专业教师和企业技术专家共同组成，实行双导师制。",
            "培训过程中实行过程性考核与终结性考核相结合的评价方式。",
            "学员完成全部培训课时并经考核合格后，方可报名参加{cert}{level}证书考核。",
            "培训计划每学期初编制，报试点工作领导小组审定后执行。",
            "各培训模块应明确学习目标、主要内容、教学方法和学时分配。",
            "{year}年计划开展{cert}培训{m}期，累计培训学员{n}人次。",
            "培训教学应突出岗位能力导向，强化现场标准化作业流程训练。",
        ],
        Category::AssessmentOutline => &[
            "本大纲规定了{cert}职业技能等级{level}考核的内容、方式和评分标准。",
            "考核分为理论知识考试和技能操作考核两部分，均实行百分制，{p}分及以上为合格。",
            "理论知识考试采用闭卷机考方式，考试时间为{t}分钟。",
            "理论试题题型包括单项选择题、多项选择题和判断题，共{n}道。",
            "技能操作考核采用现场实操方式，考核时间不超过{t}分钟。",
            "考核内容涵盖安全作业规范、设备巡视检查、倒闸操作和异常处理等项目。",
            "考核要点一：能够正确执行工作票和操作票制度。",
            "考核要点二：能够识别设备常见缺陷并提出处理意见。",
            "考核要点三：能够按照标准化作业指导书完成{cert}典型作业项目。",
            "各考核项目的权重分配见附表，理论知识占{w}%，技能操作占其余部分。",
            "考生出现严重违反安全规程的行为时，该项技能考核按零分处理。",
            "考评员应按照评分细则独立评分，评分记录须签字确认。",
            "本大纲自{year}年起执行，由证书培训评价组织负责解释。",
        ],
        Category::SampleQuestions => &[
            "单选题：{cert}作业前必须办理的安全组织措施是（  ）。A.工作票 B.交接班记录 C.值班日志 D.巡视记录",
            "判断题：在带电设备附近作业时可以不设专人监护。（  ）",
            "多选题：下列属于保证安全的技术措施的有（  ）。A.停电 B.验电 C.装设接地线 D.悬挂标示牌",
            "简答题：简述{cert}作业中倒闸操作的基本步骤。",
            "计算题：某线路额定电压为{kv}kV，负荷电流为{n}A，求线路输送的视在功率。",
            "参考答案：A；评分标准：答对得{s}分，答错不得分。",
            "题库共收录{level}试题{n}道，其中理论题{m}道。",
            "实操样题：按照作业指导书完成{cert}典型缺陷的检查与处理，限时{t}分钟。",
            "案例分析题：结合某{kv}kV变电站跳闸事故，分析事故原因并提出防范措施。",
            "填空题：电力安全工作规程规定，高压电气设备是指电压等级在1000V以上者。",
            "题目难度分为易、中、难三级，组卷时按3:5:2的比例抽取。",
            "试题编号：T{code}，知识点：{cert}基础理论，难度：中。",
        ],
        Category::TeachingMaterials => &[
            "第{ch}章 {cert}概述",
            "本章介绍{cert}的基本概念、工作任务和岗位要求。",
            "电力系统由发电、输电、变电、配电和用电五个环节组成。",
            "学习目标：掌握{cert}相关设备的结构原理和运行维护要求。",
            "变压器是利用电磁感应原理改变交流电压的静止电气设备。",
            "断路器能够在正常和故障情况下接通和断开电路。",
            "继电保护装置应满足选择性、速动性、灵敏性和可靠性的基本要求。",
            "本节思考题：简述设备巡视的主要内容和注意事项。",
            "教材编写以岗位工作过程为主线，配套数字化教学资源。",
            "图{ch}-{m}所示为典型的{kv}kV变电站电气主接线。",
            "本教材适用于{cert}{level}培训教学使用。",
            "第{ch}节 安全工器具的使用与保管",
        ],
        Category::OnlineResources => &[
            "在线课程《{cert}实务》共{n}个微课视频，总时长{m}分钟。",
            "学习平台地址已在培训通知中发布，学员使用学号登录。",
            "资源类型包括微课视频、动画演示、虚拟仿真和在线测试。",
            "第{ch}讲：{cert}标准化作业流程演示。",
            "视频分辨率为1920×1080，格式为MP4。",
            "在线资源累计访问量达到{n}人次。",
            "虚拟仿真实训项目支持学员在线完成{cert}典型操作练习。",
            "资源更新周期为每学期一次，由课程负责人维护。",
            "每个微课配有学习任务单和课后习题。",
            "在线测试题库与{level}考核大纲知识点一一对应。",
        ],
        Category::ExpertTeam => &[
            "姓名：{name}，职称：高级工程师，从事{cert}工作{m}年。",
            "师资团队共{n}人，其中高级职称{m}人，企业兼职教师占比{p}%。",
            "团队带头人{name}，教授级高级工程师，国家电网公司技能专家。",
            "{name}，副教授，主要讲授{cert}相关课程，曾获省级教学成果奖。",
            "考评员均取得{cert}考评员资格证书，具有{m}年以上现场工作经验。",
            "团队成员参与编写{cert}培训教材{m}部。",
            "专家团队负责培训方案审定、题库建设和考核质量督导。",
            "师资培训每年不少于{m}次，确保教师掌握最新技术标准。",
            "{name}，技师，全国电力行业技术能手，承担实操教学任务。",
            "团队结构合理，老中青搭配，双师型教师比例达到{p}%。",
        ],
        Category::ManagementSystem => &[
            "第一条 为规范{cert}职业技能等级证书试点工作，制定本办法。",
            "第二条 本办法适用于{unit}组织的培训、考核和证书管理工作。",
            "第三条 试点工作领导小组负责统筹协调试点工作中的重大事项。",
            "考务人员应严格遵守考试纪律，不得泄露试题和评分标准。",
            "学员档案应完整保存，保存期限不少于{m}年。",
            "培训经费实行专款专用，接受财务审计监督。",
            "考核站点应建立设备台账和安全检查制度。",
            "对违反考核纪律的考生，视情节给予警告、取消成绩等处理。",
            "证书信息应在{m}个工作日内录入证书信息管理服务平台。",
            "本办法自印发之日起施行，由教务处负责解释。",
            "质量监控实行月度检查和年度评估相结合的制度。",
            "第{ch}条 教师应当按照培训计划组织教学，不得擅自调课停课。",
        ],
        Category::Agreement => &[
            "甲方：{unit}；乙方：国网{prov}省电力有限公司。",
            "双方本着优势互补、资源共享、互利共赢的原则，经友好协商达成如下协议。",
            "甲方负责提供培训场地、教学设施和理论师资。",
            "乙方负责提供实训设备、现场技术专家和实习岗位。",
            "双方共同开展{cert}职业技能等级证书的培训与考核工作。",
            "本协议有效期为{m}年，自双方签字盖章之日起生效。",
            "协议期满前{n}日内，双方可协商续签。",
            "因本协议发生的争议，双方应友好协商解决。",
            "本协议一式四份，甲乙双方各执两份，具有同等法律效力。",
            "甲方代表（签字）：          乙方代表（签字）：",
            "合作期间，乙方每年接收甲方学员顶岗实习不少于{n}人。",
            "双方应对合作过程中知悉的商业秘密承担保密义务。",
        ],
        Category::Other => &[
            "{unit}{year}年工作总结",
            "会议纪要：研究{cert}证书试点申报工作有关事项。",
            "参会人员：试点工作领导小组全体成员。",
            "附：试点院校基本情况统计表。",
            "学校现有在校生{n}人，开设电力类专业{m}个。",
            "近三年获得省部级以上教学奖励{m}项。",
            "联系人：{name}，联系电话：0531-{tel}。",
            "特此说明。",
            "情况说明：因疫情原因，部分培训改为线上进行。",
            "学校建有实训基地{m}个，实训工位{n}个。",
            "请各单位于{year}年{mon}月底前报送相关材料。",
            "本次申报材料清单如下。",
        ],
    }
}

fn annex_pool(a: Annex) -> &'static [&'static str] {
    match a {
        Annex::Standard => &[
            "本标准规定了{cert}职业技能等级对应的工作领域、工作任务及职业技能要求。",
            "本标准适用于{cert}职业技能培训、考核与评价。",
            "{cert}职业技能等级分为初级、中级、高级三个等级，三个级别依次递进，高级别涵盖低级别职业技能要求。",
            "初级：能够在指导下完成设备巡视、简单操作和日常维护工作。",
            "中级：能够独立完成{cert}常规作业项目，并能处理一般异常情况。",
            "高级：能够组织复杂作业项目，分析处理疑难故障，指导初中级人员工作。",
            "面向院校专业：中职电力系统自动化技术、高职发电厂及电力系统、本科电气工程及其自动化。",
            "面向职业岗位（群）：主要面向供电企业、发电企业、电力工程公司从事{cert}相关岗位。",
            "职业技能要求表中的工作领域包括安全作业、设备运维、故障处理三个方面。",
            "术语和定义：下列术语和定义适用于本标准。",
            "规范性引用文件：GB 26860 电力安全工作规程 发电厂和变电站电气部分。",
            "本标准起草单位：国家电网有限公司技术学院分公司等。",
        ],
        Annex::PilotMatters => &[
            "{cert}职业技能等级证书试点工作有关事项说明如下。",
            "试点范围：拟在全国{n}所院校开展试点，首批试点规模约{m}千人。",
            "试点院校应具备相应专业、师资和实训条件。",
            "证书培训评价组织负责证书标准开发、教材资源建设和考核组织实施。",
            "试点院校负责将证书培训内容融入专业人才培养方案。",
            "学分银行：取得证书的学员可按规定申请学习成果认定、积累与转换。",
            "试点时间安排：{year}年完成标准发布和师资培训，次年开展首次考核。",
            "试点院校申报程序为院校自愿申请、省级教育行政部门审核、统一公布。",
            "试点经费由院校按有关规定统筹安排。",
            "试点过程中发现的问题应及时报告证书培训评价组织。",
            "证书有效期为{m}年，期满后按规定进行复审。",
        ],
        Annex::AssessmentScheme => &[
            "{cert}职业技能等级证书考核方案",
            "考核对象为完成相应等级培训的院校学生和社会学习者。",
            "考核方式包括理论知识考试和实操技能考核，两部分成绩均合格方可获得证书。",
            "理论知识考试在考核站点机房进行，采用计算机在线考试。",
            "实操技能考核在考核站点实训场地进行，每名考生独立完成。",
            "考核组织流程：报名、资格审核、考核安排、考核实施、成绩评定、证书发放。",
            "每个考场配备考评员不少于{m}名，督导员1名。",
            "考核时长：理论考试{t}分钟，实操考核{t2}分钟。",
            "考核结果在考核结束后{n}个工作日内公布。",
            "考生对考核成绩有异议的，可在公布之日起{m}日内申请复核。",
            "考核每年组织{m}次，原则上安排在学期末。",
        ],
        Annex::ExamSiteStandard => &[
            "{cert}考核站点建设标准",
            "考核站点应具备独立的理论考场和实操考场，面积不少于{n}平方米。",
            "理论考场应配备计算机不少于{m}十台，网络带宽不低于100Mbps。",
            "实操考场应配置{kv}kV仿真变电站或实训线路等考核设备。",
            "考核站点应配备视频监控系统，实现考核过程全程录像。",
            "考核站点应配备安全工器具、急救药箱和消防器材。",
            "考核站点应有专职管理人员不少于{m}名。",
            "考核站点应制定考务管理、设备管理和安全管理等制度。",
            "考核站点设备配置清单见附表。",
            "考核站点由证书培训评价组织审核认定，有效期{m}年。",
        ],
        Annex::CostAccounting => &[
            "考核成本核算方案",
            "成本项目：命题费，单价{y}元/人。",
            "成本项目：考评员劳务费，单价{y}元/人。",
            "成本项目：场地设备使用费，单价{y}元/人。",
            "成本项目：耗材费，单价{y}元/人。",
            "成本项目：证书制作及邮寄费，单价{y}元/人。",
            "成本项目：平台运维费，单价{y}元/人。",
            "人均考核成本合计约{y2}元。",
            "核算依据：按照每批次{n}人规模测算。",
            "成本核算遵循合理、节约、公开的原则。",
        ],
        Annex::ExpenseItems => &[
            "{cert}职业技能等级证书考核收费项目及依据",
            "收费项目：{level}考核费，收费标准{y}元/人次。",
            "收费依据：按照国家和省级价格主管部门有关规定执行。",
            "收费标准按照考核成本核算结果确定，不以营利为目的。",
            "补考收费：理论或实操单科补考按{p}%收取。",
            "收费单位应开具正式票据，接受社会监督。",
            "试点院校学生考核费用可由院校统筹支付。",
            "收费项目和标准在考核站点醒目位置公示。",
            "严禁在规定项目之外另行收取其他费用。",
            "退费规定：考生因故未参加考核的，按规定办理退费。",
        ],
        Annex::Feasibility => &[
            "{cert}职业技能等级证书必要性与可行性报告",
            "一、必要性分析",
            "随着新型电力系统建设加快推进，{cert}岗位人才需求持续增长。",
            "据统计，电力行业{cert}相关岗位从业人员约{n}万人，技能人才缺口较大。",
            "开发{cert}职业技能等级证书有利于推动书证融通和复合型技术技能人才培养。",
            "二、可行性分析",
            "国家电网有限公司具有完善的技能培训体系和丰富的标准开发经验。",
            "已建成覆盖全国的培训基地{m}个，具备开展证书培训和考核的条件。",
            "相关院校开设电力类专业点{n}个，在校生规模较大，证书需求旺盛。",
            "三、风险分析及应对措施",
            "证书的推广实施将有效提升电力行业从业人员的职业能力。",
            "综上所述，开发{cert}职业技能等级证书是必要的，也是可行的。",
        ],
    }
}

/// Sentences any document may carry, whatever its category.
const BOILERPLATE: [&str; 6] = [
    "为深入贯彻落实《国家职业教育改革实施方案》，推进1+X证书制度试点工作，特制定本材料。",
    "本材料由{unit}编制。",
    "{year}年{mon}月",
    "（以下无正文）",
    "联系人：{name}",
    "本材料仅供1+X证书制度试点申报使用，请勿外传。",
];

fn annex_ext(a: Annex) -> &'static str {
    match a {
        Annex::CostAccounting => "xlsx",
        Annex::ExpenseItems | Annex::Feasibility => "pdf",
        _ => "docx",
    }
}

/// The category an annex document counts as (the classifier's rule, so the ground truth
/// and the engine agree).
pub use crate::classify::annex_category;

const TEXT_SAMPLE_CHARS: usize = 2000;
const MEDIA_CHUNK: usize = 1 << 20;
const TRAP_EDGE: u64 = 16 << 10;
const MIN_MEDIA: u64 = 100 << 10;

/// A document's content, from which its bytes are rendered deterministically.
#[derive(Debug, Clone)]
struct Doc {
    title: String,
    lines: Vec<String>,
    kind: Kind,
}

impl Doc {
    /// The bytes and the text written into them.
    fn render(&self, to_unicode: bool) -> (Vec<u8>, String) {
        match self.kind {
            Kind::Pdf => {
                let all: Vec<String> = std::iter::once(self.title.clone())
                    .chain(self.lines.iter().cloned())
                    .collect();
                (docgen::pdf(&all, to_unicode), all.join("\n"))
            }
            Kind::Pptx => {
                let mut slides: Vec<Vec<String>> = vec![vec![self.title.clone()]];
                for chunk in self.lines.chunks(4) {
                    slides.push(chunk.to_vec());
                }
                let text = slides
                    .iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n");
                (docgen::pptx(&self.title, &slides), text)
            }
            Kind::Xlsx => {
                let mut rows: Vec<Vec<String>> = vec![vec![self.title.clone()]];
                // One sentence a row, unnumbered, so that a near copy with a line inserted
                // differs in that line only.
                for l in &self.lines {
                    rows.push(vec![l.clone()]);
                }
                let text = rows
                    .iter()
                    .map(|r| r.join("\t"))
                    .collect::<Vec<_>>()
                    .join("\n");
                (docgen::xlsx(&self.title, &rows), text)
            }
            _ => {
                let text = std::iter::once(self.title.clone())
                    .chain(self.lines.iter().cloned())
                    .collect::<Vec<_>>()
                    .join("\n");
                (docgen::docx(&self.title, &self.lines), text)
            }
        }
    }
}

fn ext_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Pdf => "pdf",
        Kind::Pptx => "pptx",
        Kind::Xlsx => "xlsx",
        _ => "docx",
    }
}

fn sample(text: &str) -> String {
    text.chars().take(TEXT_SAMPLE_CHARS).collect()
}

/// Per-unit facts the generator needs while writing.
struct Unit {
    name: String,
    /// Folder of each present category, relative to the root.
    folders: Vec<(Category, String)>,
    /// Certificates the unit trains for (fills `{cert}` slots).
    focus: Vec<&'static str>,
}

impl Unit {
    fn folder(&self, c: Category) -> Option<&str> {
        self.folders
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, f)| f.as_str())
    }
}

/// A written top-level document that copies and near copies may start from.
struct Written {
    file: usize,
    unit: usize,
    doc: Doc,
}

struct Gen<'a> {
    root: &'a Path,
    rng: StdRng,
    files: Vec<ManifestFile>,
    used: BTreeSet<String>,
    written: u64,
    progress: &'a mut dyn FnMut(u64),
}

impl Gen<'_> {
    /// Fills `{slot}`s of a template.
    fn fill(&mut self, template: &str, unit: &Unit) -> String {
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let key = &rest[start + 1..start + len];
            let r = &mut self.rng;
            let value = match key {
                "cert" => unit
                    .focus
                    .choose(r)
                    .copied()
                    .unwrap_or("变电运维")
                    .to_string(),
                "level" => LEVELS.choose(r).copied().unwrap_or("中级").to_string(),
                "unit" => unit.name.clone(),
                "name" => PERSONS.choose(r).copied().unwrap_or("张伟").to_string(),
                "prov" => PROVINCES.choose(r).copied().unwrap_or("山东").to_string(),
                "n" => r.gen_range(10..500).to_string(),
                "m" => r.gen_range(2..13).to_string(),
                "h" => (r.gen_range(4..17) * 10).to_string(),
                "h2" => (r.gen_range(2..9) * 5).to_string(),
                "year" => r.gen_range(2019..2024).to_string(),
                "mon" => r.gen_range(1..13).to_string(),
                "p" => r.gen_range(55..91).to_string(),
                "t" => (r.gen_range(6..13) * 10).to_string(),
                "t2" => (r.gen_range(3..10) * 10).to_string(),
                "w" => (r.gen_range(4..9) * 5).to_string(),
                "kv" => [10, 35, 110, 220, 500]
                    .choose(r)
                    .copied()
                    .unwrap_or(110)
                    .to_string(),
                "s" => r.gen_range(1..6).to_string(),
                "ch" => r.gen_range(1..13).to_string(),
                "code" => format!("{:05}", r.gen_range(0..100_000)),
                "tel" => format!("{:08}", r.gen_range(10_000_000..100_000_000)),
                "y" => (r.gen_range(2..61) * 10).to_string(),
                "y2" => (r.gen_range(20..121) * 10).to_string(),
                _ => rest[start..start + len + 1].to_string(),
            };
            out.push_str(&value);
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    /// A document of a category: 6–14 sentences of its pool, shuffled, with boilerplate.
    fn category_doc(&mut self, category: Category, kind: Kind, title: String, unit: &Unit) -> Doc {
        let pool = category_pool(category);
        let count = self.rng.gen_range(6..=14).min(pool.len());
        let picked: Vec<&str> = pool
            .choose_multiple(&mut self.rng, count)
            .copied()
            .collect();
        let mut lines: Vec<String> = picked.iter().map(|t| self.fill(t, unit)).collect();
        let extra = self.rng.gen_range(0..=2);
        let boiler: Vec<&str> = BOILERPLATE
            .choose_multiple(&mut self.rng, extra)
            .copied()
            .collect();
        for b in boiler {
            let line = self.fill(b, unit);
            let at = self.rng.gen_range(0..=lines.len());
            lines.insert(at, line);
        }
        Doc { title, lines, kind }
    }

    fn annex_doc(&mut self, annex: Annex, cert: &'static str, unit: &Unit) -> Doc {
        let cert_unit = Unit {
            name: unit.name.clone(),
            folders: Vec::new(),
            focus: vec![cert],
        };
        let pool = annex_pool(annex);
        // The first sentence of each pool is its heading-like statement; keep it first.
        let count = self.rng.gen_range(7..=pool.len());
        let mut rest: Vec<&str> = pool[1..].to_vec();
        rest.shuffle(&mut self.rng);
        rest.truncate(count - 1);
        let mut lines = vec![self.fill(pool[0], &cert_unit)];
        for t in rest {
            lines.push(self.fill(t, &cert_unit));
        }
        lines.push(self.fill("{unit}", &cert_unit));
        let kind = match annex_ext(annex) {
            "xlsx" => Kind::Xlsx,
            "pdf" => Kind::Pdf,
            _ => Kind::Docx,
        };
        Doc {
            title: format!("{cert}{}", annex.zh()),
            lines,
            kind,
        }
    }

    /// A path not used yet: `dir/stem.ext`, or `dir/stem (n).ext`.
    fn unique(&mut self, dir: &str, stem: &str, ext: &str) -> String {
        let dot = if ext.is_empty() { "" } else { "." };
        let mut path = format!("{dir}/{stem}{dot}{ext}");
        let mut n = 2;
        while self.used.contains(&path) {
            path = format!("{dir}/{stem} ({n}){dot}{ext}");
            n += 1;
        }
        self.used.insert(path.clone());
        path
    }

    fn write_bytes(&mut self, rel: &str, data: &[u8]) -> io::Result<()> {
        let full = self.root.join(rel);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&full, data)?;
        self.written += data.len() as u64;
        (self.progress)(self.written);
        Ok(())
    }

    fn record(
        &mut self,
        path: String,
        unit: &str,
        kind: Kind,
        size: u64,
        category: Category,
        text: &str,
    ) -> usize {
        self.files.push(ManifestFile {
            path,
            unit: unit.to_string(),
            kind,
            size,
            category,
            annex: None,
            certificate: None,
            copy_of: None,
            near_of: None,
            trap: None,
            hard_link_of: None,
            empty: size == 0,
            text_sample: sample(text),
        });
        self.files.len() - 1
    }

    fn pick_kind(&mut self, category: Category) -> Kind {
        // Weights docx, pdf, pptx, xlsx by category.
        let w: [u32; 4] = match category {
            Category::SampleQuestions => [35, 20, 5, 40],
            Category::ExpertTeam => [40, 20, 0, 40],
            Category::TeachingMaterials => [35, 30, 35, 0],
            Category::TrainingScheme => [55, 25, 15, 5],
            Category::OnlineResources => [40, 10, 20, 30],
            Category::Agreement => [55, 45, 0, 0],
            _ => [55, 35, 5, 5],
        };
        let total: u32 = w.iter().sum();
        let mut x = self.rng.gen_range(0..total);
        for (i, k) in [Kind::Docx, Kind::Pdf, Kind::Pptx, Kind::Xlsx]
            .into_iter()
            .enumerate()
        {
            if x < w[i] {
                return k;
            }
            x -= w[i];
        }
        Kind::Docx
    }

    /// An uninformative file stem (扫描件, 新建文档 …) for a kind.
    fn vague_stem(&mut self, kind: Kind) -> String {
        let n = self.rng.gen_range(1..40);
        let options: Vec<String> = match kind {
            Kind::Pdf => vec![
                format!("扫描件{n:03}"),
                format!("IMG_2021{:04}", self.rng.gen_range(101..1231)),
                "scan".to_string(),
            ],
            Kind::Pptx => vec![
                format!("演示文稿{n}"),
                "新建 Microsoft PowerPoint 演示文稿".into(),
            ],
            Kind::Xlsx => vec![
                format!("新建 Microsoft Excel 工作表 ({n})"),
                format!("Book{n}"),
            ],
            _ => vec![
                format!("新建 Microsoft Word 文档 ({n})"),
                format!("final_v{}", n % 5 + 1),
                format!("文档{n}"),
            ],
        };
        options
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or_else(|| format!("文档{n}"))
    }
}

/// Generates the tree under `root` (which should be empty) and returns its ground truth.
/// `progress` receives the number of bytes written so far.
pub fn generate(
    root: &Path,
    spec: &CorpusSpec,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Manifest> {
    fs::create_dir_all(root)?;
    let mut g = Gen {
        root,
        rng: StdRng::seed_from_u64(spec.seed),
        files: Vec::new(),
        used: BTreeSet::new(),
        written: 0,
        progress,
    };
    let units = plan_units(&mut g, spec);
    let mut certificates = Vec::new();
    let mut written_docs: Vec<Written> = Vec::new();

    // Documents per category folder, fewer when the byte budget is small (≈ 8 KB each).
    let folders: u64 = units.iter().map(|u| u.folders.len() as u64).sum();
    let per_folder_cap = (spec.total_bytes / 3 / (folders.max(1) * 8_000)).clamp(1, 7) as usize;

    for (ui, unit) in units.iter().enumerate() {
        write_category_docs(&mut g, ui, unit, per_folder_cap, &mut written_docs)?;
        if ui < CERTIFICATE_UNITS {
            certificates.extend(write_certificates(&mut g, unit)?);
        }
    }
    write_misnamed_and_empty(&mut g, &units)?;
    if spec.archives {
        write_archives(&mut g, &units)?;
    }
    write_copies(&mut g, &units, &written_docs, spec.copy_ratio)?;
    write_near_copies(&mut g, &units, &written_docs, spec.near_ratio)?;
    if spec.hard_links {
        write_hard_links(&mut g, &written_docs)?;
    }
    write_media(&mut g, &units, spec.total_bytes)?;

    let mut units_missing_categories = Vec::new();
    for unit in &units {
        let missing: Vec<Category> = Category::ALL
            .into_iter()
            .filter(|c| {
                !g.files
                    .iter()
                    .any(|f| f.unit == unit.name && f.category == *c && !f.empty)
            })
            .collect();
        if !missing.is_empty() {
            units_missing_categories.push((unit.name.clone(), missing));
        }
    }
    Ok(Manifest {
        spec: spec.clone(),
        files: g.files,
        certificates,
        units_missing_categories,
    })
}

fn plan_units(g: &mut Gen, spec: &CorpusSpec) -> Vec<Unit> {
    let mut units = Vec::with_capacity(spec.units);
    for i in 0..spec.units {
        let base = UNIT_NAMES[i % UNIT_NAMES.len()];
        let name = if i < UNIT_NAMES.len() {
            base.to_string()
        } else {
            format!("{base}{}", i / UNIT_NAMES.len() + 1)
        };
        let numbered = g.rng.gen_bool(0.5);
        // About a quarter of the units (never the first) leave out one or two categories.
        let mut omitted: Vec<Category> = Vec::new();
        if i > 0 && g.rng.gen_bool(0.25) {
            let optional = [
                Category::SampleQuestions,
                Category::TeachingMaterials,
                Category::OnlineResources,
                Category::ExpertTeam,
                Category::ManagementSystem,
                Category::Agreement,
            ];
            let k = g.rng.gen_range(1..=2);
            omitted = optional.choose_multiple(&mut g.rng, k).copied().collect();
        }
        let mut folders = Vec::new();
        for (ci, c) in Category::ALL.into_iter().enumerate() {
            if omitted.contains(&c) {
                continue;
            }
            let variant = folder_variants(c)
                .choose(&mut g.rng)
                .copied()
                .unwrap_or("其他");
            let folder = if numbered {
                format!("{name}/{:02}-{variant}", ci + 1)
            } else {
                format!("{name}/{variant}")
            };
            folders.push((c, folder));
        }
        let k = g.rng.gen_range(1..=3);
        let focus: Vec<&'static str> = CERTIFICATES
            .choose_multiple(&mut g.rng, k)
            .copied()
            .collect();
        units.push(Unit {
            name,
            folders,
            focus,
        });
    }
    units
}

fn write_category_docs(
    g: &mut Gen,
    ui: usize,
    unit: &Unit,
    per_folder_cap: usize,
    written_docs: &mut Vec<Written>,
) -> io::Result<()> {
    for (category, folder) in &unit.folders {
        let count = g.rng.gen_range(1..=per_folder_cap.max(1));
        for _ in 0..count {
            let kind = g.pick_kind(*category);
            let stem_t = name_stems(*category)
                .choose(&mut g.rng)
                .copied()
                .unwrap_or("材料");
            let title = g.fill(stem_t, unit);
            let doc = g.category_doc(*category, kind, title.clone(), unit);
            // About one in eight documents gets a name that says nothing.
            let stem = if g.rng.gen_ratio(1, 8) {
                g.vague_stem(kind)
            } else {
                title
            };
            let poor = kind == Kind::Pdf && g.rng.gen_ratio(1, 12);
            let path = g.unique(folder, &stem, ext_of(kind));
            let (bytes, text) = doc.render(!poor);
            g.write_bytes(&path, &bytes)?;
            let idx = g.record(path, &unit.name, kind, bytes.len() as u64, *category, &text);
            if poor {
                g.files[idx].trap = Some("poor_text".into());
            } else {
                written_docs.push(Written {
                    file: idx,
                    unit: ui,
                    doc,
                });
            }
        }
    }
    Ok(())
}

fn write_certificates(g: &mut Gen, unit: &Unit) -> io::Result<Vec<CertificateExpectation>> {
    let mut out = Vec::new();
    let k = g.rng.gen_range(1..=3);
    let certs: Vec<&'static str> = CERTIFICATES
        .choose_multiple(&mut g.rng, k)
        .copied()
        .collect();
    for cert in certs {
        let folder_name = match g.rng.gen_range(0..3) {
            0 => format!("{cert}证书申报材料"),
            1 => format!("证书申报-{cert}"),
            _ => format!("{cert}职业技能等级证书"),
        };
        let dir = format!("{}/{folder_name}", unit.name);
        let leave_out = g.rng.gen_range(0..=2);
        let missing: Vec<Annex> = {
            let mut m: Vec<Annex> = Annex::ALL
                .choose_multiple(&mut g.rng, leave_out)
                .copied()
                .collect();
            m.sort();
            m
        };
        let mut present = Vec::new();
        for annex in Annex::ALL {
            if missing.contains(&annex) {
                continue;
            }
            let doc = g.annex_doc(annex, cert, unit);
            let stem = format!("附件{} {cert}{}", annex.number(), annex.zh());
            let path = g.unique(&dir, &stem, annex_ext(annex));
            let (bytes, text) = doc.render(true);
            g.write_bytes(&path, &bytes)?;
            let idx = g.record(
                path,
                &unit.name,
                doc.kind,
                bytes.len() as u64,
                annex_category(annex),
                &text,
            );
            g.files[idx].annex = Some(annex);
            g.files[idx].certificate = Some(cert.to_string());
            present.push(annex);
        }
        out.push(CertificateExpectation {
            unit: unit.name.clone(),
            certificate: cert.to_string(),
            present,
            missing,
        });
    }
    Ok(out)
}

/// Docx saved with a .pdf extension, and empty files.
fn write_misnamed_and_empty(g: &mut Gen, units: &[Unit]) -> io::Result<()> {
    let mismatches = g.rng.gen_range(2..=3);
    for _ in 0..mismatches {
        let Some(unit) = units.choose(&mut g.rng) else {
            return Ok(());
        };
        let Some((category, folder)) = unit.folders.choose(&mut g.rng).cloned() else {
            continue;
        };
        let stem_t = name_stems(category)
            .choose(&mut g.rng)
            .copied()
            .unwrap_or("材料");
        let title = g.fill(stem_t, unit);
        let doc = g.category_doc(category, Kind::Docx, title.clone(), unit);
        let path = g.unique(&folder, &title, "pdf");
        let (bytes, text) = doc.render(true);
        g.write_bytes(&path, &bytes)?;
        let idx = g.record(
            path,
            &unit.name,
            Kind::Docx,
            bytes.len() as u64,
            category,
            &text,
        );
        g.files[idx].trap = Some("extension_mismatch".into());
    }
    const EMPTY_NAMES: [(&str, &str); 4] = [
        ("新建 Microsoft Word 文档", "docx"),
        ("待补充", "pdf"),
        ("新建文本文档", "txt"),
        ("附件（空）", "xlsx"),
    ];
    let empties = g.rng.gen_range(3..=4);
    for (stem, ext) in EMPTY_NAMES.iter().take(empties) {
        let Some(unit) = units.choose(&mut g.rng) else {
            return Ok(());
        };
        let Some((category, folder)) = unit.folders.choose(&mut g.rng).cloned() else {
            continue;
        };
        let path = g.unique(&folder, stem, ext);
        g.write_bytes(&path, &[])?;
        g.record(path, &unit.name, Kind::Empty, 0, category, "");
    }
    Ok(())
}

/// Short folder names used inside archives.
fn archive_dir(c: Category) -> &'static str {
    match c {
        Category::TrainingScheme => "培训方案",
        Category::AssessmentOutline => "考核大纲",
        Category::SampleQuestions => "题库",
        Category::TeachingMaterials => "教材",
        Category::OnlineResources => "在线资源",
        Category::ExpertTeam => "师资",
        Category::ManagementSystem => "管理制度",
        Category::Agreement => "协议",
        Category::Other => "其他",
    }
}

/// One document inside an archive: its name, bytes, and the manifest facts.
struct ArchiveDoc {
    name: String,
    bytes: Vec<u8>,
    kind: Kind,
    category: Category,
    text: String,
}

fn archive_docs(g: &mut Gen, unit: &Unit, count: usize) -> Vec<ArchiveDoc> {
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for _ in 0..count {
        let Some((category, _)) = unit.folders.choose(&mut g.rng).cloned() else {
            break;
        };
        let kind = g.pick_kind(category);
        let stem_t = name_stems(category)
            .choose(&mut g.rng)
            .copied()
            .unwrap_or("材料");
        let title = g.fill(stem_t, unit);
        let mut name = format!("{}/{title}.{}", archive_dir(category), ext_of(kind));
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{}/{title} ({n}).{}", archive_dir(category), ext_of(kind));
            n += 1;
        }
        names.insert(name.clone());
        let doc = g.category_doc(category, kind, title, unit);
        let (bytes, text) = doc.render(true);
        out.push(ArchiveDoc {
            name,
            bytes,
            kind,
            category,
            text,
        });
    }
    out
}

/// Zip of documents whose names are GBK without the UTF-8 flag, as Windows tools in China
/// write them.
fn gbk_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let names: Vec<Vec<u8>> = entries
        .iter()
        .map(|(n, _)| encoding_rs::GBK.encode(n).0.into_owned())
        .collect();
    let raw: Vec<RawEntry> = entries
        .iter()
        .zip(&names)
        .map(|((_, data), name)| RawEntry {
            name,
            data,
            utf8_flag: false,
            deflate: true,
            unix_mode: None,
            encrypted_flag: false,
            declared_size: None,
        })
        .collect();
    write_zip(&raw)
}

/// "资料汇编.zip" in a few units: documents and a nested "内层.zip".
fn write_archives(g: &mut Gen, units: &[Unit]) -> io::Result<()> {
    let n = units.len().min(3);
    let mut chosen: Vec<usize> = (0..units.len()).collect::<Vec<_>>();
    chosen.shuffle(&mut g.rng);
    chosen.truncate(n);
    chosen.sort_unstable();
    for ui in chosen {
        let unit = &units[ui];
        let dir = unit
            .folder(Category::Other)
            .map(str::to_string)
            .unwrap_or_else(|| unit.name.clone());
        let k = g.rng.gen_range(2..=3);
        let inner_docs = archive_docs(g, unit, k);
        let inner_entries: Vec<(&str, &[u8])> = inner_docs
            .iter()
            .map(|d| (d.name.as_str(), d.bytes.as_slice()))
            .collect();
        let inner = gbk_zip(&inner_entries);
        let k = g.rng.gen_range(3..=5);
        let outer_docs = archive_docs(g, unit, k);
        let mut outer_entries: Vec<(&str, &[u8])> = outer_docs
            .iter()
            .map(|d| (d.name.as_str(), d.bytes.as_slice()))
            .collect();
        const INNER_NAME: &str = "内层.zip";
        outer_entries.push((INNER_NAME, inner.as_slice()));
        let outer = gbk_zip(&outer_entries);
        let path = g.unique(&dir, "资料汇编", "zip");
        g.write_bytes(&path, &outer)?;
        g.record(
            path.clone(),
            &unit.name,
            Kind::Zip,
            outer.len() as u64,
            Category::Other,
            "",
        );
        for d in &outer_docs {
            let p = format!("{path}/{}", d.name);
            g.record(
                p,
                &unit.name,
                d.kind,
                d.bytes.len() as u64,
                d.category,
                &d.text,
            );
        }
        let inner_path = format!("{path}/{INNER_NAME}");
        g.record(
            inner_path.clone(),
            &unit.name,
            Kind::Zip,
            inner.len() as u64,
            Category::Other,
            "",
        );
        for d in &inner_docs {
            let p = format!("{inner_path}/{}", d.name);
            g.record(
                p,
                &unit.name,
                d.kind,
                d.bytes.len() as u64,
                d.category,
                &d.text,
            );
        }
    }
    Ok(())
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Byte-identical copies into another unit under another name.
fn write_copies(
    g: &mut Gen,
    units: &[Unit],
    written_docs: &[Written],
    ratio: f64,
) -> io::Result<()> {
    let ratio = ratio.clamp(0.0, 1.0);
    for w in written_docs {
        if !g.rng.gen_bool(ratio) {
            continue;
        }
        let original = g.files[w.file].clone();
        let targets: Vec<usize> = (0..units.len())
            .filter(|&u| u != w.unit && units[u].folder(original.category).is_some())
            .collect();
        let Some(&tu) = targets.choose(&mut g.rng) else {
            continue;
        };
        let target = &units[tu];
        let Some(folder) = target.folder(original.category).map(str::to_string) else {
            continue;
        };
        let stem_t = name_stems(original.category)
            .choose(&mut g.rng)
            .copied()
            .unwrap_or("材料");
        let mut stem = g.fill(stem_t, target);
        let ext = ext_of(w.doc.kind);
        if format!("{stem}.{ext}") == file_name(&original.path) {
            stem = format!("转发-{stem}");
        }
        let path = g.unique(&folder, &stem, ext);
        let full = g.root.join(&path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(g.root.join(&original.path), &full)?;
        g.written += original.size;
        (g.progress)(g.written);
        let mut copy = original.clone();
        copy.path = path;
        copy.unit = target.name.clone();
        copy.copy_of = Some(original.path.clone());
        g.files.push(copy);
    }
    Ok(())
}

/// Documents re-generated with one or two sentences changed, or one added.
fn write_near_copies(
    g: &mut Gen,
    units: &[Unit],
    written_docs: &[Written],
    ratio: f64,
) -> io::Result<()> {
    let ratio = ratio.clamp(0.0, 1.0);
    for w in written_docs {
        // Short documents would change too much to stay near.
        if w.doc.lines.len() < 8 || !g.rng.gen_bool(ratio) {
            continue;
        }
        let original = g.files[w.file].clone();
        let targets: Vec<usize> = (0..units.len())
            .filter(|&u| units[u].folder(original.category).is_some())
            .collect();
        let Some(&tu) = targets.choose(&mut g.rng) else {
            continue;
        };
        let target = &units[tu];
        let Some(folder) = target.folder(original.category).map(str::to_string) else {
            continue;
        };
        let source_unit = &units[w.unit];
        let mut doc = w.doc.clone();
        let pool = category_pool(original.category);
        let fresh = |g: &mut Gen, old: &[String]| -> String {
            // A sentence the document does not already hold.
            for _ in 0..20 {
                let t = pool.choose(&mut g.rng).copied().unwrap_or("特此说明。");
                let s = g.fill(t, source_unit);
                if !old.contains(&s) {
                    return s;
                }
            }
            format!("补充说明：本材料于{}年修订。", g.rng.gen_range(2019..2024))
        };
        match g.rng.gen_range(0..3) {
            0 | 1 => {
                let changes = g.rng.gen_range(1..=2);
                for _ in 0..changes {
                    let at = g.rng.gen_range(0..doc.lines.len());
                    doc.lines[at] = fresh(g, &doc.lines);
                }
            }
            _ => {
                let at = g.rng.gen_range(0..=doc.lines.len());
                let s = fresh(g, &doc.lines);
                doc.lines.insert(at, s);
            }
        }
        let stem_t = name_stems(original.category)
            .choose(&mut g.rng)
            .copied()
            .unwrap_or("材料");
        let stem = format!("{}（修订）", g.fill(stem_t, target));
        let path = g.unique(&folder, &stem, ext_of(doc.kind));
        let (bytes, text) = doc.render(true);
        g.write_bytes(&path, &bytes)?;
        let idx = g.record(
            path,
            &target.name,
            doc.kind,
            bytes.len() as u64,
            original.category,
            &text,
        );
        g.files[idx].near_of = Some(original.path.clone());
    }
    Ok(())
}

/// Hard links to a few documents, in a "备份" folder of the same unit.
fn write_hard_links(g: &mut Gen, written_docs: &[Written]) -> io::Result<()> {
    let k = g.rng.gen_range(3..=4).min(written_docs.len());
    let picked: Vec<usize> = written_docs
        .choose_multiple(&mut g.rng, k)
        .map(|w| w.file)
        .collect();
    for file in picked {
        let original = g.files[file].clone();
        let dir = format!("{}/备份", original.unit);
        let name = file_name(&original.path);
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        let path = g.unique(&dir, stem, ext);
        let full = g.root.join(&path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::hard_link(g.root.join(&original.path), &full)?;
        g.written += original.size;
        (g.progress)(g.written);
        let mut link = original.clone();
        link.path = path;
        link.hard_link_of = Some(original.path.clone());
        link.copy_of = None;
        g.files.push(link);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    Mp4,
    Jpg,
    Png,
}

impl Media {
    fn kind(self) -> Kind {
        match self {
            Media::Mp4 => Kind::Video,
            _ => Kind::Image,
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Media::Mp4 => "mp4",
            Media::Jpg => "jpg",
            Media::Png => "png",
        }
    }

    /// Valid leading structure: an ISO-BMFF `ftyp` box then an `mdat` box header; a JFIF
    /// APP0 segment; a PNG signature, IHDR chunk and IDAT chunk header.
    fn header(self, size: u64) -> Vec<u8> {
        match self {
            Media::Mp4 => {
                let mut h = vec![0, 0, 0, 0x18];
                h.extend_from_slice(b"ftypisom");
                h.extend_from_slice(&[0, 0, 2, 0]);
                h.extend_from_slice(b"isomiso2");
                let mdat = u32::try_from(size.saturating_sub(24)).unwrap_or(u32::MAX);
                h.extend_from_slice(&mdat.to_be_bytes());
                h.extend_from_slice(b"mdat");
                h
            }
            Media::Jpg => vec![
                0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00,
                0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
            ],
            Media::Png => {
                let mut h = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
                let mut ihdr = b"IHDR".to_vec();
                ihdr.extend_from_slice(&1920u32.to_be_bytes());
                ihdr.extend_from_slice(&1080u32.to_be_bytes());
                ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
                let mut crc = flate2::Crc::new();
                crc.update(&ihdr);
                h.extend_from_slice(&13u32.to_be_bytes());
                h.extend_from_slice(&ihdr);
                h.extend_from_slice(&crc.sum().to_be_bytes());
                // IDAT length: everything between this header and the CRC + IEND at the end.
                let data = u32::try_from(size.saturating_sub(33 + 8 + 4 + 12)).unwrap_or(0);
                h.extend_from_slice(&data.to_be_bytes());
                h.extend_from_slice(b"IDAT");
                h
            }
        }
    }

    fn trailer(self) -> &'static [u8] {
        match self {
            Media::Mp4 => &[],
            Media::Jpg => &[0xFF, 0xD9],
            Media::Png => &[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82],
        }
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Bytes `offset..offset + buf.len()` of the pseudo-random stream of `seed`. Each byte
/// depends only on the seed and its position, so any stretch can be made on its own.
fn fill_stream(buf: &mut [u8], seed: u64, offset: u64) {
    let mut i = 0;
    while i < buf.len() {
        let pos = offset + i as u64;
        let word = splitmix64(seed ^ (pos / 8).wrapping_mul(0xD6E8_FEB8_6659_FD93)).to_le_bytes();
        let from = (pos % 8) as usize;
        let take = (8 - from).min(buf.len() - i);
        buf[i..i + take].copy_from_slice(&word[from..from + take]);
        i += take;
    }
}

impl Gen<'_> {
    /// Streams a media file in 1 MiB chunks. With `middle_seed`, the bytes between the first
    /// and last 16 KiB come from another stream.
    fn write_media(
        &mut self,
        rel: &str,
        size: u64,
        media: Media,
        seed: u64,
        middle_seed: Option<u64>,
    ) -> io::Result<()> {
        let full = self.root.join(rel);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut file = fs::File::create(&full)?;
        let header = media.header(size);
        let trailer = media.trailer();
        let trailer_start = size.saturating_sub(trailer.len() as u64);
        let mut buf = vec![0u8; MEDIA_CHUNK.min(size as usize)];
        let mut off = 0u64;
        while off < size {
            let len = (size - off).min(MEDIA_CHUNK as u64) as usize;
            let end = off + len as u64;
            let chunk = &mut buf[..len];
            fill_stream(chunk, seed, off);
            if let Some(ms) = middle_seed {
                let lo = TRAP_EDGE.max(off);
                let hi = size.saturating_sub(TRAP_EDGE).min(end);
                if lo < hi {
                    fill_stream(&mut chunk[(lo - off) as usize..(hi - off) as usize], ms, lo);
                }
            }
            for pos in off..end.min(header.len() as u64) {
                chunk[(pos - off) as usize] = header[pos as usize];
            }
            for pos in trailer_start.max(off)..end {
                chunk[(pos - off) as usize] = trailer[(pos - trailer_start) as usize];
            }
            file.write_all(chunk)?;
            off = end;
            self.written += len as u64;
            (self.progress)(self.written);
        }
        Ok(())
    }

    /// A size in `lo..=hi`, spread evenly over powers of two (many small, a few large).
    fn spread_size(&mut self, lo: u64, hi: u64) -> u64 {
        let hi = hi.max(lo);
        let doublings = 63 - (hi / lo).leading_zeros() as u64;
        let k = self.rng.gen_range(0..=doublings);
        let from = lo << k;
        let to = (from.saturating_mul(2)).min(hi).max(from);
        self.rng.gen_range(from..=to)
    }

    fn media_name(&mut self, media: Media, unit: &Unit) -> String {
        let nn = self.rng.gen_range(1..100);
        let topic = TOPICS.choose(&mut self.rng).copied().unwrap_or("设备巡视");
        match (media, self.rng.gen_range(0..3)) {
            (Media::Mp4, 0) => {
                let cert = unit
                    .focus
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or("变电运维");
                format!("第{}讲 {cert}{topic}", nn % 20 + 1)
            }
            (Media::Mp4, 1) => format!("微课{nn:02}-{topic}"),
            (Media::Mp4, _) => format!("实操演示视频{nn}"),
            (Media::Jpg, 0) => format!("实训现场照片{nn:03}"),
            (Media::Jpg, _) => format!(
                "IMG_2021{:02}{:02}_{nn:04}",
                self.rng.gen_range(1..13),
                self.rng.gen_range(1..29)
            ),
            (Media::Png, 0) => format!("{topic}流程图{nn}"),
            (Media::Png, _) => format!("课件截图{nn}"),
        }
    }

    /// Writes one media file into a random unit's online-resources folder and records it.
    fn place_media(
        &mut self,
        units: &[Unit],
        holders: &[usize],
        media: Media,
        size: u64,
        seed: u64,
        middle_seed: Option<u64>,
    ) -> io::Result<usize> {
        let ui = holders.choose(&mut self.rng).copied().unwrap_or(0);
        let unit = &units[ui];
        let folder = unit
            .folder(Category::OnlineResources)
            .map(str::to_string)
            .unwrap_or_else(|| unit.name.clone());
        let stem = self.media_name(media, unit);
        let path = self.unique(&folder, &stem, media.ext());
        self.write_media(&path, size, media, seed, middle_seed)?;
        Ok(self.record(
            path,
            &unit.name,
            media.kind(),
            size,
            Category::OnlineResources,
            "",
        ))
    }
}

/// Media filling what is left of the byte budget, trap pairs first.
fn write_media(g: &mut Gen, units: &[Unit], total: u64) -> io::Result<()> {
    let holders: Vec<usize> = (0..units.len())
        .filter(|&u| units[u].folder(Category::OnlineResources).is_some())
        .collect();
    if holders.is_empty() {
        return Ok(());
    }
    let cap = (total / 20).clamp(MIN_MEDIA, 64 << 20);
    let image_cap = cap.min(4 << 20);
    // Two pairs agreeing in size, head and tail; two agreeing in size only.
    for trap in ["same_head_tail", "same_head_tail", "same_size", "same_size"] {
        let size = g.spread_size(MIN_MEDIA, image_cap);
        if total.saturating_sub(g.written) < 4 * size {
            break;
        }
        let media = if g.rng.gen_bool(0.5) {
            Media::Mp4
        } else {
            Media::Jpg
        };
        let seed: u64 = g.rng.r#gen();
        let other: u64 = g.rng.r#gen();
        let (first_middle, second_seed, second_middle) = if trap == "same_head_tail" {
            (None, seed, Some(other))
        } else {
            (None, other, None)
        };
        let a = g.place_media(units, &holders, media, size, seed, first_middle)?;
        let b = g.place_media(units, &holders, media, size, second_seed, second_middle)?;
        g.files[a].trap = Some(trap.into());
        g.files[b].trap = Some(trap.into());
    }
    loop {
        let remaining = total.saturating_sub(g.written);
        if remaining < MIN_MEDIA {
            break;
        }
        let media = match g.rng.gen_range(0..20) {
            0..=11 => Media::Mp4,
            12..=16 => Media::Jpg,
            _ => Media::Png,
        };
        let hi = if media == Media::Mp4 { cap } else { image_cap };
        let mut size = g.spread_size(MIN_MEDIA, hi).min(remaining);
        if remaining - size < MIN_MEDIA {
            // Close the budget: take the rest if allowed, else leave one smallest file.
            size = if remaining <= hi {
                remaining
            } else {
                remaining - MIN_MEDIA
            };
        }
        let seed: u64 = g.rng.r#gen();
        g.place_media(units, &holders, media, size, seed, None)?;
    }
    Ok(())
}
