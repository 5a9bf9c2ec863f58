/* ydoc.h - a YAML document as a tree of nodes that remember their position.
 *
 * Built from libyaml's event stream. Stricter than YAML: one document only,
 * no anchors or aliases, no tags, and no duplicate keys in a mapping (libyaml
 * accepts those silently; ydoc_load refuses them with the key's position).
 *
 * Ownership: struct ydoc owns every node (ydoc_load / ydoc_free).
 */
#ifndef LP_YDOC_H
#define LP_YDOC_H

#include <stddef.h>
#include <stdio.h>

#include "../base/diag.h"

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
    enum ynode_kind kind;
    int line, col;          /* from 1 */
    const char *file;       /* the document it came from (its ydoc's path) */
    char *text;             /* scalar: its value */
    int plain;              /* scalar: 1 if unquoted (may be a number or bool) */
    int n;                  /* seq: items; map: pairs */
    struct ynode **items;   /* seq: items; map: values */
    struct ynode **keys;    /* map: keys (scalars) */
};

struct ydoc {
    struct ynode *root;     /* NULL for an empty file */
    char *path;
};

/* Parse path. Returns 0, or -1 with d set (I/O, syntax, or a refused feature). */
int ydoc_load(struct ydoc *doc, const char *path, struct diag *d);
/* Parse a string or a buffer of len bytes (name is used in messages). */
int ydoc_load_string(struct ydoc *doc, const char *name, const char *text, struct diag *d);
int ydoc_load_buffer(struct ydoc *doc, const char *name, const char *text, size_t len,
                     struct diag *d);
void ydoc_free(struct ydoc *doc);
/* The largest YAML file the tool reads (a config or a sweep file; files.h file_read). */
#define YDOC_MAX_BYTES ((size_t)16 << 20)

/* A node that a program adds, placed (file, line, column) where at is: a scalar with a
 * copy of text, or an empty list or mapping. NULL when out of memory. */
struct ynode *ynode_new(enum ynode_kind kind, const char *text, const struct ynode *at);
/* Append key: value to a mapping, which owns both from then on. Returns 0, or -1 when
 * out of memory (nothing appended). */
int ynode_map_add(struct ynode *map, struct ynode *key, struct ynode *value);
/* Free a node and its children (one that no document owns). */
void ynode_free(struct ynode *n);

/* Write n as one line of YAML flow style (scalars quoted when they must be), the
 * form a sweep records a value in. */
void ynode_write_flow(const struct ynode *n, FILE *out);

/* The value under key in a mapping, or NULL. */
struct ynode *ynode_get(const struct ynode *map, const char *key);
const char *ynode_kind_name(enum ynode_kind k);

#endif
