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
  },
  {
    version: 3,
    description: 'spending monitor: stays, charge lines, exemptions, spending alerts',
    sql: `
-- 按病种 at admission (2401 dise_codg): such a stay is exempt from the 90 % rule (000 五(二)2).
ALTER TABLE admission ADD COLUMN dise_codg TEXT;

-- The spending side of an admission, one row per admission. Running totals are updated in the same
-- transaction as the lines they sum, so reading a stay's ratio is one row, never a re-sum.
CREATE TABLE stay (
  mdtrt_id         TEXT PRIMARY KEY REFERENCES admission (mdtrt_id),
  medfee_fen       INTEGER NOT NULL DEFAULT 0,  -- total of active lines, fen (refunds are negative lines)
  in_catalog_fen   INTEGER NOT NULL DEFAULT 0,
  out_catalog_fen  INTEGER NOT NULL DEFAULT 0,  -- 全自费 (and 超限价 where the profile counts it)
  line_count       INTEGER NOT NULL DEFAULT 0,  -- active lines
  monitored        INTEGER NOT NULL DEFAULT 0,  -- 1: the patient is on the list for this stay: the 90 % rule applies
  monitored_since  TEXT,                        -- UTC instant monitoring began
  monitored_reason TEXT,                        -- 'admission' | 'list_update' (qualified during the stay)
  primary_category TEXT,                        -- identity shown to staff for the stay
  single_disease   INTEGER NOT NULL DEFAULT 0,  -- 1: 单病种 (med_type in the profile's list, or a dise_codg)
  dscg_way         TEXT,                        -- 2402 离院方式
  discharged_at    TEXT,                        -- UTC instant the discharge was recorded
  final            TEXT,                        -- JSON: the discharge-gate answer at discharge, kept as the stay's final figures
  updated_at       TEXT NOT NULL
);
INSERT INTO stay (mdtrt_id, monitored, monitored_since, monitored_reason, primary_category, single_disease, updated_at)
  SELECT mdtrt_id, primary_category IS NOT NULL, CASE WHEN primary_category IS NOT NULL THEN created_at END,
         CASE WHEN primary_category IS NOT NULL THEN 'admission' END, primary_category, COALESCE(med_type = '26', 0), updated_at
  FROM admission;

-- 2301 fee lines. A cancelled line (2302) stays for the record with cancelled_at set and no
-- longer counts. Amounts in fen; cnt and pric as exact decimal text.
CREATE TABLE charge_line (
  mdtrt_id         TEXT NOT NULL,
  feedetl_sn       TEXT NOT NULL,
  init_feedetl_sn  TEXT,                -- the line a refund (negative cnt) returns
  fee_ocur_time    TEXT NOT NULL,       -- local wall-clock
  med_list_codg    TEXT,
  medins_list_codg TEXT,
  med_list_name    TEXT,
  chrgitm_lv       TEXT,                -- 01 甲类, 02 乙类, 03 丙类/全自费
  cnt              TEXT NOT NULL,
  pric             TEXT NOT NULL,
  amount_fen       INTEGER NOT NULL,    -- det_item_fee_sumamt
  out_fen          INTEGER NOT NULL,    -- out-of-catalog part of the amount
  fulamt_fen       INTEGER,             -- the platform's split, when the HIS sent it
  overlmt_fen      INTEGER,
  preselfpay_fen   INTEGER,
  inscp_fen        INTEGER,
  content_hash     TEXT NOT NULL,       -- same feedetl_sn, same hash: a retry; another hash: a conflict
  client           TEXT,
  created_at       TEXT NOT NULL,
  cancelled_at     TEXT,
  PRIMARY KEY (mdtrt_id, feedetl_sn)
) WITHOUT ROWID;
CREATE INDEX charge_refund ON charge_line (mdtrt_id, init_feedetl_sn) WHERE init_feedetl_sn IS NOT NULL;

-- Special cases approved by the health or insurance department (000 五(二)2 特殊病例 … 报审批).
CREATE TABLE exemption (
  id          INTEGER PRIMARY KEY,
  mdtrt_id    TEXT NOT NULL REFERENCES admission (mdtrt_id),
  kind        TEXT NOT NULL CHECK (kind IN ('special_case')),
  approval_no TEXT NOT NULL,          -- 审批号
  approved_by TEXT NOT NULL,          -- 审批单位
  reason      TEXT NOT NULL,
  recorded_by TEXT,                   -- token or staff user who entered it
  created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX exemption_once ON exemption (mdtrt_id, kind, approval_no);

-- Spending alerts carry the figures they were raised on (refreshed while open).
ALTER TABLE alert ADD COLUMN in_catalog_ratio REAL;
ALTER TABLE alert ADD COLUMN medfee_fen INTEGER;
ALTER TABLE alert ADD COLUMN out_catalog_fen INTEGER;
ALTER TABLE alert ADD COLUMN updated_at TEXT;
CREATE INDEX alert_mdtrt ON alert (mdtrt_id);
`
  },
  {
    version: 4,
    description: 'staff accounts and sessions for the billing page',
    sql: `
-- Billing and admission staff who sign in to the page. Passwords are kept only as scrypt hashes
-- (scrypt$N$r$p$salt$hash).
CREATE TABLE staff_user (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  role          TEXT NOT NULL CHECK (role IN ('billing', 'admin')),
  password_hash TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  disabled_at   TEXT,                   -- a disabled user cannot sign in; their sessions end
  last_login_at TEXT
);

-- Signed-in sessions. Only SHA-256 of the cookie value is stored: a copy of the database does not
-- let anyone act as a signed-in user. A session ends after FANGPIN_SESSION_IDLE_MINUTES of
-- inactivity, at sign-out, or when its user is disabled.
CREATE TABLE staff_session (
  token_hash   BLOB PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES staff_user (id),
  created_at   TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,            -- UTC ISO instant of the last request
  ip           TEXT
);
CREATE INDEX staff_session_user ON staff_session (user_id);
`
  },
  {
    version: 5,
    description: 'versioned list rows: a registry delta is written in chunks and made visible in one flip',
    sql: `
-- A delta of hundreds of thousands of records applied in one transaction held the write lock and
-- the event loop for tens of seconds. Rows now carry the registry sequence that added them
-- (from_seq) and the one that replaced them (to_seq): a reader of list sequence S sees a row when
-- from_seq <= S < to_seq. A delta writes its rows invisibly in short chunks and becomes visible
-- when list_state.seq moves to its sequence, in one small transaction.
CREATE TABLE list_identity_v5 (
  gen         INTEGER NOT NULL,
  person_key  BLOB    NOT NULL,
  from_seq    INTEGER NOT NULL DEFAULT 0, -- registry sequence that added the row; 0: a full load
  n           INTEGER NOT NULL,
  to_seq      INTEGER,                    -- registry sequence that replaced or deleted the row; NULL: current
  name_masked TEXT,
  category    TEXT    NOT NULL,
  begntime    TEXT    NOT NULL,
  endtime     TEXT,
  source      TEXT,
  PRIMARY KEY (gen, person_key, from_seq, n)
) WITHOUT ROWID;
INSERT INTO list_identity_v5 (gen, person_key, from_seq, n, to_seq, name_masked, category, begntime, endtime, source)
  SELECT gen, person_key, 0, n, NULL, name_masked, category, begntime, endtime, source FROM list_identity;
DROP TABLE list_identity;
ALTER TABLE list_identity_v5 RENAME TO list_identity;

-- The delta being applied (at most one: syncs never overlap) and the people it touches, so a delta
-- cut off by a crash is undone, and the rows a committed delta replaced are removed, without
-- scanning the whole list.
ALTER TABLE list_state ADD COLUMN delta_seq INTEGER;  -- sequence being applied; NULL: none
ALTER TABLE list_state ADD COLUMN delta_gen INTEGER;  -- the generation it is applied to
ALTER TABLE list_state ADD COLUMN delta_pid INTEGER;  -- the process applying it
CREATE TABLE list_delta_key (
  person_key BLOB PRIMARY KEY
) WITHOUT ROWID;
`
  },
  {
    version: 6,
    description: 'staff sign-in failures and locks, per account and address and per address',
    sql: `
-- Failed staff sign-ins, counted per (account, address) pair and per address, so a lock survives a
-- restart and IT can end one (fangpin user unlock). A row lives for its window (the quarter hour
-- after its first failure) or its lock, whichever ends later, and is purged after that. The typed
-- name is never stored: a password typed into the name field must leave no trace, so the pair is
-- keyed by HMAC(subject key, name), which unlock can recompute from an account's name.
CREATE TABLE signin_failure (
  key          TEXT PRIMARY KEY,         -- 'pair:<address> <name hmac>' | 'address:<address>'
  scope        TEXT NOT NULL CHECK (scope IN ('account', 'address')),
  address      TEXT NOT NULL,            -- client address (an IPv6 client by its /64)
  name_key     TEXT,                     -- HMAC of the account name (scope 'account')
  failures     INTEGER NOT NULL,
  window_until TEXT NOT NULL,            -- UTC ISO instant the count starts afresh
  locked_until TEXT,                     -- UTC ISO instant the lock ends; NULL: not locked
  expires_at   TEXT NOT NULL             -- the later of the two: the row is purged after it
);
CREATE INDEX signin_failure_expires ON signin_failure (expires_at);
CREATE INDEX signin_failure_name ON signin_failure (name_key) WHERE name_key IS NOT NULL;
`
  },
  {
    version: 7,
    description: 'the insurance catalog: items, the hospital code mapping and 集采中选 products in generations; each charge line\'s level source; catalog drift',
    sql: `
-- The catalog in service. Its three parts — items (levels by region and date), the hospital's
-- code mapping, the 集采中选 list — are each loaded as a generation beside the serving one and
-- flipped to in one small transaction, like the identity list: a charge batch classifies its
-- lines against the old catalog or the new one, never a mix, never an empty one. The parts are
-- separate because they come from different places: the county registry publishes the catalog
-- and the 集采 list; the mapping is this hospital's own.
CREATE TABLE catalog_state (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  item_gen      INTEGER,              -- generation of catalog_item in service; NULL: no catalog
  map_gen       INTEGER,              -- of catalog_mapping
  vbp_gen       INTEGER,              -- of catalog_vbp
  version       TEXT,                 -- shown to the HIS and staff
  source        TEXT,                 -- 'import' | 'registry' (of the items)
  seq           INTEGER,              -- registry catalog sequence, when from the registry
  region        TEXT,                 -- the publishing registry's region
  item_count    INTEGER NOT NULL DEFAULT 0,
  code_count    INTEGER NOT NULL DEFAULT 0,
  map_count     INTEGER NOT NULL DEFAULT 0,
  vbp_count     INTEGER NOT NULL DEFAULT 0,
  loaded_at     TEXT,                 -- UTC instant the items became active
  data_as_of    TEXT,                 -- UTC instant a registry sync last confirmed them
  sync_at       TEXT,                 -- last catalog sync attempt (UTC) and what came of it
  sync_result   TEXT,
  sync_message  TEXT
);
INSERT INTO catalog_state (id) VALUES (1);

CREATE TABLE catalog_generation (
  gen        INTEGER PRIMARY KEY,
  part       TEXT NOT NULL CHECK (part IN ('items', 'mapping', 'vbp')),
  state      TEXT NOT NULL CHECK (state IN ('loading', 'active', 'retired')),
  source     TEXT NOT NULL,
  label      TEXT,
  started_at TEXT NOT NULL,
  pid        INTEGER,                  -- a 'loading' row whose process is gone was abandoned
  rows       INTEGER NOT NULL DEFAULT 0
);

-- One row per item, region and validity window. A line is classified by the row of its code that
-- is valid (vali_flag 1) at its fee_ocur_time and covers the hospital's region, the most local
-- first (admdvs_rank: 3 county, 2 city, 1 province, 0 nationwide), then the latest start.
CREATE TABLE catalog_item (
  id            INTEGER PRIMARY KEY,
  gen           INTEGER NOT NULL,
  code          TEXT NOT NULL,          -- med_list_codg / hilist_code
  name          TEXT,
  prodname      TEXT,
  genname_codg  TEXT,
  genname       TEXT,
  genname_key   TEXT,                   -- the generic name as compared (no blanks, half-width)
  dosform       TEXT,
  dosform_name  TEXT,
  dosform_key   TEXT,
  spec          TEXT,
  item_type     TEXT,                   -- drug | herb | service | material
  chrgitm_type  TEXT,
  lv            TEXT,                   -- 01 | 02 | 03 | NULL (the row does not say)
  insu_admdvs   TEXT NOT NULL,          -- '' nationwide
  admdvs_rank   INTEGER NOT NULL,
  begndate      TEXT NOT NULL,          -- local wall-clock
  enddate       TEXT,                   -- NULL: open
  vali_flag     INTEGER NOT NULL,
  lmt_used      INTEGER NOT NULL,
  nego          INTEGER NOT NULL,       -- 国家谈判
  bas           INTEGER NOT NULL,       -- 基本药物
  price_cap_fen INTEGER,
  selfpay_prop  TEXT
);
-- The per-line lookup: by code, most local and latest first, without a sort, and from the index
-- alone (it holds every column the lookup reads): one b-tree search per code, not two.
CREATE INDEX catalog_item_code ON catalog_item (gen, code, admdvs_rank, begndate, insu_admdvs, vali_flag, lv, enddate);
-- Alternatives: the same generic (by its code, or by its name) and dosage form.
CREATE INDEX catalog_item_genname_codg ON catalog_item (gen, genname_codg, dosform_key) WHERE genname_codg IS NOT NULL;
CREATE INDEX catalog_item_genname ON catalog_item (gen, genname_key, dosform_key) WHERE genname_key IS NOT NULL;
-- Name search: a prefix of the name; substrings of three characters or more go through the
-- trigram index below.
CREATE INDEX catalog_item_name ON catalog_item (gen, name);
CREATE VIRTUAL TABLE catalog_text USING fts5 (text, content = '', contentless_delete = 1, tokenize = 'trigram');

-- The hospital's code mapping (1317-style): its own code to the national code, with validity.
CREATE TABLE catalog_mapping (
  gen              INTEGER NOT NULL,
  medins_list_codg TEXT NOT NULL,
  med_list_codg    TEXT NOT NULL,
  name             TEXT,
  begndate         TEXT NOT NULL,
  enddate          TEXT,
  vali_flag        INTEGER NOT NULL
);
CREATE INDEX catalog_mapping_code ON catalog_mapping (gen, medins_list_codg, begndate, vali_flag, enddate, med_list_codg);

-- 集采中选 products by national code (begndate/enddate NULL: no bound).
CREATE TABLE catalog_vbp (
  gen      INTEGER NOT NULL,
  code     TEXT NOT NULL,
  name     TEXT,
  batch    TEXT,
  begndate TEXT,
  enddate  TEXT
);
CREATE INDEX catalog_vbp_code ON catalog_vbp (gen, code);

-- Where each line's level came from: 'his' (chrgitm_lv or the platform's split), 'catalog'
-- (classified here), 'unknown' (the catalog could not place it: counted out of catalog).
-- Lines stored before this version came with the HIS's level.
ALTER TABLE charge_line ADD COLUMN level_source TEXT;
ALTER TABLE charge_line ADD COLUMN catalog_lv TEXT;      -- the level the catalog gave ('catalog' lines)
CREATE INDEX charge_unmapped ON charge_line (mdtrt_id) WHERE level_source = 'unknown';

-- Items whose level from the HIS disagrees with the catalog, once per item: the HIS's level counts
-- (it is the platform's answer) and staff find the list on the page, to have the mapping or the
-- catalog checked.
CREATE TABLE catalog_drift (
  code         TEXT PRIMARY KEY,        -- the national code
  name         TEXT,
  his_lv       TEXT NOT NULL,
  catalog_lv   TEXT NOT NULL,
  first_seen   TEXT NOT NULL,           -- UTC instants
  last_seen    TEXT NOT NULL,
  lines        INTEGER NOT NULL,
  mdtrt_id     TEXT,                    -- the first stay it was seen on
  feedetl_sn   TEXT,
  catalog_version TEXT
) WITHOUT ROWID;
`
  },
  {
    version: 8,
    description: 'serious diseases of a stay matched again on the diagnoses and operations sent at discharge',
    sql: `
-- 000 附件1 重病 are matched on every diagnosis the HIS sends, not only at admission: the planned
-- operations of the admission are kept (heart and intracranial surgery, dialysis as a procedure),
-- the 2402 diagnoses and operations are kept with the stay, and the stay carries the groups matched
-- on all of them. Stays before this version keep what their admission answer matched.
ALTER TABLE admission ADD COLUMN procedures TEXT NOT NULL DEFAULT '[]';   -- JSON [{oprn_oprt_code, oprn_oprt_name}]
ALTER TABLE stay ADD COLUMN discharge_clinical TEXT;                        -- JSON {diseinfo, oprninfo} of the 2402, when sent
ALTER TABLE stay ADD COLUMN severe_disease TEXT NOT NULL DEFAULT '[]';     -- JSON [{group, label, codes}] on all diagnoses so far
UPDATE stay SET severe_disease = COALESCE(
  (SELECT json_extract(a.response, '$.severe_disease') FROM admission a WHERE a.mdtrt_id = stay.mdtrt_id AND json_valid(a.response)), '[]');
`
  },
  {
    version: 9,
    description: 'settlements (2303/2304) and the patient\'s own burden: the year\'s figures from the registry, DRG tariffs, one annual alert per person and year',
    sql: `
-- The platform's answer to each pre-settlement (2303) and settlement (2304) of a stay, as the HIS
-- forwards it, in fen. A pre-settlement is replaced by the next one (the older is kept, cancelled);
-- a 2305 cancel keeps the row with cancelled_at set. Only final, uncancelled rows count for a
-- person's year. setl_time is the platform's local wall-clock time; year is its calendar year.
CREATE TABLE settlement (
  setl_id          TEXT PRIMARY KEY,
  mdtrt_id         TEXT NOT NULL REFERENCES admission (mdtrt_id),
  person_key       BLOB NOT NULL,
  setl_type        TEXT NOT NULL CHECK (setl_type IN ('pre', 'final')),
  setl_time        TEXT NOT NULL,
  year             INTEGER NOT NULL,
  medfee_fen       INTEGER NOT NULL,   -- 医疗费总额
  fulamt_fen       INTEGER NOT NULL,   -- 全自费金额
  overlmt_fen      INTEGER NOT NULL,   -- 超限价自费费用
  preselfpay_fen   INTEGER NOT NULL,   -- 先行自付金额
  inscp_fen        INTEGER NOT NULL,   -- 符合政策范围金额
  hifp_fen         INTEGER NOT NULL,   -- 基本医疗保险统筹基金支出
  hifmi_fen        INTEGER NOT NULL,   -- 居民大病保险资金支出
  hifob_fen        INTEGER NOT NULL,   -- 职工大额医疗费用补助基金支出
  hifes_fen        INTEGER NOT NULL,   -- 企业补充医疗保险基金支出
  cvlserv_fen      INTEGER NOT NULL,   -- 公务员医疗补助资金支出
  maf_fen          INTEGER NOT NULL,   -- 医疗救助基金支出
  oth_fen          INTEGER NOT NULL,   -- 其他支出
  fund_fen         INTEGER NOT NULL,   -- 基金支付总额
  psn_part_fen     INTEGER NOT NULL,   -- 个人负担总金额
  acct_fen         INTEGER NOT NULL,   -- 个人账户支出
  psn_cash_fen     INTEGER NOT NULL,   -- 个人现金支出
  hosp_part_fen    INTEGER NOT NULL,   -- 医院负担金额
  main_diag        TEXT,               -- first three characters of the stay's main diagnosis (the estimate's history)
  drg_codg         TEXT,               -- the stay's DRG group, when the HIS sent one (the estimate's tariff basis)
  monitored        INTEGER NOT NULL,   -- the stay was watched when settled
  before_discharge INTEGER NOT NULL DEFAULT 0, -- a final settlement received while the stay was still open
  content_hash     TEXT NOT NULL,      -- the amounts and time as received: a retry must match exactly
  cancelled_at     TEXT,
  cancel_reason    TEXT,               -- 'cancelled' (2305) | 'replaced' (a newer pre-settlement)
  client           TEXT,
  created_at       TEXT NOT NULL
);
CREATE INDEX settlement_stay ON settlement (mdtrt_id);
CREATE INDEX settlement_person_year ON settlement (person_key, year, setl_time) WHERE setl_type = 'final' AND cancelled_at IS NULL;
CREATE INDEX settlement_final_time ON settlement (setl_time) WHERE setl_type = 'final' AND cancelled_at IS NULL;
-- The admission estimate reads these at admission: one index search each, not a scan.
CREATE INDEX settlement_diag ON settlement (main_diag, setl_time) WHERE setl_type = 'final' AND cancelled_at IS NULL;
CREATE INDEX settlement_drg ON settlement (drg_codg) WHERE setl_type = 'final' AND cancelled_at IS NULL;

-- What the registry says a person had paid this year before this hospital's settlements: kept beside
-- the list (not versioned with it: each row carries its own as_of, so a mix of old and new rows
-- during a load is still true of each person).
CREATE TABLE person_ytd (
  person_key   BLOB PRIMARY KEY,
  psn_part_fen INTEGER,     -- 年度累计个人负担
  medfee_fen   INTEGER,     -- 年度累计医疗费用
  fulamt_fen   INTEGER,     -- 年度累计自费
  as_of        TEXT NOT NULL -- 统计截至, local wall-clock (a date-only value means the end of that day)
) WITHOUT ROWID;

-- One annual_burden alert per person and year (000 四(三)1; 001 三): the row remembers it was raised,
-- with the figures at the crossing, for the monthly list.
CREATE TABLE burden_crossing (
  person_key  BLOB NOT NULL,
  year        INTEGER NOT NULL,
  mdtrt_id    TEXT NOT NULL,      -- the stay whose settlement crossed the threshold
  crossed_at  TEXT NOT NULL,      -- setl_time of that settlement
  alert_id    INTEGER,
  figures     TEXT NOT NULL,      -- JSON: the year's figures at the crossing
  withdrawn_at TEXT,              -- a cancelled settlement took the year back under the threshold
  PRIMARY KEY (person_key, year)
) WITHOUT ROWID;

-- The hospital's DRG payment table (fangpin tariff import): the estimate's tariff basis.
CREATE TABLE drg_tariff (
  drg_codg     TEXT PRIMARY KEY,
  drg_name     TEXT,
  pay_std_fen  INTEGER NOT NULL,   -- 支付标准 (or 次均费用; or 基准点数 × 点值)
  base_points  TEXT,               -- 基准点数 as given, when the table has it
  point_value  TEXT,               -- 点值 used, when 支付标准 was computed
  imported_at  TEXT NOT NULL,
  source       TEXT NOT NULL       -- the file it came from
) WITHOUT ROWID;

-- The DRG group (or pre-grouping) the HIS sent at admission.
ALTER TABLE admission ADD COLUMN drg_codg TEXT;
`
  }
]
