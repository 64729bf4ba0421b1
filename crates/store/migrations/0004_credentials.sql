-- Certificates issued to candidates (证书发放), their signing keys, status lists and
-- issuing jobs.

-- A TEO's ed25519 signing keys; the secret sealed with the instance's master key. Retired
-- keys stay listed in the TEO's DID document so credentials they signed still verify.
CREATE TABLE issuer_keys (
    id {ID},
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    key_id TEXT NOT NULL,
    public_multibase TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT,
    UNIQUE (org_id, key_id)
);

-- A pair of Bitstring Status Lists (revocation and suspension) sharing one index space.
-- Slots are handed out in order and mapped to indices by a keyed permutation, so the
-- index in a credential reveals nothing about issuing order.
CREATE TABLE status_lists (
    id {ID},
    org_id BIGINT NOT NULL REFERENCES organizations (id),
    size BIGINT NOT NULL,
    secret BIGINT NOT NULL,
    next_slot BIGINT NOT NULL,
    revocation TEXT NOT NULL,
    suspension TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The next certificate number sequence per year; ranges are reserved per job.
CREATE TABLE number_sequences (
    year BIGINT PRIMARY KEY,
    next_value BIGINT NOT NULL
);

-- An issuing job: its numbers and status slots are reserved when it is created, so a
-- resumed job signs exactly the same certificates again (no duplicate, no gap).
CREATE TABLE issuance_jobs (
    id {ID},
    teo_id BIGINT NOT NULL REFERENCES organizations (id),
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    level TEXT NOT NULL,
    session_id BIGINT REFERENCES exam_sessions (id),
    session_key TEXT NOT NULL,
    source TEXT NOT NULL,
    source_name TEXT NOT NULL,
    state TEXT NOT NULL,
    total BIGINT NOT NULL,
    done BIGINT NOT NULL,
    skipped BIGINT NOT NULL,
    year BIGINT NOT NULL,
    number_base BIGINT NOT NULL,
    status_list_id BIGINT NOT NULL REFERENCES status_lists (id),
    slot_base BIGINT NOT NULL,
    issued_on TEXT NOT NULL,
    error TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX issuance_jobs_teo ON issuance_jobs (teo_id, id);

-- The candidates of a job, in the order their numbers are given. The raw ID number is
-- kept only until the job has signed (the credential carries a salted hash).
CREATE TABLE issuance_rows (
    job_id BIGINT NOT NULL REFERENCES issuance_jobs (id),
    ordinal BIGINT NOT NULL,
    holder_name TEXT NOT NULL,
    id_number TEXT,
    id_hash TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    person_id BIGINT REFERENCES people (id),
    college_id BIGINT REFERENCES organizations (id),
    college_name TEXT,
    PRIMARY KEY (job_id, ordinal)
);

CREATE TABLE issued_certificates (
    id {ID},
    number TEXT NOT NULL UNIQUE,
    job_id BIGINT REFERENCES issuance_jobs (id),
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    level TEXT NOT NULL,
    teo_id BIGINT NOT NULL REFERENCES organizations (id),
    college_id BIGINT REFERENCES organizations (id),
    college_name TEXT,
    person_id BIGINT REFERENCES people (id),
    holder_name TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    session_key TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    status_list_id BIGINT NOT NULL REFERENCES status_lists (id),
    status_index BIGINT NOT NULL,
    replaces TEXT,
    replaced_by TEXT,
    upgrades TEXT,
    key_id TEXT NOT NULL,
    credential_json TEXT NOT NULL,
    credential_jwt TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (id_hash, certificate_id, level, session_key)
);
CREATE INDEX issued_certificates_id_hash ON issued_certificates (id_hash);
CREATE INDEX issued_certificates_teo ON issued_certificates (teo_id, certificate_id, level);
CREATE INDEX issued_certificates_person ON issued_certificates (person_id);
CREATE INDEX issued_certificates_job ON issued_certificates (job_id);
