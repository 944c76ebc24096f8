/* SQLite schema. Samples are stored as one blob per window
 * (series_codec.c), chosen by measurement: see docs/collector.md. */
#include "schema.h"

const memgauge__migration_t memgauge__sqlite_migrations[] = {
    {1, "sessions, batches, windows with sample blobs, events, terminations, dropped",
     "CREATE TABLE batches ("
     "  batch_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, received_unix_ms INTEGER NOT NULL,"
     "  sent_unix_ms INTEGER NOT NULL, sdk_name TEXT NOT NULL, sdk_version TEXT NOT NULL,"
     "  windows INTEGER NOT NULL, samples INTEGER NOT NULL, events INTEGER NOT NULL"
     ") WITHOUT ROWID;"
     "CREATE TABLE sessions ("
     "  session_id TEXT PRIMARY KEY, app_id TEXT NOT NULL, app_version TEXT NOT NULL,"
     "  app_build TEXT NOT NULL, device_model TEXT NOT NULL, os_name TEXT NOT NULL,"
     "  os_version TEXT NOT NULL, metric TEXT NOT NULL, start_unix_ms INTEGER NOT NULL,"
     "  interval_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, samples INTEGER NOT NULL,"
     "  windows INTEGER NOT NULL, batches INTEGER NOT NULL, peak_bytes INTEGER NOT NULL,"
     "  max_bytes INTEGER NOT NULL, limit_bytes INTEGER NOT NULL, peak_fraction REAL,"
     "  dropped INTEGER NOT NULL"
     ");"
     "CREATE INDEX sessions_by_app ON sessions(app_id, app_version, start_unix_ms);"
     "CREATE TABLE windows ("
     "  session_id TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,"
     "  samples INTEGER NOT NULL, first_bytes INTEGER NOT NULL, last_bytes INTEGER NOT NULL,"
     "  min_bytes INTEGER NOT NULL, max_bytes INTEGER NOT NULL, mean_bytes INTEGER NOT NULL,"
     "  peak_bytes INTEGER NOT NULL, kernel_peak_bytes INTEGER NOT NULL,"
     "  limit_bytes INTEGER NOT NULL, headroom_bytes INTEGER NOT NULL, metric TEXT NOT NULL,"
     "  series BLOB, batch_id TEXT NOT NULL"
     ");"
     "CREATE INDEX windows_by_session ON windows(session_id, start_ms);"
     "CREATE TABLE events ("
     "  session_id TEXT NOT NULL, t_ms INTEGER NOT NULL, kind TEXT NOT NULL,"
     "  threshold_id INTEGER, direction TEXT, urgent INTEGER, level_bytes INTEGER,"
     "  footprint_bytes INTEGER, limit_bytes INTEGER, pressure TEXT, batch_id TEXT NOT NULL"
     ");"
     "CREATE INDEX events_by_session ON events(session_id, t_ms);"
     "CREATE TABLE terminations ("
     "  session_id TEXT PRIMARY KEY, reported_by TEXT NOT NULL,"
     "  reported_unix_ms INTEGER NOT NULL, app_id TEXT NOT NULL, app_version TEXT NOT NULL,"
     "  device_model TEXT NOT NULL, os_version TEXT NOT NULL, verdict TEXT NOT NULL,"
     "  grade TEXT NOT NULL, start_unix_ms INTEGER NOT NULL, ended_ms INTEGER NOT NULL,"
     "  last_footprint_bytes INTEGER NOT NULL, limit_bytes INTEGER NOT NULL,"
     "  pressure TEXT NOT NULL, trail BLOB"
     ");"
     "CREATE INDEX terminations_by_app ON terminations(app_id, verdict, reported_unix_ms);"
     "CREATE TABLE dropped ("
     "  session_id TEXT NOT NULL, name TEXT NOT NULL, count INTEGER NOT NULL,"
     "  PRIMARY KEY (session_id, name)"
     ") WITHOUT ROWID;"},
    {2,
     "sessions: os_build, the trail part folded from a verdict, samples kept as aggregates "
     "only, the last window's end",
     "ALTER TABLE sessions ADD COLUMN os_build TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE sessions ADD COLUMN window_last_ms INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE sessions ADD COLUMN trail_samples INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE sessions ADD COLUMN samples_trimmed INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE sessions ADD COLUMN trail BLOB;"
     "UPDATE sessions SET window_last_ms = last_ms;"},
    {3,
     "rollups: per app, version, device, OS and day statistics kept at ingest; indexes for "
     "keyset paging and retention",
     "CREATE TABLE rollups ("
     "  app_id TEXT NOT NULL, app_version TEXT NOT NULL, device_model TEXT NOT NULL,"
     "  os_version TEXT NOT NULL, day INTEGER NOT NULL, sessions INTEGER NOT NULL,"
     "  with_data INTEGER NOT NULL, with_limit INTEGER NOT NULL, judged INTEGER NOT NULL,"
     "  oom INTEGER NOT NULL, oom_weak INTEGER NOT NULL, last_start_unix_ms INTEGER NOT NULL,"
     "  peaks BLOB NOT NULL, fractions BLOB NOT NULL,"
     "  PRIMARY KEY (app_id, app_version, device_model, os_version, day)"
     ") WITHOUT ROWID;"
     "DROP INDEX sessions_by_app;"
     "CREATE INDEX sessions_by_app ON sessions(app_id, app_version, start_unix_ms, session_id);"
     "CREATE INDEX sessions_by_app_start ON sessions(app_id, start_unix_ms, session_id);"
     "CREATE INDEX sessions_by_start ON sessions(start_unix_ms, session_id);"
     "CREATE INDEX batches_by_session ON batches(session_id);"},
    {4, "terminations indexed for keyset paging (PostgreSQL also partitions by day here)",
     "CREATE INDEX terminations_by_report ON terminations(reported_unix_ms, session_id);"},
};
const int memgauge__sqlite_migration_count =
    (int)(sizeof memgauge__sqlite_migrations / sizeof memgauge__sqlite_migrations[0]);
