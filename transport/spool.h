/*
 * The spool: one file per batch not yet acknowledged, under the storage
 * directory. A file appears whole or not at all (temp file, fsync, rename,
 * fsync of the directory); names sort oldest first; a budget of bytes,
 * files and age evicts the oldest; a file that does not read back whole is
 * moved to corrupt/ and counted, never sent. Worker thread only.
 *
 * Two kinds of file, one format: "b-…" is a batch to send; "p-…" is the
 * batch being assembled (its windows so far), replaced whole by each new
 * version under the same name and batch id, renamed to "b-…" when the batch
 * is due. A pending file whose writer died is renamed to "b-…" when the
 * spool is next opened and sent like the others.
 */
#ifndef MEMGAUGE_TRANSPORT_SPOOL_H
#define MEMGAUGE_TRANSPORT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__SPOOL_NAME_MAX 64
#define MEMGAUGE__SPOOL_HEADER 88
#define MEMGAUGE__SPOOL_MAX_BODY (16u << 20) /* the collector's default body cap */
#define MEMGAUGE__SPOOL_CORRUPT_KEEP 16      /* set-aside files kept for inspection */
#define MEMGAUGE__SPOOL_FLAG_GZIP 1u

/* file kinds, by name */
#define MEMGAUGE__SPOOL_BATCH 1   /* "b-<created>-<seq>-<pid>[-<token>].mgs": to send */
#define MEMGAUGE__SPOOL_PENDING 2 /* "p-<created>-<seq>-<pid>-<token>.mgs": being assembled */

typedef struct memgauge__spool_s {
    char dir[512];
    uint64_t max_bytes;
    uint32_t max_files;
    uint32_t max_age_s;
    uint32_t seq;
    uint32_t token;   /* random per open: tells this spool's pending files from a dead run's */
    uint64_t evicted; /* totals since open */
    uint64_t corrupt;
    uint64_t pending_writes; /* versions of pending batches written */
    uint64_t recovered;      /* pending files of dead writers turned into batches at open */
    uint64_t files, bytes;   /* after the last scan: batch files to send, bytes of both kinds */
    uint64_t pending_files;
} memgauge__spool_t;

/* A parsed spool file; body points into the buffer that was parsed. */
typedef struct memgauge__spool_entry_s {
    uint32_t flags;
    uint64_t created_unix_ms;
    char batch_id[37];
    const unsigned char *body;
    size_t body_len;
} memgauge__spool_entry_t;

/* Creates dir (one level), removes temp files that dead writers left and
 * turns their pending files into batch files (counted in `recovered`).
 * 0 or -1 (errno set). */
int memgauge__spool_open(memgauge__spool_t *s, const char *dir, uint64_t max_bytes,
                         uint32_t max_files, uint32_t max_age_s);

/* Writes one batch atomically, then applies the budget. name_out receives
 * the file's name. 0 or -1. */
int memgauge__spool_write(memgauge__spool_t *s, const char *batch_id, uint64_t created_unix_ms,
                          uint32_t flags, const void *body, size_t len,
                          char name_out[MEMGAUGE__SPOOL_NAME_MAX]);

/* Writes a version of the pending batch atomically (the same discipline),
 * replacing the previous version: name_io is "" for a batch's first version
 * and receives its name, which later versions (same batch id, same
 * created_unix_ms) pass back. Then applies the budget, which counts pending
 * files like the others. 0 or -1 (the previous version, if any, stays). */
int memgauge__spool_write_pending(memgauge__spool_t *s, const char *batch_id,
                                  uint64_t created_unix_ms, uint32_t flags, const void *body,
                                  size_t len, char name_io[MEMGAUGE__SPOOL_NAME_MAX]);

/* The pending batch is due: renames it to its batch file name (name_out)
 * and fsyncs the directory. 0, or -1 when it is gone (evicted). */
int memgauge__spool_promote(memgauge__spool_t *s, const char *pending_name,
                            char name_out[MEMGAUGE__SPOOL_NAME_MAX]);

/* MEMGAUGE__SPOOL_BATCH or MEMGAUGE__SPOOL_PENDING for a spool file name,
 * 0 for any other name. Pure. */
int memgauge__spool_name_kind(const char *name);

/* The writer of a well-formed pending file name: 0 with its pid and token,
 * or -1. Pure. */
int memgauge__spool_pending_writer(const char *name, unsigned long *pid, uint32_t *token);

/* The created time in a spool file name (0 when there is none). Pure. */
uint64_t memgauge__spool_created_of(const char *name);

/* Applies the budget (age against now_unix_ms), oldest first, and refreshes
 * files/bytes. Returns how many files it evicted. */
uint32_t memgauge__spool_enforce(memgauge__spool_t *s, uint64_t now_unix_ms);

/* The oldest batch file's name into name_out (pending files are not sent):
 * 1, or 0 when there is none. Refreshes files/bytes/pending_files. */
int memgauge__spool_oldest(memgauge__spool_t *s, char name_out[MEMGAUGE__SPOOL_NAME_MAX]);

/* Lists the directory again and refreshes files/bytes/pending_files, which
 * other processes of the app (sending the same spool) and the budget
 * change behind this one's back. */
void memgauge__spool_rescan(memgauge__spool_t *s);

/* Reads a spool file: 0 with *buf (malloc'd, caller frees) and *entry
 * pointing into it; -1 when it is corrupt (it is then set aside and
 * counted); -2 when it vanished (another process sent it). */
int memgauge__spool_read(memgauge__spool_t *s, const char *name, unsigned char **buf,
                         memgauge__spool_entry_t *entry);

/* Removes an acknowledged (or dropped) file, or a pending one. */
void memgauge__spool_remove(memgauge__spool_t *s, const char *name);

/* Parses a whole file image: 0, or -1 when it is not a whole, valid spool
 * file. Pure: no I/O; the fuzz target's entry point. */
int memgauge__spool_parse(const unsigned char *buf, size_t len, memgauge__spool_entry_t *out);

/* Serialises the header for a body (for tests and the writer). */
void memgauge__spool_header(unsigned char out[MEMGAUGE__SPOOL_HEADER], const char *batch_id,
                            uint64_t created_unix_ms, uint32_t flags, const void *body, size_t len);

#endif
