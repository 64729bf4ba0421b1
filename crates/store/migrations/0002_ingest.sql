-- Material consolidation: runs, their catalog, confirmed labels and near-duplicate decisions.

-- One consolidation run over sources (folders, archives, uploads); a persisted job.
CREATE TABLE ingest_runs (
    id {ID},
    org_id BIGINT REFERENCES organizations (id),
    batch TEXT,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    sources_json TEXT NOT NULL,
    options_json TEXT NOT NULL,
    progress_json TEXT,
    report_json TEXT,
    stats_json TEXT,
    error TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX ingest_runs_org ON ingest_runs (org_id, id);

-- The catalog: one row per file or archive entry of a run.
CREATE TABLE ingest_files (
    id {ID},
    run_id BIGINT NOT NULL REFERENCES ingest_runs (id),
    path TEXT NOT NULL,
    unit TEXT NOT NULL,
    rel TEXT NOT NULL,
    size BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    hash TEXT,
    kind TEXT NOT NULL,
    ext TEXT NOT NULL,
    category TEXT NOT NULL,
    category_confidence DOUBLE PRECISION NOT NULL,
    annex TEXT,
    annex_confidence DOUBLE PRECISION NOT NULL,
    certificate TEXT,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    text_head TEXT NOT NULL,
    text_chars BIGINT NOT NULL,
    flags_json TEXT NOT NULL,
    archive TEXT,
    minhash TEXT,
    UNIQUE (run_id, path)
);
CREATE INDEX ingest_files_hash ON ingest_files (run_id, hash);
CREATE INDEX ingest_files_unit ON ingest_files (run_id, unit, category);

-- Labels a person confirmed, by content: the training set of the classifier.
CREATE TABLE ingest_labels (
    hash TEXT PRIMARY KEY,
    rel TEXT NOT NULL,
    kind TEXT NOT NULL,
    text_head TEXT NOT NULL,
    category TEXT NOT NULL,
    annex TEXT,
    labelled_by TEXT NOT NULL,
    labelled_at TEXT NOT NULL
);

-- A person's decision on a near-duplicate group of a run.
CREATE TABLE ingest_near_decisions (
    run_id BIGINT NOT NULL REFERENCES ingest_runs (id),
    group_key TEXT NOT NULL,
    decision TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (run_id, group_key)
);
