/* Versioned schema migrations. Each backend applies, in one transaction
 * each, every migration above the version recorded in schema_migrations.
 * Migrations are append-only: a released one is never edited. */
#ifndef MEMGAUGE_COLLECTOR_SCHEMA_H
#define MEMGAUGE_COLLECTOR_SCHEMA_H

typedef struct memgauge__migration_s {
    int version;
    const char *what;
    const char *sql; /* several statements */
} memgauge__migration_t;

extern const memgauge__migration_t memgauge__sqlite_migrations[];
extern const int memgauge__sqlite_migration_count;
extern const memgauge__migration_t memgauge__pg_migrations[];
extern const int memgauge__pg_migration_count;

#endif
