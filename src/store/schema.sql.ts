/**
 * The metadata schema. Bump `SCHEMA_VERSION` when it changes: a new table comes to an older
 * root through `IF NOT EXISTS`; a new column of an existing table is also listed in
 * `ADDED_COLUMNS`, which db.ts adds to a root made before it.
 */
export const SCHEMA_VERSION = 9;

/** Columns added to tables an older root already has, with the schema version that added each. */
export const ADDED_COLUMNS: ReadonlyArray<{ version: number; table: string; column: string; definition: string }> = [
  { version: 9, table: 'build_cache', column: 'usage_count', definition: 'INTEGER NOT NULL DEFAULT 1' },
];

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY,                 -- config digest
  manifest_digest TEXT NOT NULL,
  manifest_media_type TEXT NOT NULL,
  created TEXT,
  size INTEGER NOT NULL,               -- uncompressed bytes of all layers
  os TEXT NOT NULL,
  architecture TEXT NOT NULL,
  variant TEXT,
  added_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tags (
  name TEXT PRIMARY KEY,               -- normalized reference, e.g. docker.io/library/bb:1
  image_id TEXT NOT NULL REFERENCES images(id)
);
CREATE INDEX IF NOT EXISTS tags_by_image ON tags(image_id);
CREATE TABLE IF NOT EXISTS repo_digests (
  repository TEXT NOT NULL,            -- e.g. 127.0.0.1:5000/app
  digest TEXT NOT NULL,                -- manifest digest at that registry
  image_id TEXT NOT NULL REFERENCES images(id),
  PRIMARY KEY (repository, digest)
);
CREATE TABLE IF NOT EXISTS image_indexes ( -- a tag holding a multi-platform image: its index and the children stored here
  name TEXT NOT NULL,                  -- the tag; tags.name points it at one child (the host's, else the first)
  digest TEXT NOT NULL,                -- the OCI index in the content store
  image_id TEXT NOT NULL REFERENCES images(id),
  PRIMARY KEY (name, image_id)
);
CREATE INDEX IF NOT EXISTS image_indexes_by_image ON image_indexes(image_id);
CREATE TABLE IF NOT EXISTS image_sources ( -- what an image built here was built from, for image explain (schema 9)
  image_id TEXT PRIMARY KEY REFERENCES images(id),
  file TEXT NOT NULL,                  -- the Dockerfile's name
  text TEXT,                           -- its text, null when over the bound (images.ts)
  lines TEXT NOT NULL                  -- JSON: per history entry, [line, endLine] of the instruction that made it, or null
);
CREATE TABLE IF NOT EXISTS layers (
  diff_id TEXT PRIMARY KEY,
  size INTEGER NOT NULL                -- uncompressed tar bytes
);
CREATE TABLE IF NOT EXISTS layer_blobs (
  diff_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (diff_id, digest)
);
CREATE TABLE IF NOT EXISTS containers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  image_id TEXT NOT NULL,
  image_ref TEXT NOT NULL,
  created TEXT NOT NULL,
  config TEXT NOT NULL,                -- JSON: what create was asked
  state TEXT NOT NULL                  -- JSON: status, pid, exit code, times
);
CREATE TABLE IF NOT EXISTS volumes (
  name TEXT PRIMARY KEY,
  created TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}',
  anonymous INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS build_cache (
  cache_key TEXT PRIMARY KEY,
  result TEXT NOT NULL,                -- JSON: the step's output (layer diffId or config change)
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  usage_count INTEGER NOT NULL DEFAULT 1 -- uses, as BuildKit counts them: its making, then each cache hit (schema 9)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS layer_sources (
  diff_id TEXT PRIMARY KEY,            -- a layer kept only as its unpacked dir (built here)
  source_date_epoch INTEGER            -- the mtime clamp its tar was hashed with, if any
);
CREATE TABLE IF NOT EXISTS networks (
  id TEXT PRIMARY KEY,                 -- 64 hex, as docker's network ids
  name TEXT NOT NULL UNIQUE,
  bridge TEXT NOT NULL,                -- the host interface, br-<id12>
  subnet TEXT NOT NULL,
  gateway TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}',
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS file_hashes (
  path TEXT PRIMARY KEY,               -- absolute path of a build-context file
  stat_key TEXT NOT NULL,              -- dev:ino:size:mtimeNs:mode; a change invalidates
  digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS context_digests (
  selection TEXT PRIMARY KEY,          -- sha256 of a context dir, a COPY's base and the paths it selects
  stat_sig TEXT NOT NULL,              -- sha256 of those paths' stat keys when the digest was computed
  digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (    -- store/leases.ts: what a live process uses is kept from prune
  id TEXT PRIMARY KEY,                 -- <pid>:<start time in ticks>: a reused pid is another owner
  pid INTEGER NOT NULL,
  since INTEGER NOT NULL               -- ms: what appeared under the root from then on may be the owner's
);
CREATE TABLE IF NOT EXISTS lease_resources (
  lease_id TEXT NOT NULL,
  kind TEXT NOT NULL,                  -- blob, layer, image, snapshot; ingest: the one writer of a partial download
  name TEXT NOT NULL,
  PRIMARY KEY (lease_id, kind, name)
);
CREATE INDEX IF NOT EXISTS lease_resources_by_name ON lease_resources(kind, name);
CREATE TABLE IF NOT EXISTS events (    -- store/events.ts: what docker events reads, trimmed as it grows
  id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a follower reads the rows after the last it saw
  time_ns INTEGER NOT NULL,
  type TEXT NOT NULL,                  -- container, image, volume, network
  action TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_by_time ON events(time_ns);
`;
