-- xcert registry schema. One text for SQLite and PostgreSQL: `{ID}` becomes the
-- engine's auto-increment primary key. Times are RFC 3339 UTC text; flags are 0/1 integers.

CREATE TABLE organizations (
    id {ID},
    kind TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT,
    credit_code TEXT NOT NULL UNIQUE,
    province TEXT,
    teo_state TEXT,
    website TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX organizations_kind ON organizations (kind, province);

CREATE TABLE certificates (
    id {ID},
    code TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT,
    teo_id BIGINT NOT NULL REFERENCES organizations (id),
    levels TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX certificates_teo ON certificates (teo_id);

-- Related majors, posts (jobs) and competitions of a certificate, in order.
CREATE TABLE certificate_tags (
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    kind TEXT NOT NULL,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (certificate_id, kind, position)
);
CREATE INDEX certificate_tags_name ON certificate_tags (kind, name);

-- One version of a certificate's skill grade standard; published versions are frozen.
CREATE TABLE standard_versions (
    id {ID},
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    published_at TEXT,
    UNIQUE (certificate_id, version)
);

-- Nodes of a version's tree: area, task, requirement.
CREATE TABLE standard_nodes (
    id {ID},
    version_id BIGINT NOT NULL REFERENCES standard_versions (id),
    parent_id BIGINT REFERENCES standard_nodes (id),
    kind TEXT NOT NULL,
    position BIGINT NOT NULL,
    code TEXT NOT NULL,
    text TEXT NOT NULL,
    level TEXT
);
CREATE INDEX standard_nodes_version ON standard_nodes (version_id, position);

CREATE TABLE people (
    id {ID},
    name TEXT NOT NULL,
    id_number TEXT NOT NULL UNIQUE,
    id_masked TEXT NOT NULL,
    college_id BIGINT NOT NULL REFERENCES organizations (id),
    student_no TEXT,
    major TEXT,
    phone TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX people_college ON people (college_id);

CREATE TABLE users (
    id {ID},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    org_id BIGINT REFERENCES organizations (id),
    person_id BIGINT REFERENCES people (id),
    active BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

-- Sessions are looked up by the SHA-256 of the cookie token, never the token itself.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE login_attempts (
    id {ID},
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    at TEXT NOT NULL,
    success BIGINT NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts (username, at);

-- Hash-chained audit log: seq is assigned without gaps, hash covers the entry and prev_hash.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

-- Uploaded import files waiting for confirmation (the file itself is in the object store).
CREATE TABLE import_jobs (
    id {ID},
    file_name TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    summary_json TEXT NOT NULL,
    applied_at TEXT
);
