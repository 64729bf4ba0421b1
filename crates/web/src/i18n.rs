//! Interface text in Chinese (default) and English. Keys are looked up by the
//! templates' `t("key")`; an unknown key shows itself so a gap is visible, not blank.

const TEXT: &[(&str, &str, &str)] = &[
    ("dedup_saves", "去重节省", "dedup saves"),
    ("ingest", "材料汇总", "Material consolidation"),
    (
        "ingest_intro",
        "上传各单位的申报材料（文件、文件夹或 zip/7z 压缩包）：自动去重、检查、提取文字、分类并统计，检查七个附件是否齐全。",
        "Upload the units' declaration materials (files, folders or zip/7z archives): deduplicated, checked, text extracted, classified and counted, with the seven annexes checked for completeness.",
    ),
    ("run_title", "名称", "Title"),
    (
        "run_title_hint",
        "如：第四批申报材料汇总",
        "e.g. Fourth batch declaration materials",
    ),
    ("unit", "单位", "Unit"),
    (
        "unit_hint",
        "留空则以第一级文件夹为单位",
        "Blank: the first folder level names the unit",
    ),
    ("batch", "批次", "Batch"),
    ("lead_unit", "牵头单位", "Lead unit"),
    ("materials", "材料", "Materials"),
    ("upload_files", "文件或压缩包", "Files or archives"),
    ("upload_folder", "整个文件夹", "A whole folder"),
    ("start_ingest", "开始汇总", "Start consolidation"),
    ("runs", "汇总记录", "Runs"),
    ("files", "文件", "files"),
    ("created", "创建", "Created"),
    ("finished", "完成", "Finished"),
    ("run_queued", "排队中", "Queued"),
    ("run_running", "处理中", "Running"),
    (
        "run_interrupted",
        "已中断（可继续）",
        "Interrupted (resumable)",
    ),
    ("run_finished", "已完成", "Finished"),
    ("run_failed", "失败", "Failed"),
    ("stop", "停止", "Stop"),
    (
        "run_resumable",
        "此次汇总未完成，继续时已处理的文件不会重复处理。",
        "This run did not finish; resuming skips the files already done.",
    ),
    ("resume", "继续", "Resume"),
    ("valid_records", "有效记录", "valid records"),
    ("duplicate_groups", "重复文件组", "Duplicate groups"),
    ("near_groups", "近似文件组", "Near-duplicate groups"),
    ("flagged", "有问题的文件", "flagged files"),
    ("missing_annexes", "缺少的附件", "missing annexes"),
    (
        "browse_catalog",
        "浏览与更正目录",
        "Browse and correct the catalog",
    ),
    ("downloads", "下载", "Downloads"),
    ("unit_category", "单位 × 类别", "Unit × category"),
    ("missing_categories", "未提交的类别", "Categories not sent"),
    (
        "completeness",
        "证书附件齐全情况",
        "Annex completeness per certificate",
    ),
    ("annex", "附件", "Annex "),
    ("annex_present", "齐全", "present"),
    (
        "annex_ambiguous",
        "不确定（请人工确认）",
        "ambiguous (confirm by hand)",
    ),
    ("annex_missing", "缺少", "missing"),
    (
        "no_annexes_found",
        "未发现证书申报附件。",
        "No certificate annexes found.",
    ),
    ("flags", "标记", "Flags"),
    ("similarity", "相似度", "similarity"),
    ("keep_all", "全部保留", "Keep all"),
    ("keep_only", "只保留", "Keep only"),
    ("decided", "已确定", "decided"),
    (
        "more_in_json",
        "更多见 report.json。",
        "More in report.json.",
    ),
    ("catalog", "文件目录", "Catalog"),
    ("category", "类别", "Category"),
    ("path", "路径", "Path"),
    ("correct", "更正", "Correct"),
    ("confirm", "确认", "Confirm"),
    (
        "app_name",
        "1+X 证书信息管理平台",
        "1+X Certificate Platform",
    ),
    ("catalogue", "证书目录", "Certificate catalogue"),
    ("search", "搜索", "Search"),
    (
        "search_placeholder",
        "证书名称、代码、专业或岗位",
        "Certificate name, code, major or post",
    ),
    ("all", "全部", "All"),
    ("teo", "培训评价组织", "Training-evaluation organization"),
    ("level", "等级", "Level"),
    ("levels", "等级", "Levels"),
    ("major", "相关专业", "Related major"),
    ("majors", "相关专业", "Related majors"),
    ("post", "面向岗位", "Post"),
    ("posts", "面向岗位", "Posts"),
    ("competitions", "相关赛项", "Competitions"),
    ("code", "代码", "Code"),
    ("name", "名称", "Name"),
    ("name_zh", "中文名称", "Chinese name"),
    ("name_en", "英文名称", "English name"),
    ("status", "状态", "Status"),
    ("description", "简介", "Description"),
    ("results", "条结果", "results"),
    ("no_results", "没有符合条件的证书", "No certificate matches"),
    ("standard", "职业技能等级标准", "Skill grade standard"),
    ("version", "版本", "Version"),
    ("versions", "版本记录", "Versions"),
    ("draft", "草稿", "Draft"),
    ("published", "已发布", "Published"),
    ("suspended", "暂停", "Suspended"),
    ("withdrawn", "已撤销", "Withdrawn"),
    ("work_area", "工作领域", "Work area"),
    ("work_task", "工作任务", "Work task"),
    ("skill_requirement", "职业技能要求", "Skill requirement"),
    ("no_standard", "尚未发布标准", "No standard published yet"),
    (
        "download_case",
        "下载 CASE 1.1 JSON",
        "Download CASE 1.1 JSON",
    ),
    ("sign_in", "登录", "Sign in"),
    ("sign_out", "退出", "Sign out"),
    ("username", "用户名", "Username"),
    ("password", "密码", "Password"),
    ("display_name", "姓名", "Display name"),
    (
        "bad_login",
        "用户名或密码错误",
        "Wrong username or password",
    ),
    ("manage", "管理", "Manage"),
    ("dashboard", "工作台", "Dashboard"),
    ("organizations", "机构", "Organizations"),
    ("organization", "机构", "Organization"),
    ("certificates", "证书", "Certificates"),
    ("certificate", "证书", "Certificate"),
    ("people", "学生", "Students"),
    ("users", "账号", "Accounts"),
    ("imports", "批量导入导出", "Import and export"),
    ("audit", "审计日志", "Audit log"),
    ("kind", "类型", "Kind"),
    (
        "credit_code",
        "统一社会信用代码",
        "Unified social credit code",
    ),
    ("province", "省份", "Province"),
    ("state", "状态", "State"),
    ("website", "网站", "Website"),
    ("new", "新建", "New"),
    ("edit", "编辑", "Edit"),
    ("save", "保存", "Save"),
    ("create", "创建", "Create"),
    ("cancel", "取消", "Cancel"),
    ("actions", "操作", "Actions"),
    ("change_state", "变更状态", "Change state"),
    ("reason", "原因", "Reason"),
    ("id_number", "身份证号", "ID number"),
    ("student_no", "学号", "Student no."),
    ("college", "院校", "College"),
    ("phone", "手机号", "Phone"),
    ("role", "角色", "Role"),
    ("created_at", "创建时间", "Created"),
    ("edit_standard", "编辑标准", "Edit standard"),
    ("save_draft", "保存草稿", "Save draft"),
    ("publish", "发布", "Publish"),
    (
        "outline_help",
        "每行一项：“# 工作领域”，“## 工作任务”，“- [初级] 职业技能要求”。保存为草稿，发布后冻结为新版本，旧版本仍可查看。",
        "One item per line: \"# work area\", \"## work task\", \"- [初级] skill requirement\". Saved as a draft; publishing freezes it as a new version while older versions stay readable.",
    ),
    (
        "import_case",
        "导入 CASE 1.1 JSON 为草稿",
        "Import CASE 1.1 JSON as draft",
    ),
    ("upload", "上传", "Upload"),
    ("file", "文件", "File"),
    ("templates", "模板下载", "Templates"),
    ("preview", "预览（试运行）", "Preview (dry run)"),
    ("confirm_import", "确认导入", "Confirm import"),
    (
        "import_clean",
        "所有行均通过校验，确认后将在一个事务中全部写入。",
        "Every row passed; confirming writes all of it in one transaction.",
    ),
    (
        "import_errors",
        "以下行被拒绝，未写入任何数据。请修改文件后重新上传。",
        "These rows were rejected and nothing was written. Fix the file and upload it again.",
    ),
    ("import_done", "导入完成", "Import applied"),
    ("sheet", "工作表", "Sheet"),
    ("row", "行", "Row"),
    ("column", "列", "Column"),
    ("problem", "原因", "Problem"),
    ("export_xlsx", "导出 .xlsx", "Export .xlsx"),
    ("recent_imports", "最近的导入", "Recent imports"),
    ("actor", "操作人", "Actor"),
    ("action", "动作", "Action"),
    ("entity", "对象", "Entity"),
    ("time", "时间", "Time"),
    ("before", "修改前", "Before"),
    ("after", "修改后", "After"),
    ("filter", "筛选", "Filter"),
    ("chain_ok", "哈希链完整", "Hash chain intact"),
    ("chain_broken", "哈希链被破坏", "Hash chain broken"),
    ("entries", "条记录", "entries"),
    (
        "verify_hint",
        "也可在命令行运行 xcert audit verify",
        "Also available as xcert audit verify",
    ),
    ("forbidden", "无权访问", "Forbidden"),
    ("not_found", "页面不存在", "Not found"),
    ("error", "出错了", "Something went wrong"),
    ("back", "返回", "Back"),
    ("prev", "上一页", "Previous"),
    ("next", "下一页", "Next"),
    ("framework", "资格框架", "Qualifications framework"),
    ("knowledge", "知识", "Knowledge"),
    ("skill", "技能", "Skill"),
    ("competence", "能力", "Competence"),
    ("requirements", "条要求", "requirements"),
    (
        "teo_exited_note",
        "无论培训评价组织处于何种状态，已颁发的证书依然有效。",
        "Certificates already issued remain valid whatever the organization's state.",
    ),
    ("my_certificates", "本组织证书", "My certificates"),
    ("counts", "概况", "Overview"),
    ("api", "API", "API"),
    (
        "include_ids",
        "包含完整身份证号（会记入审计日志）",
        "Include full ID numbers (recorded in the audit log)",
    ),
    ("saved", "已保存", "Saved"),
    (
        "teo_state_suspended",
        "组织已暂停",
        "organization suspended",
    ),
    (
        "teo_state_scale_limited",
        "组织限制规模",
        "organization scale-limited",
    ),
    ("teo_state_exiting", "组织退出中", "organization exiting"),
    ("teo_state_exited", "组织已退出", "organization exited"),
    ("version_note", "版本说明", "Version note"),
    ("keep_if_blank", "留空则不修改", "leave blank to keep"),
    ("active", "启用", "Active"),
    ("inactive", "停用", "Inactive"),
    ("activate", "启用", "Activate"),
    ("deactivate", "停用", "Deactivate"),
    ("new_password", "新密码", "New password"),
    ("reset_password", "重置密码", "Reset password"),
    (
        "person_id",
        "关联学生编号（考生账号）",
        "Student record id (candidate accounts)",
    ),
    ("optional", "选填", "optional"),
    (
        "list_sep_hint",
        "多个值用分号分隔",
        "Separate several values with ;",
    ),
];

mod bank;
mod certs;
mod declare;
mod exams;
mod review;

/// Every table of interface text: the registry's, the question bank's, the exams'.
const TABLES: &[&[(&str, &str, &str)]] = &[
    TEXT,
    bank::TEXT,
    exams::TEXT,
    certs::TEXT,
    declare::TEXT,
    review::TEXT,
];

pub fn t(lang: &str, key: &str) -> String {
    TABLES
        .iter()
        .flat_map(|t| t.iter())
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| if lang == "en" { *en } else { *zh })
        .unwrap_or(key)
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<_> = super::TABLES
            .iter()
            .flat_map(|t| t.iter())
            .map(|(k, _, _)| *k)
            .collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }

    #[test]
    fn falls_back_to_key() {
        assert_eq!(super::t("zh", "catalogue"), "证书目录");
        assert_eq!(super::t("en", "catalogue"), "Certificate catalogue");
        assert_eq!(super::t("en", "no_such_key"), "no_such_key");
    }
}
