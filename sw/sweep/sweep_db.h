/* sweep_db.h - a sweep's results: DIR/sweep.db, SQLite (docs/sweeps.md).
 *
 * One table, points, with a row per point from the start: its id, status (pending,
 * ok, failed), one column per axis, the error of a failed point, and one column per
 * figure (sweep_columns). A meta table names the sweep (the hash of the sweep file
 * and base config), the model and whether points train. Results come in as result
 * files (sweep_eval's JSON) whether a worker or a cluster job wrote them; a result
 * updates a pending row only, so a point is recorded once however often it arrives.
 * Every change is a transaction in WAL mode: a process killed at any moment, or a write
 * that fails (a full disk, a file-size limit), leaves the database as of its last
 * commit. An existing database is checked (PRAGMA quick_check, its meta table, the
 * sweep's hash) before anything is written to it; one that is truncated, damaged, not
 * SQLite, someone else's or another sweep's is reported (status 2, what to do) and left
 * as it is, never made again over.
 *
 * Ownership: struct sweep_db owns the connection (sweep_db_open / sweep_db_close).
 */
#ifndef LP_SWEEP_DB_H
#define LP_SWEEP_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/diag.h"
#include "sweep.h"

struct sweep_db {
    sqlite3 *db;
    char path[1100];
    char hash[20];            /* the sweep's, as result files give it */
    int64_t n_points;
    int needs;                /* SWEEP_TRAIN, SWEEP_AREA */
    char model[32];
    char sweep_file[1024];
    sqlite3_stmt *update;     /* one result */
    int n_out;
    int out[64];              /* the sweep_columns this database has */
    int existed;              /* the file was there, not empty, before this open */
    int had_wal;              /* so was its -wal */
    int damaged;              /* found damaged or not a sweep's: left as it was */
    int fail;                 /* the status of the last SQLite failure: 2 or 1 */
};

/* Open DIR/sweep.db for sweep s under options o, creating DIR and the database (every
 * point pending) when they do not exist (or the file is empty). Returns 0; 2 with d set
 * when the database is damaged, not a sweep's, of another sweep, model or training
 * choice, or cannot be written; 1 with d set on other failures. A database this call
 * made and could not finish is removed. */
int sweep_db_open(struct sweep_db *db, const char *dir, const struct sweep *s,
                  const struct sweep_opts *o, struct diag *d);
/* Open the database an earlier sweep made in DIR. Returns 0; 2 with d set when there
 * is none, or it is damaged or not a sweep's; 1 with d set on other failures. */
int sweep_db_open_existing(struct sweep_db *db, const char *dir, struct diag *d);
void sweep_db_close(struct sweep_db *db);

/* The ids of the pending points, in order (*ids malloc'd). Returns 0, or 1 with d set. */
int sweep_db_pending(struct sweep_db *db, int64_t **ids, int64_t *n, struct diag *d);
/* Points ok and failed so far. */
int sweep_db_counts(struct sweep_db *db, int64_t *ok, int64_t *failed, struct diag *d);
/* Make the failed points pending again. Returns how many, or -1 with d set. */
int64_t sweep_db_retry_failed(struct sweep_db *db, struct diag *d);

int sweep_db_begin(struct sweep_db *db, struct diag *d);
int sweep_db_commit(struct sweep_db *db, struct diag *d);

/* Record one result file (text, len bytes; name for messages). Returns 0 when it was
 * recorded, 1 when its point was already done (nothing changes), 2 with d set when the
 * text is not a result of this sweep (file:line:column), -1 with d set on SQLite
 * errors (db->fail says which status they are). *failed tells whether the point failed.
 *
 * sweep_db_pending, _counts, _begin and _commit return 0, or db->fail (2: the database
 * cannot be written or is damaged; 1) with d set; _retry_failed returns -1 then. */
int sweep_db_store(struct sweep_db *db, const char *name, const char *text, size_t len,
                   int *failed, struct diag *d);

#endif
