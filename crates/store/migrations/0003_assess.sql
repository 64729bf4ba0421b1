-- Assessment: question banks, blueprints and forms, exam sessions, attempts and their
-- responses, practical scoring, results, item analysis.

-- An item of a certificate's question bank. Its content lives in versions; this row holds
-- what the bank knows about it (tags, review state, usage, calibration).
CREATE TABLE items (
    id {ID},
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    ident TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT,
    difficulty DOUBLE PRECISION,
    enemy_group TEXT,
    testlet TEXT,
    author TEXT,
    time_seconds BIGINT,
    review_status TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    points DOUBLE PRECISION NOT NULL,
    stem_text TEXT NOT NULL,
    stat_n BIGINT,
    stat_p DOUBLE PRECISION,
    stat_r DOUBLE PRECISION,
    irt_a DOUBLE PRECISION,
    irt_b DOUBLE PRECISION,
    calibrated_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (certificate_id, ident)
);
CREATE INDEX items_pool ON items (certificate_id, level, review_status);

-- Skill requirement codes an item is tagged with (the current version's tags).
CREATE TABLE item_requirements (
    item_id BIGINT NOT NULL REFERENCES items (id),
    code TEXT NOT NULL,
    PRIMARY KEY (item_id, code)
);

-- Immutable content versions; a form points at the version it used.
CREATE TABLE item_versions (
    id {ID},
    item_id BIGINT NOT NULL REFERENCES items (id),
    version BIGINT NOT NULL,
    content_json TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    meta_json TEXT NOT NULL,
    note TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (item_id, version)
);

-- An uploaded bank file (QTI package, GIFT, Moodle XML, xlsx) with its import report;
-- applied once, from the stored file.
CREATE TABLE item_imports (
    id {ID},
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    file_name TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    format TEXT NOT NULL,
    status TEXT NOT NULL,
    report_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    applied_at TEXT
);

CREATE TABLE blueprints (
    id {ID},
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX blueprints_cert ON blueprints (certificate_id, level);

-- One assembly run of a blueprint: its options and result (forms with statistics, or
-- the shortages that stopped it); accepting it creates the forms, once.
CREATE TABLE assemblies (
    id {ID},
    blueprint_id BIGINT NOT NULL REFERENCES blueprints (id),
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    status TEXT NOT NULL,
    options_json TEXT NOT NULL,
    result_json TEXT NOT NULL,
    form_ids TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    accepted_at TEXT
);
CREATE INDEX assemblies_blueprint ON assemblies (blueprint_id, id);

-- An assembled form (试卷): the exact item versions and the points each earns.
CREATE TABLE forms (
    id {ID},
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    blueprint_id BIGINT REFERENCES blueprints (id),
    level TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    items_count BIGINT NOT NULL,
    total_points DOUBLE PRECISION NOT NULL,
    time_limit_minutes BIGINT NOT NULL,
    status TEXT NOT NULL,
    -- Submitted attempts on this form: an item's usage is the sum over its forms.
    deliveries BIGINT NOT NULL,
    assembly_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX forms_cert ON forms (certificate_id, level);

CREATE TABLE form_items (
    form_id BIGINT NOT NULL REFERENCES forms (id),
    position BIGINT NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items (id),
    version BIGINT NOT NULL,
    points DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (form_id, position)
);
CREATE INDEX form_items_item ON form_items (item_id);

-- The results rule of a certificate level: weights and pass marks.
CREATE TABLE result_rules (
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    level TEXT NOT NULL,
    rule_json TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (certificate_id, level)
);

-- An exam session (考核计划): one certificate level at one site in one time window.
CREATE TABLE exam_sessions (
    id {ID},
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    site_org_id BIGINT REFERENCES organizations (id),
    site_name TEXT NOT NULL,
    opens_at TEXT NOT NULL,
    closes_at TEXT NOT NULL,
    duration_minutes BIGINT NOT NULL,
    shuffle_items BIGINT NOT NULL,
    disagreement_points DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    rule_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX exam_sessions_cert ON exam_sessions (certificate_id);

CREATE TABLE exam_session_forms (
    session_id BIGINT NOT NULL REFERENCES exam_sessions (id),
    form_id BIGINT NOT NULL REFERENCES forms (id),
    PRIMARY KEY (session_id, form_id)
);

-- Practical tasks of a session, at the version used.
CREATE TABLE exam_session_tasks (
    session_id BIGINT NOT NULL REFERENCES exam_sessions (id),
    position BIGINT NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items (id),
    version BIGINT NOT NULL,
    PRIMARY KEY (session_id, position)
);

CREATE TABLE exam_session_examiners (
    session_id BIGINT NOT NULL REFERENCES exam_sessions (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (session_id, user_id)
);

-- A candidate in a session, with their theory attempt. The form is the one the candidate
-- actually received; the seed fixes their order of items and options.
CREATE TABLE exam_candidates (
    id {ID},
    session_id BIGINT NOT NULL REFERENCES exam_sessions (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    ticket TEXT NOT NULL UNIQUE,
    form_id BIGINT NOT NULL REFERENCES forms (id),
    seed BIGINT NOT NULL,
    state TEXT NOT NULL,
    started_at TEXT,
    deadline_at TEXT,
    submitted_at TEXT,
    submit_reason TEXT,
    saves BIGINT NOT NULL,
    theory_earned DOUBLE PRECISION,
    theory_possible DOUBLE PRECISION,
    unmarked BIGINT NOT NULL,
    process_score DOUBLE PRECISION,
    registered_by TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    UNIQUE (session_id, person_id)
);
CREATE INDEX exam_candidates_person ON exam_candidates (person_id);
CREATE INDEX exam_candidates_deadline ON exam_candidates (state, deadline_at);

-- The latest saved response per item position of an attempt; `score` once scored.
CREATE TABLE exam_responses (
    candidate_id BIGINT NOT NULL REFERENCES exam_candidates (id),
    position BIGINT NOT NULL,
    response_json TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    score DOUBLE PRECISION,
    marked_by TEXT,
    PRIMARY KEY (candidate_id, position)
);

-- One examiner's scores for one candidate on one practical task.
CREATE TABLE practical_scores (
    id {ID},
    candidate_id BIGINT NOT NULL REFERENCES exam_candidates (id),
    task_position BIGINT NOT NULL,
    examiner_id BIGINT NOT NULL REFERENCES users (id),
    criteria_json TEXT NOT NULL,
    total DOUBLE PRECISION NOT NULL,
    comment TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (candidate_id, task_position, examiner_id)
);

-- A candidate's result under the session's rule, once computed.
CREATE TABLE exam_results (
    candidate_id BIGINT PRIMARY KEY REFERENCES exam_candidates (id),
    process DOUBLE PRECISION,
    theory DOUBLE PRECISION,
    practical DOUBLE PRECISION,
    total DOUBLE PRECISION,
    passed BIGINT NOT NULL,
    shortfalls_json TEXT NOT NULL,
    decided_at TEXT NOT NULL
);

-- Item analysis reports: of one session, or of a certificate level across sessions.
CREATE TABLE analysis_reports (
    id {ID},
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    level TEXT NOT NULL,
    session_id BIGINT REFERENCES exam_sessions (id),
    persons BIGINT NOT NULL,
    items_count BIGINT NOT NULL,
    report_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX analysis_reports_cert ON analysis_reports (certificate_id, level, id);
