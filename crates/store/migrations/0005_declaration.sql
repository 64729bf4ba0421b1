-- Declaration and review (申报与评审): numbered batches, TEO applications with certificate
-- proposals and their seven annexes, the lead unit's task breakdown, expert review,
-- publicity with objections, credit and tax verification and deliberation.

-- A batch; its validated settings (dates, rubric, review rules) are kept as JSON, with
-- the dates the queries need copied into columns.
CREATE TABLE decl_batches (
    id {ID},
    number BIGINT NOT NULL UNIQUE,
    title_zh TEXT NOT NULL,
    state TEXT NOT NULL,
    settings TEXT NOT NULL,
    apply_from TEXT NOT NULL,
    apply_until TEXT NOT NULL,
    publicity_from TEXT,
    publicity_until TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT
);

-- One application per TEO per batch (申报书), checked against its unified social credit code.
CREATE TABLE decl_applications (
    id {ID},
    batch_id BIGINT NOT NULL REFERENCES decl_batches (id),
    teo_id BIGINT NOT NULL REFERENCES organizations (id),
    credit_code TEXT NOT NULL,
    lead_unit TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (batch_id, teo_id)
);

-- A certificate proposal. `version` counts submissions; `returned_from` is the state a
-- returned proposal goes back to. Historical proposals may name a certificate that is
-- not in the registry (certificate_id NULL).
CREATE TABLE decl_proposals (
    id {ID},
    application_id BIGINT NOT NULL REFERENCES decl_applications (id),
    batch_id BIGINT NOT NULL REFERENCES decl_batches (id),
    teo_id BIGINT NOT NULL REFERENCES organizations (id),
    certificate_id BIGINT REFERENCES certificates (id),
    name_zh TEXT NOT NULL,
    field TEXT NOT NULL,
    summary TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    standard_version BIGINT,
    bank_items BIGINT NOT NULL,
    returned_from TEXT,
    score DOUBLE PRECISION,
    formal_note TEXT,
    decision_reason TEXT,
    decided_by TEXT,
    decided_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    submitted_at TEXT,
    UNIQUE (application_id, certificate_id)
);
CREATE INDEX decl_proposals_batch ON decl_proposals (batch_id, state);
CREATE INDEX decl_proposals_teo ON decl_proposals (teo_id);

-- The file in each of a proposal's seven annex slots; content in the object store.
CREATE TABLE decl_annexes (
    proposal_id BIGINT NOT NULL REFERENCES decl_proposals (id),
    annex BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    object_key TEXT NOT NULL,
    hash_kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    source TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (proposal_id, annex)
);

-- Each submitted version of a proposal, to compare a resubmission with the one before.
CREATE TABLE decl_versions (
    proposal_id BIGINT NOT NULL REFERENCES decl_proposals (id),
    version BIGINT NOT NULL,
    snapshot TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (proposal_id, version)
);

-- Modification opinions (修改意见): sent with a deadline, answered by a resubmission.
CREATE TABLE decl_opinions (
    id {ID},
    proposal_id BIGINT NOT NULL REFERENCES decl_proposals (id),
    stage TEXT NOT NULL,
    opinion TEXT NOT NULL,
    deadline TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    answered_version BIGINT,
    answered_at TEXT
);
CREATE INDEX decl_opinions_proposal ON decl_opinions (proposal_id);

-- The units taking part in an application (the lead unit's colleges, subsidiaries...).
CREATE TABLE decl_units (
    id {ID},
    application_id BIGINT NOT NULL REFERENCES decl_applications (id),
    name TEXT NOT NULL,
    org_id BIGINT REFERENCES organizations (id),
    UNIQUE (application_id, name)
);

-- A task of the breakdown: an entry or form of the application (the application form, or
-- one annex of one proposal) assigned to a unit and a person (an account) with a deadline.
CREATE TABLE decl_tasks (
    id {ID},
    application_id BIGINT NOT NULL REFERENCES decl_applications (id),
    unit_id BIGINT NOT NULL REFERENCES decl_units (id),
    assignee TEXT NOT NULL,
    title TEXT NOT NULL,
    proposal_id BIGINT REFERENCES decl_proposals (id),
    annex BIGINT,
    deadline TEXT NOT NULL,
    state TEXT NOT NULL,
    note TEXT,
    file_name TEXT,
    object_key TEXT,
    done_by TEXT,
    done_at TEXT,
    reminded_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX decl_tasks_assignee ON decl_tasks (assignee, state);
CREATE INDEX decl_tasks_application ON decl_tasks (application_id);

-- In-app notifications (reminders, opinions, draws) per account.
CREATE TABLE notifications (
    id {ID},
    username TEXT NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_user ON notifications (username, read_at);

-- The expert pool (专家库): an account of role expert_reviewer with the ties that make a
-- conflict of interest (organization, province) and the fields they review.
CREATE TABLE decl_experts (
    id {ID},
    user_id BIGINT NOT NULL UNIQUE REFERENCES users (id),
    name TEXT NOT NULL,
    org_id BIGINT REFERENCES organizations (id),
    org_name TEXT NOT NULL,
    province TEXT,
    fields TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

-- An expert drawn for a proposal, and their rubric scores once submitted.
CREATE TABLE decl_assignments (
    id {ID},
    proposal_id BIGINT NOT NULL REFERENCES decl_proposals (id),
    expert_id BIGINT NOT NULL REFERENCES decl_experts (id),
    seed BIGINT NOT NULL,
    drawn_by TEXT NOT NULL,
    drawn_at TEXT NOT NULL,
    scores TEXT,
    total DOUBLE PRECISION,
    comment TEXT,
    submitted_at TEXT,
    outlier BIGINT NOT NULL,
    UNIQUE (proposal_id, expert_id)
);
CREATE INDEX decl_assignments_expert ON decl_assignments (expert_id);

-- Objections filed by anyone during publicity (异议), and how they were handled.
CREATE TABLE decl_objections (
    id {ID},
    batch_id BIGINT NOT NULL REFERENCES decl_batches (id),
    proposal_id BIGINT NOT NULL REFERENCES decl_proposals (id),
    filer_name TEXT NOT NULL,
    filer_contact TEXT NOT NULL,
    content TEXT NOT NULL,
    client TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    state TEXT NOT NULL,
    response TEXT,
    handled_by TEXT,
    handled_at TEXT
);
CREATE INDEX decl_objections_batch ON decl_objections (batch_id, state);

-- Credit and tax verification of an organization in a batch (信用与纳税核查), with evidence.
CREATE TABLE decl_verifications (
    batch_id BIGINT NOT NULL REFERENCES decl_batches (id),
    teo_id BIGINT NOT NULL REFERENCES organizations (id),
    credit_ok BIGINT NOT NULL,
    tax_ok BIGINT NOT NULL,
    evidence TEXT NOT NULL,
    file_name TEXT,
    object_key TEXT,
    checked_by TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (batch_id, teo_id)
);
