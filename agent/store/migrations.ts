// Forward-only migrations. Each runs in its own transaction together with its schema_version row,
// so a crash leaves the database at the previous version or the next one, never in between.
// Never edit a migration that has shipped: add the next one.

export interface Migration {
  version: number
  description: string
  sql: string
}

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'identity list generations, admissions, audit, API tokens',
    sql: `
-- Key/value facts about this data directory (e.g. the fingerprint of the subject key,
-- so a database is never read with another installation's key).
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- The list being served. A load writes a whole new generation beside the serving one and then
-- flips active_gen in one small transaction: readers see the old list or the new one, never a mix,
-- never an empty table, and a crash mid-load leaves only an abandoned generation to clean up.
CREATE TABLE list_state (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  active_gen     INTEGER,              -- generation readers use; NULL before the first load
  version        TEXT,                 -- shown to the HIS as list.version
  source         TEXT,                 -- 'demo' | 'import' | 'registry'
  demo           INTEGER NOT NULL DEFAULT 0, -- 1 = bundled synthetic people, never for real patients
  region         TEXT,                 -- admin-division code the list covers, when known
  seq            INTEGER,              -- registry sequence number of the loaded list (registry sync)
  person_count   INTEGER NOT NULL DEFAULT 0,
  identity_count INTEGER NOT NULL DEFAULT 0,
  loaded_at      TEXT,                 -- UTC ISO instant the list became active here
  data_as_of     TEXT                  -- UTC ISO instant the list itself was produced, when known
);
INSERT INTO list_state (id) VALUES (1);

-- One row per load attempt; 'loading' rows left by a crash are removed at the next start.
CREATE TABLE list_generation (
  gen        INTEGER PRIMARY KEY,
  state      TEXT NOT NULL CHECK (state IN ('loading', 'active', 'retired')),
  source     TEXT NOT NULL,
  label      TEXT,                     -- file name or registry sequence, for operators
  started_at TEXT NOT NULL,
  pid        INTEGER,                  -- process writing it; a 'loading' row whose process is gone was abandoned
  rows       INTEGER NOT NULL DEFAULT 0
);

-- One row per identity of a person. person_key is HMAC-SHA256(subject key, cert type ':' number):
-- the ID number itself is never stored. Names are stored masked (张*三).
CREATE TABLE list_identity (
  gen         INTEGER NOT NULL,
  person_key  BLOB    NOT NULL,
  n           INTEGER NOT NULL,        -- position of the identity within the person
  name_masked TEXT,
  category    TEXT    NOT NULL,        -- canonical id from the region profile
  begntime    TEXT    NOT NULL,        -- local wall-clock 'YYYY-MM-DD HH:mm:ss'
  endtime     TEXT,                    -- NULL: open; a date-only end is stored as 23:59:59
  source      TEXT,                    -- issuing department (民政 / 乡村振兴 …)
  PRIMARY KEY (gen, person_key, n)
) WITHOUT ROWID;

-- Admissions (2401) as the HIS reported them, the basis for spending monitoring.
CREATE TABLE admission (
  mdtrt_id              TEXT PRIMARY KEY,   -- the HIS's visit id; idempotency key
  person_key            BLOB NOT NULL,
  psn_cert_type         TEXT NOT NULL,
  name_masked           TEXT,
  begntime              TEXT NOT NULL,      -- local wall-clock admission time
  med_type              TEXT,
  adm_dept_codg         TEXT,
  adm_dept_name         TEXT,
  diagnoses             TEXT NOT NULL DEFAULT '[]', -- JSON [{diag_code, diag_name, maindiag_flag}]
  request_mac           TEXT NOT NULL,      -- keyed MAC of the canonical request: same body => same answer
  response              TEXT NOT NULL,      -- the answer given, replayed verbatim for the same body
  treat_first_pay_later INTEGER NOT NULL,
  primary_category      TEXT,
  list_version          TEXT,
  status                TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'discharged')),
  endtime               TEXT,
  client                TEXT,               -- token name that reported it
  created_at            TEXT NOT NULL,
  updated_at            TEXT NOT NULL
);
CREATE INDEX admission_open ON admission (begntime) WHERE status = 'open';
CREATE INDEX admission_person ON admission (person_key);

-- Who looked up whom and what they were told; staff and token actions. subject_key is the hex
-- person key, never the ID number.
CREATE TABLE audit (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,               -- UTC ISO instant
  client      TEXT,                        -- token name, staff user or 'cli'
  action      TEXT NOT NULL,               -- admission.lookup, eligibility.lookup, list.import, token.create …
  subject_key TEXT,
  mdtrt_id    TEXT,
  decision    TEXT,
  detail      TEXT
);
CREATE INDEX audit_at ON audit (at);

-- Bearer tokens for HIS callers: fp_<id>_<secret>. Only SHA-256 of the secret is kept; the token
-- is printed once at creation.
CREATE TABLE api_token (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('his', 'admin')),
  secret_hash  BLOB NOT NULL,
  created_at   TEXT NOT NULL,
  revoked_at   TEXT,
  last_used_at TEXT
);
`
  },
  {
    version: 2,
    description: 'registry sync runs and alerts',
    sql: `
-- One row per sync attempt, for GET /v1/sync/status and for IT asking "when did it last work?".
CREATE TABLE sync_run (
  id          INTEGER PRIMARY KEY,
  trigger     TEXT NOT NULL,                 -- 'cron' | 'start' | 'cli' | 'api'
  started_at  TEXT NOT NULL,                 -- UTC ISO instant
  finished_at TEXT,
  result      TEXT CHECK (result IN ('running', 'updated', 'unchanged', 'failed')),
  kind        TEXT,                          -- 'full' | 'delta' when a file was applied
  seq_before  INTEGER,
  seq_after   INTEGER,
  records     INTEGER,                       -- records applied
  message     TEXT,                          -- why it failed, in words an operator can act on
  pid         INTEGER                        -- process running it: a 'running' row of a dead process was cut off
);
CREATE INDEX sync_run_started ON sync_run (started_at);

-- Things staff must see: a failed or stale sync, a patient whose identity became valid during the
-- stay (refund the deposit), one whose identity ended. Shown on the staff page (a later issue).
CREATE TABLE alert (
  id              INTEGER PRIMARY KEY,
  created_at      TEXT NOT NULL,            -- UTC ISO instant
  kind            TEXT NOT NULL,            -- sync_failed | list_stale | identity_started | identity_ended
  level           TEXT NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
  mdtrt_id        TEXT,                     -- the admission concerned, if any
  message         TEXT NOT NULL,            -- Chinese, for staff
  detail          TEXT,                     -- JSON, for IT
  acknowledged_by TEXT,
  acknowledged_at TEXT,
  resolved_at     TEXT                      -- set when the condition went away (a later sync worked)
);
CREATE INDEX alert_open ON alert (created_at) WHERE resolved_at IS NULL AND acknowledged_at IS NULL;
-- One open alert of a kind per admission: a nightly re-check must not repeat yesterday's alert.
CREATE UNIQUE INDEX alert_once ON alert (kind, COALESCE(mdtrt_id, '')) WHERE resolved_at IS NULL;
`
  }
]
