/* PostgreSQL schema: the SQLite one with PostgreSQL types, and windows and
 * events partitioned by day (store_pg.c "partitions"). Samples are stored as
 * one blob per window (series_codec.c), chosen by measurement: see
 * docs/collector.md. */
#include "schema.h"

const memgauge__migration_t memgauge__pg_migrations[] = {
    {1, "sessions, batches, windows with sample blobs, events, terminations, dropped",
     "CREATE TABLE batches ("
     "  batch_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, received_unix_ms BIGINT NOT NULL,"
     "  sent_unix_ms BIGINT NOT NULL, sdk_name TEXT NOT NULL, sdk_version TEXT NOT NULL,"
     "  windows BIGINT NOT NULL, samples BIGINT NOT NULL, events BIGINT NOT NULL"
     ");"
     "CREATE TABLE sessions ("
     "  session_id TEXT PRIMARY KEY, app_id TEXT NOT NULL, app_version TEXT NOT NULL,"
     "  app_build TEXT NOT NULL, device_model TEXT NOT NULL, os_name TEXT NOT NULL,"
     "  os_version TEXT NOT NULL, metric TEXT NOT NULL, start_unix_ms BIGINT NOT NULL,"
     "  interval_ms BIGINT NOT NULL, last_ms BIGINT NOT NULL, samples BIGINT NOT NULL,"
     "  windows BIGINT NOT NULL, batches BIGINT NOT NULL, peak_bytes BIGINT NOT NULL,"
     "  max_bytes BIGINT NOT NULL, limit_bytes BIGINT NOT NULL, peak_fraction DOUBLE PRECISION,"
     "  dropped BIGINT NOT NULL"
     ");"
     "CREATE INDEX sessions_by_app ON sessions(app_id, app_version, start_unix_ms);"
     "CREATE TABLE windows ("
     "  session_id TEXT NOT NULL, start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL,"
     "  samples BIGINT NOT NULL, first_bytes BIGINT NOT NULL, last_bytes BIGINT NOT NULL,"
     "  min_bytes BIGINT NOT NULL, max_bytes BIGINT NOT NULL, mean_bytes BIGINT NOT NULL,"
     "  peak_bytes BIGINT NOT NULL, kernel_peak_bytes BIGINT NOT NULL,"
     "  limit_bytes BIGINT NOT NULL, headroom_bytes BIGINT NOT NULL, metric TEXT NOT NULL,"
     "  series BYTEA, batch_id TEXT NOT NULL"
     ");"
     "CREATE INDEX windows_by_session ON windows(session_id, start_ms);"
     "CREATE TABLE events ("
     "  session_id TEXT NOT NULL, t_ms BIGINT NOT NULL, kind TEXT NOT NULL,"
     "  threshold_id BIGINT, direction TEXT, urgent BIGINT, level_bytes BIGINT,"
     "  footprint_bytes BIGINT, limit_bytes BIGINT, pressure TEXT, batch_id TEXT NOT NULL"
     ");"
     "CREATE INDEX events_by_session ON events(session_id, t_ms);"
     "CREATE TABLE terminations ("
     "  session_id TEXT PRIMARY KEY, reported_by TEXT NOT NULL,"
     "  reported_unix_ms BIGINT NOT NULL, app_id TEXT NOT NULL, app_version TEXT NOT NULL,"
     "  device_model TEXT NOT NULL, os_version TEXT NOT NULL, verdict TEXT NOT NULL,"
     "  grade TEXT NOT NULL, start_unix_ms BIGINT NOT NULL, ended_ms BIGINT NOT NULL,"
     "  last_footprint_bytes BIGINT NOT NULL, limit_bytes BIGINT NOT NULL,"
     "  pressure TEXT NOT NULL, trail BYTEA"
     ");"
     "CREATE INDEX terminations_by_app ON terminations(app_id, verdict, reported_unix_ms);"
     "CREATE TABLE dropped ("
     "  session_id TEXT NOT NULL, name TEXT NOT NULL, count BIGINT NOT NULL,"
     "  PRIMARY KEY (session_id, name)"
     ");"},
    {2,
     "sessions: os_build, the trail part folded from a verdict, samples kept as aggregates "
     "only, the last window's end",
     "ALTER TABLE sessions ADD COLUMN os_build TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE sessions ADD COLUMN window_last_ms BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE sessions ADD COLUMN trail_samples BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE sessions ADD COLUMN samples_trimmed BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE sessions ADD COLUMN trail BYTEA;"
     "UPDATE sessions SET window_last_ms = last_ms;"},
    {3,
     "rollups: per app, version, device, OS and day statistics kept at ingest; indexes for "
     "keyset paging and retention",
     "CREATE TABLE rollups ("
     "  app_id TEXT NOT NULL, app_version TEXT NOT NULL, device_model TEXT NOT NULL,"
     "  os_version TEXT NOT NULL, day BIGINT NOT NULL, sessions BIGINT NOT NULL,"
     "  with_data BIGINT NOT NULL, with_limit BIGINT NOT NULL, judged BIGINT NOT NULL,"
     "  oom BIGINT NOT NULL, oom_weak BIGINT NOT NULL, last_start_unix_ms BIGINT NOT NULL,"
     "  peaks BYTEA NOT NULL, fractions BYTEA NOT NULL,"
     "  PRIMARY KEY (app_id, app_version, device_model, os_version, day)"
     ");"
     "DROP INDEX sessions_by_app;"
     "CREATE INDEX sessions_by_app ON sessions(app_id, app_version, start_unix_ms, session_id);"
     "CREATE INDEX sessions_by_app_start ON sessions(app_id, start_unix_ms, session_id);"
     "CREATE INDEX sessions_by_start ON sessions(start_unix_ms, session_id);"
     "CREATE INDEX batches_by_session ON batches(session_id);"},
    {4,
     "windows and events partitioned by the day their session started (the rows stored "
     "before kept as one legacy partition); terminations indexed for keyset paging",
     /* No row is rewritten: the old table gains its day column without a
      * rewrite (a constant default) and becomes the partition of day -1,
      * which retention drops once it has emptied it. */
     "ALTER TABLE windows ADD COLUMN day BIGINT NOT NULL DEFAULT -1;"
     "ALTER TABLE windows RENAME TO windows_legacy;"
     "ALTER INDEX windows_by_session RENAME TO windows_legacy_by_session;"
     "CREATE TABLE windows ("
     "  session_id TEXT NOT NULL, start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL,"
     "  samples BIGINT NOT NULL, first_bytes BIGINT NOT NULL, last_bytes BIGINT NOT NULL,"
     "  min_bytes BIGINT NOT NULL, max_bytes BIGINT NOT NULL, mean_bytes BIGINT NOT NULL,"
     "  peak_bytes BIGINT NOT NULL, kernel_peak_bytes BIGINT NOT NULL,"
     "  limit_bytes BIGINT NOT NULL, headroom_bytes BIGINT NOT NULL, metric TEXT NOT NULL,"
     "  series BYTEA, batch_id TEXT NOT NULL, day BIGINT NOT NULL"
     ") PARTITION BY RANGE (day);"
     "ALTER TABLE windows ATTACH PARTITION windows_legacy FOR VALUES FROM (MINVALUE) TO (0);"
     "CREATE INDEX windows_by_session ON windows(session_id, start_ms);"
     "ALTER TABLE events ADD COLUMN day BIGINT NOT NULL DEFAULT -1;"
     "ALTER TABLE events RENAME TO events_legacy;"
     "ALTER INDEX events_by_session RENAME TO events_legacy_by_session;"
     "CREATE TABLE events ("
     "  session_id TEXT NOT NULL, t_ms BIGINT NOT NULL, kind TEXT NOT NULL,"
     "  threshold_id BIGINT, direction TEXT, urgent BIGINT, level_bytes BIGINT,"
     "  footprint_bytes BIGINT, limit_bytes BIGINT, pressure TEXT, batch_id TEXT NOT NULL,"
     "  day BIGINT NOT NULL"
     ") PARTITION BY RANGE (day);"
     "ALTER TABLE events ATTACH PARTITION events_legacy FOR VALUES FROM (MINVALUE) TO (0);"
     "CREATE INDEX events_by_session ON events(session_id, t_ms);"
     "CREATE INDEX terminations_by_report ON terminations(reported_unix_ms, session_id);"},
};
const int memgauge__pg_migration_count =
    (int)(sizeof memgauge__pg_migrations / sizeof memgauge__pg_migrations[0]);
