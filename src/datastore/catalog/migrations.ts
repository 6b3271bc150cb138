/**
 * The catalog's schema, as numbered migrations. They run in order at start (see `migrate.ts`), each once,
 * in its own transaction; an applied migration must never change (its checksum is recorded and checked).
 * To change the schema, append a migration. Statements are unqualified: they run with `search_path` set
 * to the catalog's schema.
 *
 * The first migration designs the whole of issue 5 — datasets with versions, metadata history, registry
 * entries, the release workflow, access grants, API tokens and the audit log — even where the service does
 * not use a table yet, so that later sessions add code, not schema churn.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const RELEASE_STATUS = `'NOT_RELEASED', 'PENDING', 'RELEASED'`;
const DATASET_ROLES = `'metadata-read', 'metadata-write', 'data-read', 'data-write', 'admin'`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'datastore foundation',
    sql: `
-- Persistent handle ids PREFIX/N: one counter per prefix; numbers are committed as they are handed out,
-- so a number is never handed out twice (a failed mint leaves a gap, never a reuse).
CREATE TABLE id_counters (
  prefix      text PRIMARY KEY,
  last_value  bigint NOT NULL CHECK (last_value >= 0)
);

-- Organisations and people that dataset metadata refers to.
CREATE TABLE registry_entries (
  id            text PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('organisation', 'person')),
  display_name  text NOT NULL,
  data          jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registry_entries_kind_name ON registry_entries (kind, lower(display_name), id);

CREATE TABLE datasets (
  seq                 bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id                  text PRIMARY KEY,
  folder              text NOT NULL UNIQUE,
  owner               text NOT NULL,
  metadata            jsonb NOT NULL,
  -- denormalised from metadata for sorting, filtering and search
  display_name        text NOT NULL,
  keywords_text       text NOT NULL DEFAULT '',
  description_text    text NOT NULL DEFAULT '',
  organisation_id     text NOT NULL REFERENCES registry_entries (id),
  publisher_id        text NOT NULL REFERENCES registry_entries (id),
  data_custodian_id   text REFERENCES registry_entries (id),
  metadata_public     boolean NOT NULL DEFAULT false,
  -- versions: a chain linked both ways; only the latest (next_version_id IS NULL) may be versioned
  version_number      integer NOT NULL DEFAULT 1 CHECK (version_number >= 1),
  previous_version_id text UNIQUE REFERENCES datasets (id),
  next_version_id     text UNIQUE REFERENCES datasets (id) DEFERRABLE INITIALLY DEFERRED,
  version_reason      text,
  -- release workflow
  release_status      text NOT NULL DEFAULT 'NOT_RELEASED' CHECK (release_status IN (${RELEASE_STATUS})),
  release_approver    text,
  release_requester   text,
  release_timestamp   timestamptz,
  -- optimistic concurrency: +1 on every change of the row
  revision            bigint NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- full-text search, weighted id (A) > name (B) > keywords (C) > description (D)
  search_vector       tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('simple'::regconfig, id), 'A') ||
                        setweight(to_tsvector('english'::regconfig, display_name), 'B') ||
                        setweight(to_tsvector('english'::regconfig, keywords_text), 'C') ||
                        setweight(to_tsvector('english'::regconfig, description_text), 'D')) STORED,
  -- what fuzzy (trigram) matching compares against
  fuzzy_text          text GENERATED ALWAYS AS (lower(display_name || ' ' || keywords_text)) STORED,
  CHECK ((version_number = 1) = (previous_version_id IS NULL))
);
CREATE INDEX datasets_created ON datasets (created_at, seq);
CREATE INDEX datasets_updated ON datasets (updated_at, seq);
CREATE INDEX datasets_display_name ON datasets (lower(display_name), seq);
CREATE INDEX datasets_release_time ON datasets ((coalesce(release_timestamp, '-infinity'::timestamptz)), seq);
CREATE INDEX datasets_release_status ON datasets (release_status, created_at, seq);
CREATE INDEX datasets_release_approver ON datasets (release_approver, created_at, seq) WHERE release_approver IS NOT NULL;
CREATE INDEX datasets_owner ON datasets (owner);
CREATE INDEX datasets_search ON datasets USING gin (search_vector);

-- Every metadata change, append-only: entry 1 is the minted metadata; a revert appends a copy.
CREATE TABLE metadata_history (
  dataset_id  text NOT NULL REFERENCES datasets (id),
  history_id  integer NOT NULL CHECK (history_id >= 1),
  timestamp   timestamptz NOT NULL DEFAULT clock_timestamp(),
  reason      text NOT NULL,
  username    text NOT NULL,
  snapshot    jsonb NOT NULL,
  PRIMARY KEY (dataset_id, history_id)
);

-- Release workflow: the reviewer pool, every action, and the content manifest recorded on release.
CREATE TABLE reviewers (
  username   text PRIMARY KEY,
  added_by   text NOT NULL,
  added_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE release_history (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dataset_id  text NOT NULL REFERENCES datasets (id),
  action      text NOT NULL CHECK (action IN ('REQUEST', 'APPROVE', 'REJECT')),
  actor       text NOT NULL,
  approver    text NOT NULL,
  notes       text NOT NULL,
  timestamp   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX release_history_dataset ON release_history (dataset_id, id);
CREATE TABLE release_manifests (
  dataset_id          text NOT NULL REFERENCES datasets (id),
  release_history_id  bigint NOT NULL REFERENCES release_history (id),
  path                text NOT NULL,
  size                bigint NOT NULL,
  sha256              text NOT NULL,
  PRIMARY KEY (release_history_id, path)
);

-- Access: system roles, groups, and per-dataset grants to users or groups.
CREATE TABLE system_roles (
  username    text NOT NULL,
  role        text NOT NULL CHECK (role IN ('sys-admin', 'reviewer')),
  granted_by  text NOT NULL,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (username, role)
);
CREATE TABLE group_members (
  group_name  text NOT NULL,
  username    text NOT NULL,
  added_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_name, username)
);
CREATE INDEX group_members_user ON group_members (username);
CREATE TABLE dataset_grants (
  dataset_id      text NOT NULL REFERENCES datasets (id),
  principal_kind  text NOT NULL CHECK (principal_kind IN ('user', 'group')),
  principal       text NOT NULL,
  role            text NOT NULL CHECK (role IN (${DATASET_ROLES})),
  granted_by      text NOT NULL,
  granted_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset_id, principal_kind, principal)
);
CREATE INDEX dataset_grants_principal ON dataset_grants (principal_kind, principal);

-- Bearer API tokens: only a SHA-256 of the secret is stored; token_id is the public, non-secret part.
CREATE TABLE api_tokens (
  token_id      text PRIMARY KEY,
  token_hash    bytea NOT NULL UNIQUE,
  username      text NOT NULL,
  name          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (username);

-- Every mutating call: who, what, on what, when, and how it ended.
CREATE TABLE audit_log (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor      text NOT NULL,
  action     text NOT NULL,
  target     text,
  outcome    text NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
  details    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_target ON audit_log (target, id);

-- Settings every replica must share (e.g. the HMAC key of local presigned URLs).
CREATE TABLE service_settings (
  key         text PRIMARY KEY,
  value       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 2,
    name: 'catalog generation and search vocabulary',
    sql: `
-- A number that moves whenever something a dataset listing or search shows may have changed: datasets,
-- grants, group memberships. The service's response cache keeps an answer only while the number it read
-- before computing it is still current. A deferred trigger bumps it once per transaction, at commit, after
-- every other lock the transaction takes, so it never joins a deadlock; the bump becomes visible together
-- with the change.
CREATE TABLE catalog_generation (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  n         bigint NOT NULL
);
INSERT INTO catalog_generation (n) VALUES (1);

CREATE FUNCTION bump_catalog_generation() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF current_setting('wharf.catalog_generation_bumped', true) IS DISTINCT FROM 'yes' THEN
    UPDATE catalog_generation SET n = n + 1;
    PERFORM set_config('wharf.catalog_generation_bumped', 'yes', true);
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER datasets_generation AFTER INSERT OR UPDATE OR DELETE ON datasets
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalog_generation();
CREATE CONSTRAINT TRIGGER dataset_grants_generation AFTER INSERT OR UPDATE OR DELETE ON dataset_grants
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalog_generation();
CREATE CONSTRAINT TRIGGER group_members_generation AFTER INSERT OR UPDATE OR DELETE ON group_members
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalog_generation();

-- The words of dataset names and keywords (what fuzzy search corrects typos towards): a misspelt query word
-- is matched by trigram similarity against this small table, not against every dataset. Words are added as
-- datasets are written and never removed (a word no dataset uses any more only finds nothing).
CREATE TABLE search_words (
  word text PRIMARY KEY
);
CREATE FUNCTION add_search_words() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO search_words (word)
    SELECT DISTINCT w FROM changed, regexp_split_to_table(lower(changed.fuzzy_text), '[^[:alnum:]]+') AS w
    WHERE length(w) BETWEEN 3 AND 40
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER datasets_words_insert AFTER INSERT ON datasets
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION add_search_words();
CREATE TRIGGER datasets_words_update AFTER UPDATE ON datasets
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION add_search_words();
-- Earlier versions matched typos with a trigram index over every dataset's fuzzy_text; no longer used.
DROP INDEX IF EXISTS datasets_fuzzy;
INSERT INTO search_words (word)
  SELECT DISTINCT w FROM datasets, regexp_split_to_table(lower(datasets.fuzzy_text), '[^[:alnum:]]+') AS w
  WHERE length(w) BETWEEN 3 AND 40
ON CONFLICT DO NOTHING;
`,
  },
  {
    version: 3,
    name: 'narrow search table',
    sql: `
-- What search reads, apart from the wide dataset rows (whose metadata makes them ~4 KB): ranking every
-- match reads each match's row, and on rows a quarter of the width that costs half as much. Kept by row
-- triggers on datasets; visibility filtering needs id, owner and metadata_public, ranking the vector.
CREATE TABLE dataset_search (
  seq              bigint PRIMARY KEY,
  id               text NOT NULL UNIQUE,
  owner            text NOT NULL,
  metadata_public  boolean NOT NULL,
  -- weighted id (A) > name (B) > keywords (C) > description (D)
  search_vector    tsvector NOT NULL
);

CREATE FUNCTION dataset_search_vector(id text, display_name text, keywords_text text, description_text text)
  RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('simple'::regconfig, id), 'A') ||
         setweight(to_tsvector('english'::regconfig, display_name), 'B') ||
         setweight(to_tsvector('english'::regconfig, keywords_text), 'C') ||
         setweight(to_tsvector('english'::regconfig, description_text), 'D')
$$;

CREATE FUNCTION sync_dataset_search() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM dataset_search WHERE seq = OLD.seq;
  ELSE
    INSERT INTO dataset_search (seq, id, owner, metadata_public, search_vector)
    VALUES (NEW.seq, NEW.id, NEW.owner, NEW.metadata_public,
            dataset_search_vector(NEW.id, NEW.display_name, NEW.keywords_text, NEW.description_text))
    ON CONFLICT (seq) DO UPDATE SET id = EXCLUDED.id, owner = EXCLUDED.owner,
      metadata_public = EXCLUDED.metadata_public, search_vector = EXCLUDED.search_vector;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER datasets_search_insert AFTER INSERT ON datasets
  FOR EACH ROW EXECUTE FUNCTION sync_dataset_search();
CREATE TRIGGER datasets_search_update
  AFTER UPDATE OF id, owner, metadata_public, display_name, keywords_text, description_text ON datasets
  FOR EACH ROW EXECUTE FUNCTION sync_dataset_search();
CREATE TRIGGER datasets_search_delete AFTER DELETE ON datasets
  FOR EACH ROW EXECUTE FUNCTION sync_dataset_search();

INSERT INTO dataset_search (seq, id, owner, metadata_public, search_vector)
  SELECT seq, id, owner, metadata_public, dataset_search_vector(id, display_name, keywords_text, description_text)
  FROM datasets;
CREATE INDEX dataset_search_vector_gin ON dataset_search USING gin (search_vector);
-- The wide table's vector and its index are no longer read.
ALTER TABLE datasets DROP COLUMN search_vector;
`,
  },
  {
    version: 4,
    name: 'accent- and case-insensitive name order',
    sql: `
-- Sorting by lower(name) followed the database's collation: under C (the embedded PostgreSQL's, and common
-- on servers) lower() folds only ASCII and the order is byte order, so 'École' came after 'zebra'. The key
-- drops the accents that Unicode decomposes (NFKD, then the combining marks U+0300–U+036F) before folding
-- the case, which gives the same order whatever the collation. normalize() needs a UTF8 database.
DO $do$
BEGIN
  IF current_setting('server_encoding') = 'UTF8' THEN
    CREATE FUNCTION name_sort_key(name text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT lower(regexp_replace(normalize(name, NFKD), '[\u0300-\u036f]', '', 'g'))
    $$;
  ELSE
    CREATE FUNCTION name_sort_key(name text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT lower(name)
    $$;
  END IF;
END
$do$;
CREATE INDEX datasets_name_sort ON datasets (name_sort_key(display_name), seq);
DROP INDEX datasets_display_name;
CREATE INDEX registry_entries_kind_name_sort ON registry_entries (kind, name_sort_key(display_name), id);
DROP INDEX registry_entries_kind_name;
`,
  },
  {
    version: 5,
    name: 'names searchable word for word',
    sql: `
-- The english configuration drops stop words and single letters, so a name such as 'AT&T network logs'
-- could not be found by 'AT&T' (the query's 'at' & 't' matched nothing). The name is now also indexed
-- with the simple configuration, at the name's weight (B): every word of a name can be searched as typed.
-- Appended last, so that the positions of the other parts stay as they were.
CREATE OR REPLACE FUNCTION dataset_search_vector(id text, display_name text, keywords_text text,
    description_text text)
  RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('simple'::regconfig, id), 'A') ||
         setweight(to_tsvector('english'::regconfig, display_name), 'B') ||
         setweight(to_tsvector('english'::regconfig, keywords_text), 'C') ||
         setweight(to_tsvector('english'::regconfig, description_text), 'D') ||
         setweight(to_tsvector('simple'::regconfig, display_name), 'B')
$$;
UPDATE dataset_search s
  SET search_vector = dataset_search_vector(d.id, d.display_name, d.keywords_text, d.description_text)
  FROM datasets d WHERE d.seq = s.seq;
`,
  },
];
