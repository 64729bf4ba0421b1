//! The OpenAPI 3.1 document for `/api/v1`, built from one table of operations. A test
//! calls every listed operation to keep the table and the router in step.

use serde_json::{Value, json};

/// (method, path, tag, summary, needs sign-in, request body schema, success status)
pub type Operation = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    Option<&'static str>,
    u16,
);

pub const OPERATIONS: &[Operation] = &[
    (
        "get",
        "/certificates/{code}/items",
        "item bank",
        "A page of the certificate's question bank (?q=&kind=&level=&status=&requirement=&limit=&offset=); TEO staff and the ministry",
        true,
        None,
        200,
    ),
    (
        "post",
        "/certificates/{code}/items",
        "item bank",
        "Create an item, or a new version of the item with the same ident",
        true,
        Some("Item"),
        201,
    ),
    (
        "get",
        "/certificates/{code}/items/{item_id}",
        "item bank",
        "One item with its current version (or ?version=N)",
        true,
        None,
        200,
    ),
    (
        "put",
        "/certificates/{code}/items/{item_id}",
        "item bank",
        "Update an item: changed content makes a new version",
        true,
        Some("Item"),
        200,
    ),
    (
        "post",
        "/certificates/{code}/items/{item_id}/status",
        "item bank",
        "Move an item through review (draft, in_review, approved, retired)",
        true,
        Some("Status"),
        200,
    ),
    (
        "get",
        "/certificates/{code}/items/{item_id}/versions",
        "item bank",
        "Every version of an item",
        true,
        None,
        200,
    ),
    (
        "post",
        "/certificates/{code}/item-imports",
        "item bank",
        "Upload a bank file (raw body, ?file_name=): QTI 2.1/2.2/3.0 package or item, Moodle XML, GIFT, or the .xlsx template; returns the preview with every problem",
        true,
        Some("File"),
        201,
    ),
    (
        "get",
        "/certificates/{code}/item-imports/{import_id}",
        "item bank",
        "A staged bank import and its preview",
        true,
        None,
        200,
    ),
    (
        "post",
        "/certificates/{code}/item-imports/{import_id}/confirm",
        "item bank",
        "Apply a staged import in one transaction ({status} optional: the review status for items the file gives none)",
        true,
        None,
        200,
    ),
    (
        "get",
        "/certificates/{code}/items.qti3.zip",
        "item bank",
        "The bank as a 1EdTech QTI 3.0 content package (same filters as the list)",
        true,
        None,
        200,
    ),
    (
        "get",
        "/certificates/{code}/items.xlsx",
        "item bank",
        "The bank in the .xlsx template's layout",
        true,
        None,
        200,
    ),
    (
        "get",
        "/item-template.xlsx",
        "item bank",
        "The blank .xlsx question bank template with its column guide",
        false,
        None,
        200,
    ),
    (
        "get",
        "/certificates/{code}/analyses",
        "item analysis",
        "Item analysis reports of the certificate",
        true,
        None,
        200,
    ),
    (
        "post",
        "/certificates/{code}/analyses",
        "item analysis",
        "Analyse a session's submitted attempts (session_id) or a level across sessions: CTT, distractors, flags, Rasch/2PL (irt: none, rasch, 2pl, auto); updates the items' statistics",
        true,
        Some("AnalysisRequest"),
        201,
    ),
    (
        "get",
        "/certificates/{code}/analyses/{analysis_id}",
        "item analysis",
        "One item analysis report",
        true,
        None,
        200,
    ),
    (
        "get",
        "/certificates/{code}/forms",
        "item bank",
        "Assembled forms of the certificate",
        true,
        None,
        200,
    ),
    (
        "post",
        "/certificates/{code}/forms",
        "item bank",
        "Create a form (or {forms: [...]}) from approved items",
        true,
        Some("Form"),
        201,
    ),
    (
        "get",
        "/certificates/{code}/forms/{form_id}",
        "item bank",
        "A form with its items' content at the versions it uses",
        true,
        None,
        200,
    ),
    (
        "get",
        "/certificates/{code}/result-rules/{level}",
        "results",
        "The results rule of a level: weights and pass marks",
        true,
        None,
        200,
    ),
    (
        "put",
        "/certificates/{code}/result-rules/{level}",
        "results",
        "Set the results rule of a level",
        true,
        Some("ResultRule"),
        200,
    ),
    (
        "get",
        "/exam-sessions",
        "exams",
        "Exam sessions in the caller's view",
        true,
        None,
        200,
    ),
    (
        "post",
        "/exam-sessions",
        "exams",
        "Schedule an exam session (TEO staff)",
        true,
        Some("Session"),
        201,
    ),
    (
        "get",
        "/exam-sessions/{id}",
        "exams",
        "One exam session",
        true,
        None,
        200,
    ),
    (
        "get",
        "/exam-sessions/{id}/candidates",
        "exams",
        "The session's candidates (a college sees its own students)",
        true,
        None,
        200,
    ),
    (
        "post",
        "/exam-sessions/{id}/candidates",
        "exams",
        "Register students; the answer says per student what happened",
        true,
        Some("Register"),
        200,
    ),
    (
        "post",
        "/exam-sessions/{id}/status",
        "exams",
        "Close the session (open attempts are submitted) or release its results",
        true,
        Some("Status"),
        200,
    ),
    (
        "put",
        "/exam-sessions/{id}/process-scores",
        "exams",
        "Training (process) scores by ticket, 0–100; all rows checked before any is written",
        true,
        Some("ProcessScores"),
        200,
    ),
    (
        "get",
        "/exam-sessions/{id}/scoring",
        "scoring",
        "The scoring sheet: candidates, tasks, examiners' totals and disagreements",
        true,
        None,
        200,
    ),
    (
        "put",
        "/exam-sessions/{id}/practical/{candidate_id}/{task}",
        "scoring",
        "An assigned examiner's points per observation criterion for one candidate and task",
        true,
        Some("PracticalScore"),
        200,
    ),
    (
        "get",
        "/exam-sessions/{id}/marking",
        "scoring",
        "Written answers to mark",
        true,
        None,
        200,
    ),
    (
        "put",
        "/exam-sessions/{id}/marking/{candidate_id}/{position}",
        "scoring",
        "Mark a written answer",
        true,
        Some("Mark"),
        200,
    ),
    (
        "get",
        "/exam-sessions/{id}/results",
        "results",
        "Computed results (a college sees its own students)",
        true,
        None,
        200,
    ),
    (
        "post",
        "/exam-sessions/{id}/results/compute",
        "results",
        "Compute results under the session's rule",
        true,
        None,
        200,
    ),
    (
        "get",
        "/exam-sessions/{id}/results.xlsx",
        "results",
        "Results as .xlsx (?passed=true: the pass list)",
        true,
        None,
        200,
    ),
    (
        "get",
        "/exam-sessions/{id}/pass-list",
        "results",
        "The pass list of a released session, for certificate issuance",
        true,
        None,
        200,
    ),
    (
        "get",
        "/me/exams",
        "attempts",
        "The signed-in candidate's exams",
        true,
        None,
        200,
    ),
    (
        "get",
        "/attempts/{id}",
        "attempts",
        "The candidate's attempt: items in their order (no keys), saved answers, time left",
        true,
        None,
        200,
    ),
    (
        "post",
        "/attempts/{id}/start",
        "attempts",
        "Start (or resume) the theory test; the deadline is fixed at the first start",
        true,
        None,
        200,
    ),
    (
        "put",
        "/attempts/{id}/answers",
        "attempts",
        "Autosave answers by form position",
        true,
        Some("Answers"),
        200,
    ),
    (
        "post",
        "/attempts/{id}/submit",
        "attempts",
        "Submit (safe to repeat: a second submit returns the first outcome)",
        true,
        Some("Answers"),
        200,
    ),
    (
        "get",
        "/attempts/{id}/result",
        "attempts",
        "The candidate's result once released",
        true,
        None,
        200,
    ),
    (
        "get",
        "/ingest/runs",
        "ingest",
        "Consolidation runs visible to the caller",
        true,
        None,
        200,
    ),
    (
        "post",
        "/ingest/runs",
        "ingest",
        "Upload materials (multipart: files, or a folder's files with relative names; title, unit, batch, org_id) and start a consolidation run",
        true,
        Some("Upload"),
        201,
    ),
    (
        "get",
        "/ingest/runs/{id}",
        "ingest",
        "A run's state and live progress",
        true,
        None,
        200,
    ),
    (
        "get",
        "/ingest/runs/{id}/report",
        "ingest",
        "A run's report: totals, categories, units, duplicates, near duplicates, flags, annex completeness (docs/INGEST.md)",
        true,
        None,
        200,
    ),
    (
        "get",
        "/ingest/runs/{id}/files",
        "ingest",
        "A page of the run's catalog (?unit=&category=&annex=&flag=&q=&limit=&offset=)",
        true,
        None,
        200,
    ),
    (
        "get",
        "/ingest/runs/{id}/catalog.csv",
        "ingest",
        "The run's catalog as CSV",
        true,
        None,
        200,
    ),
    (
        "get",
        "/ingest/runs/{id}/catalog.parquet",
        "ingest",
        "The run's catalog as Parquet",
        true,
        None,
        200,
    ),
    (
        "post",
        "/ingest/runs/{id}/files/{file_id}/label",
        "ingest",
        "Confirm or correct a file's category and annex; retrains the classifier and reclassifies the run",
        true,
        Some("Label"),
        200,
    ),
    (
        "post",
        "/ingest/runs/{id}/near/{key}",
        "ingest",
        "Decide on a near-duplicate group: keep_all or keep:<hash>",
        true,
        Some("NearDecision"),
        204,
    ),
    (
        "post",
        "/ingest/runs/{id}/resume",
        "ingest",
        "Resume an interrupted or failed run",
        true,
        None,
        202,
    ),
    (
        "post",
        "/ingest/runs/{id}/cancel",
        "ingest",
        "Stop a running run after the files in progress (resumable)",
        true,
        None,
        202,
    ),
    (
        "post",
        "/auth/login",
        "auth",
        "Sign in; returns a bearer token and a CSRF token",
        false,
        Some("Login"),
        200,
    ),
    (
        "post",
        "/auth/logout",
        "auth",
        "End the session",
        true,
        None,
        204,
    ),
    (
        "get",
        "/me",
        "auth",
        "The signed-in account",
        true,
        None,
        200,
    ),
    (
        "get",
        "/levels",
        "registry",
        "The three skill grade levels with their descriptors",
        false,
        None,
        200,
    ),
    (
        "get",
        "/organizations",
        "registry",
        "List organizations (filters: kind, province, q)",
        false,
        None,
        200,
    ),
    (
        "post",
        "/organizations",
        "registry",
        "Create an organization",
        true,
        Some("Organization"),
        201,
    ),
    (
        "get",
        "/organizations/{id}",
        "registry",
        "One organization",
        false,
        None,
        200,
    ),
    (
        "put",
        "/organizations/{id}",
        "registry",
        "Update an organization's profile",
        true,
        Some("Organization"),
        200,
    ),
    (
        "post",
        "/organizations/{id}/state",
        "registry",
        "Change a TEO's lifecycle state (ministry)",
        true,
        Some("TeoStateChange"),
        200,
    ),
    (
        "get",
        "/certificates",
        "catalogue",
        "Search the certificate catalogue (q, teo, level, major, post, status, limit, offset)",
        false,
        None,
        200,
    ),
    (
        "post",
        "/certificates",
        "catalogue",
        "Create a certificate",
        true,
        Some("Certificate"),
        201,
    ),
    (
        "get",
        "/certificates/{code}",
        "catalogue",
        "One certificate",
        false,
        None,
        200,
    ),
    (
        "put",
        "/certificates/{code}",
        "catalogue",
        "Update a certificate",
        true,
        Some("Certificate"),
        200,
    ),
    (
        "get",
        "/certificates/{code}/standard",
        "standards",
        "The skill grade standard (published, or ?version=N)",
        false,
        None,
        200,
    ),
    (
        "put",
        "/certificates/{code}/standard",
        "standards",
        "Save the standard as a draft (tree or outline), optionally publishing it",
        true,
        Some("StandardDraft"),
        200,
    ),
    (
        "get",
        "/certificates/{code}/standard/versions",
        "standards",
        "Versions of the standard",
        false,
        None,
        200,
    ),
    (
        "post",
        "/certificates/{code}/standard/publish",
        "standards",
        "Publish the draft version",
        true,
        None,
        200,
    ),
    (
        "get",
        "/certificates/{code}/standard/case",
        "standards",
        "The standard as a 1EdTech CASE 1.1 CFPackage",
        false,
        None,
        200,
    ),
    (
        "post",
        "/certificates/{code}/standard/case",
        "standards",
        "Import a CASE 1.1 CFPackage as the draft",
        true,
        Some("CFPackage"),
        200,
    ),
    (
        "get",
        "/people",
        "people",
        "Students in the caller's scope (q, college)",
        true,
        None,
        200,
    ),
    (
        "post",
        "/people",
        "people",
        "Register a student",
        true,
        Some("Person"),
        201,
    ),
    (
        "get",
        "/people/{id}",
        "people",
        "One student (masked ID number)",
        true,
        None,
        200,
    ),
    (
        "put",
        "/people/{id}",
        "people",
        "Update a student",
        true,
        Some("Person"),
        200,
    ),
    (
        "get",
        "/users",
        "accounts",
        "Accounts in the caller's scope",
        true,
        None,
        200,
    ),
    (
        "post",
        "/users",
        "accounts",
        "Create an account",
        true,
        Some("NewUser"),
        201,
    ),
    (
        "get",
        "/audit",
        "audit",
        "Browse the audit log (actor, entity, action, entity_id, since, until, limit, offset)",
        true,
        None,
        200,
    ),
    (
        "get",
        "/audit/verify",
        "audit",
        "Check the audit hash chain",
        true,
        None,
        200,
    ),
    (
        "post",
        "/imports",
        "bulk",
        "Upload an .xlsx/.csv (raw body, ?file_name=, ?dry_run=true) and get its preview",
        true,
        Some("File"),
        201,
    ),
    (
        "get",
        "/imports/{id}",
        "bulk",
        "A staged import and its preview",
        true,
        None,
        200,
    ),
    (
        "post",
        "/imports/{id}/confirm",
        "bulk",
        "Apply a staged import in one transaction",
        true,
        None,
        200,
    ),
    (
        "get",
        "/export.xlsx",
        "bulk",
        "Export the registry as .xlsx (?include_ids=true for full ID numbers, audited)",
        true,
        None,
        200,
    ),
];

fn schemas() -> Value {
    let s = |props: Value, required: &[&str]| json!({"type": "object", "properties": props, "required": required});
    let string = json!({"type": "string"});
    let list = json!({"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string", "description": "separated by ;"}]});
    json!({
        "Error": s(json!({"error": s(json!({
            "code": string, "message": string,
            "fields": {"type": "object", "additionalProperties": {"type": "string"}}
        }), &["code", "message", "fields"])}), &["error"]),
        "Login": s(json!({"username": string, "password": string}), &["username", "password"]),
        "Upload": s(json!({
            "files": {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"}},
            "title": string, "unit": string, "batch": string, "org_id": {"type": "integer"}, "csrf": string
        }), &["files"]),
        "Label": s(json!({
            "category": {"type": "string", "enum": ["training_scheme", "assessment_outline", "sample_questions", "teaching_materials", "online_resources", "expert_team", "management_system", "agreement", "other"]},
            "annex": {"type": ["string", "null"], "enum": ["standard", "pilot_matters", "assessment_scheme", "exam_site_standard", "cost_accounting", "expense_items", "feasibility", null]}
        }), &["category"]),
        "NearDecision": s(json!({"decision": {"type": "string", "description": "keep_all, or keep:<BLAKE3 hash of the document to keep>"}}), &["decision"]),
        "Organization": s(json!({
            "kind": {"type": "string", "enum": ["teo", "college", "province_authority", "enterprise"]},
            "name_zh": string, "name_en": string,
            "credit_code": {"type": "string", "description": "GB 32100 unified social credit code, 18 characters with check character"},
            "province": string, "state": string, "website": string
        }), &["kind", "name_zh", "credit_code"]),
        "TeoStateChange": s(json!({"state": {"type": "string", "enum": ["active", "suspended", "scale_limited", "exiting", "exited"]}, "reason": string}), &["state", "reason"]),
        "Certificate": s(json!({
            "teo_id": {"type": "integer"}, "code": string, "name_zh": string, "name_en": string,
            "levels": list, "status": {"type": "string", "enum": ["draft", "published", "suspended", "withdrawn"]},
            "majors": list, "posts": list, "competitions": list, "description": string
        }), &["code", "name_zh", "levels"]),
        "StandardDraft": s(json!({
            "outline": {"type": "string", "description": "# work area / ## work task / - [初级] requirement"},
            "tree": {"type": "object"}, "note": string, "publish": {"type": "boolean"}
        }), &[]),
        "CFPackage": s(json!({"CFDocument": {"type": "object"}, "CFItems": {"type": "array", "items": {"type": "object"}}, "CFAssociations": {"type": "array", "items": {"type": "object"}}}), &["CFDocument"]),
        "Person": s(json!({
            "college_id": {"type": "integer"}, "name": string,
            "id_number": {"type": "string", "description": "GB 11643 resident ID number; always returned masked"},
            "student_no": string, "major": string, "phone": string
        }), &["name", "id_number"]),
        "NewUser": s(json!({
            "username": string, "display_name": string, "password": {"type": "string", "minLength": 8},
            "role": {"type": "string", "enum": ["ministry_admin", "province_admin", "teo_staff", "college_staff", "examiner", "expert_reviewer", "candidate"]},
            "org_id": {"type": "integer"}, "person_id": {"type": "integer"}
        }), &["username", "password", "role"]),
        "UserUpdate": s(json!({"active": {"type": "boolean"}, "password": {"type": "string", "minLength": 8}}), &[]),
        "File": {"type": "string", "format": "binary"},
        "Item": s(json!({
            "meta": s(json!({"ident": string, "requirements": {"type": "array", "items": string}, "level": {"type": ["string", "null"], "enum": ["junior", "intermediate", "senior", null]},
                "difficulty": {"type": ["number", "null"], "minimum": 1, "maximum": 5}, "enemy_group": {"type": ["string", "null"]}, "testlet": {"type": ["string", "null"]},
                "author": {"type": ["string", "null"]}, "time_seconds": {"type": ["integer", "null"]}}), &["ident"]),
            "content": s(json!({"kind": {"type": "string", "enum": ["single_choice", "multiple_choice", "true_false", "text_entry", "matching", "ordering", "extended_text", "practical_task"]},
                "stem": {"type": "string", "description": "safe HTML subset"}, "interaction": {"type": "object", "description": "tagged by type: choice, text_entry, match, order, extended_text, practical"},
                "points": {"type": "number"}, "scoring": {"type": "string", "enum": ["all_or_nothing", "partial"]}, "explanation": {"type": ["string", "null"]}}), &["kind", "stem", "interaction", "points"]),
            "status": {"type": "string", "enum": ["draft", "in_review", "approved", "retired"]}, "note": string
        }), &["meta", "content"]),
        "Status": s(json!({"status": string}), &["status"]),
        "Form": s(json!({"level": string, "title": string, "time_limit_minutes": {"type": "integer"}, "blueprint_id": {"type": "integer"},
            "items": {"type": "array", "items": s(json!({"item_id": {"type": "integer"}, "points": {"type": "number"}}), &["item_id"])},
            "forms": {"type": "array", "items": {"type": "object"}}}), &[]),
        "ResultRule": s(json!({"process_weight": {"type": "number"}, "theory_weight": {"type": "number"}, "practical_weight": {"type": "number"},
            "process_pass": {"type": ["number", "null"]}, "theory_pass": {"type": ["number", "null"]}, "practical_pass": {"type": ["number", "null"]}, "total_pass": {"type": ["number", "null"]}}),
            &["process_weight", "theory_weight", "practical_weight"]),
        "Session": s(json!({"certificate": string, "level": string, "title": string, "site_org_id": {"type": "integer"}, "site_name": string,
            "opens_at": {"type": "string", "description": "RFC 3339, or 2026-06-20 09:00 in China time"}, "closes_at": string,
            "duration_minutes": {"type": "integer"}, "shuffle_items": {"type": "boolean"}, "disagreement_points": {"type": "number"},
            "form_ids": {"type": "array", "items": {"type": "integer"}}, "task_item_ids": {"type": "array", "items": {"type": "integer"}},
            "examiner_ids": {"type": "array", "items": {"type": "integer"}}}), &["certificate", "level", "title", "opens_at", "closes_at", "duration_minutes", "form_ids"]),
        "Register": s(json!({"person_ids": {"type": "array", "items": {"type": "integer"}}}), &["person_ids"]),
        "ProcessScores": s(json!({"rows": {"type": "array", "items": s(json!({"ticket": string, "score": {"type": ["number", "null"]}}), &["ticket"])}}), &["rows"]),
        "PracticalScore": s(json!({"criteria": {"type": "object", "additionalProperties": {"type": "number"}}, "comment": string}), &["criteria"]),
        "Mark": s(json!({"score": {"type": "number"}}), &["score"]),
        "AnalysisRequest": s(json!({"level": string, "session_id": {"type": "integer"}, "irt": {"type": "string", "enum": ["none", "rasch", "2pl", "auto"]}}), &["level"]),
        "Answers": s(json!({"answers": {"type": "object", "description": "form position → {choice: [ids]} | {text: [..]} | {pairs: [[s,t]]} | {order: [ids]} | {extended: text}"}, "reason": {"type": "string", "enum": ["candidate", "timeout"]}}), &[]),
    })
}

pub fn document(base_url: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, tag, summary, auth, body, ok) in OPERATIONS {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let ty = if name == "id"
                    || name.ends_with("_id")
                    || name == "task"
                    || name == "position"
                {
                    "integer"
                } else {
                    "string"
                };
                json!({"name": name, "in": "path", "required": true, "schema": {"type": ty}})
            })
            .collect();
        let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let mut responses = serde_json::Map::new();
        responses.insert(
            ok.to_string(),
            json!({"description": "success", "content": {"application/json": {}}}),
        );
        if *ok == 204 {
            responses.insert(ok.to_string(), json!({"description": "success"}));
        }
        responses.insert("400".into(), err("malformed request"));
        if *auth {
            responses.insert("401".into(), err("not signed in"));
            responses.insert("403".into(), err("not allowed for this role or scope"));
        }
        responses.insert("404".into(), err("not found"));
        if body.is_some() {
            responses.insert("409".into(), err("conflicts with existing data"));
            responses.insert("422".into(), err("invalid fields"));
        }
        let op_id = format!(
            "{method}{}",
            path.split('/')
                .map(|s| s.trim_matches(|c| c == '{' || c == '}').replace('.', "_"))
                .map(|s| {
                    let mut c = s.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                })
                .collect::<String>()
        );
        let mut op = json!({"tags": [tag], "summary": summary, "operationId": op_id, "parameters": params, "responses": responses});
        if let Some(b) = body {
            let ct = match *b {
                "File" => "application/octet-stream",
                "Upload" => "multipart/form-data",
                _ => "application/json",
            };
            op["requestBody"] = json!({"required": true, "content": {ct: {"schema": {"$ref": format!("#/components/schemas/{b}")}}}});
        }
        if *auth {
            op["security"] = json!([{"bearer": []}, {"cookie": []}]);
        }
        paths.entry(path.to_string()).or_insert_with(|| json!({}))[method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "xcert API", "version": env!("CARGO_PKG_VERSION"), "description": "Registry of the 1+X certificate system: organizations, certificates, skill grade standards, people, accounts, audit, bulk import/export, material consolidation."},
        "servers": [{"url": format!("{}/api/v1", base_url.trim_end_matches('/'))}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "xcert_session"}
            }
        }
    })
}
