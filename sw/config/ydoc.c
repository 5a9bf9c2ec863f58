#include "ydoc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "../base/files.h"
#include "../base/uniq.h"

#define YDOC_MAX_DEPTH 64

struct builder {
    yaml_parser_t parser;
    const char *name;
    const char *text;   /* the whole input, to place reader errors */
    size_t len;
    struct diag *d;
};


const char *ynode_kind_name(enum ynode_kind k)
{
    return k == YNODE_SCALAR ? "a scalar" : k == YNODE_SEQ ? "a list" : "a mapping";
}

static void node_free(struct ynode *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->n; i++) {
        node_free(n->items[i]);
        if (n->keys)
            node_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->text);
    free(n);
}

static int syntax_error(struct builder *b)
{
    yaml_parser_t *p = &b->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return diag_set(b->d, b->name, 0, 0, "out of memory");
    if (p->error == YAML_READER_ERROR) {
        int line = 1, col = 1;   /* columns count characters, as libyaml's do */
        for (size_t i = 0; i < p->problem_offset && i < b->len; i++) {
            unsigned char c = (unsigned char)b->text[i];
            if (c == '\n')
                line++, col = 1;
            else if ((c & 0xc0) != 0x80)
                col++;
        }
        return diag_set(b->d, b->name, line, col, "cannot read the file as YAML: %s",
                        p->problem ? p->problem : "reader error");
    }
    const yaml_mark_t *m = &p->problem_mark, *c = &p->context_mark;
    if (!p->context)
        return diag_set(b->d, b->name, (int)m->line + 1, (int)m->column + 1,
                        "YAML syntax error: %s", p->problem ? p->problem : "unknown");
    /* A scanner error, or an unclosed flow collection, is noticed after the
     * defect; the context (a key without ':', an open '[') is where it is. */
    if (p->error == YAML_SCANNER_ERROR || strstr(p->context, "flow"))
        return diag_set(b->d, b->name, (int)c->line + 1, (int)c->column + 1,
                        "YAML syntax error: %s %s (noticed at line %d, column %d)", p->problem,
                        p->context, (int)m->line + 1, (int)m->column + 1);
    return diag_set(b->d, b->name, (int)m->line + 1, (int)m->column + 1,
                    "YAML syntax error: %s %s started at line %d, column %d", p->problem,
                    p->context, (int)c->line + 1, (int)c->column + 1);
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev))
        return syntax_error(b);
    return 0;
}

static int refuse(struct builder *b, const yaml_event_t *ev, const char *what)
{
    return diag_set(b->d, b->name, (int)ev->start_mark.line + 1,
                    (int)ev->start_mark.column + 1, "%s", what);
}

static int append(struct ynode *n, struct ynode *key, struct ynode *item, int *cap)
{
    if (n->n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        struct ynode **it = realloc(n->items, sizeof *it * (size_t)nc);
        if (!it)
            return -1;
        n->items = it;
        if (n->kind == YNODE_MAP) {
            struct ynode **k = realloc(n->keys, sizeof *k * (size_t)nc);
            if (!k)
                return -1;
            n->keys = k;
        }
        *cap = nc;
    }
    if (n->kind == YNODE_MAP)
        n->keys[n->n] = key;
    n->items[n->n++] = item;
    return 0;
}

static int build_node(struct builder *b, yaml_event_t *ev, int depth, struct ynode **out);

/* No key twice in mapping n (checked once it is whole: a mapping may have a million keys). */
static int check_keys(struct builder *b, const struct ynode *n)
{
    const char **text = malloc(sizeof *text * (size_t)(n->n ? n->n : 1));
    if (!text)
        return diag_set(b->d, b->name, 0, 0, "out of memory");
    for (int i = 0; i < n->n; i++)
        text[i] = n->keys[i]->text;
    int first = 0, i = uniq_first_repeat(text, n->n, &first);
    free(text);
    if (i == -2)
        return diag_set(b->d, b->name, 0, 0, "out of memory");
    if (i < 0)
        return 0;
    const struct ynode *k = n->keys[i], *f = n->keys[first];
    return diag_set(b->d, b->name, k->line, k->col,
                    "duplicate key \"%s\" (first at line %d, column %d)", k->text, f->line,
                    f->col);
}

/* Read the children of a sequence or mapping until its end event. */
static int build_children(struct builder *b, struct ynode *n, int depth)
{
    int cap = 0;
    for (;;) {
        yaml_event_t ev;
        struct ynode *key = NULL, *val = NULL;
        if (next_event(b, &ev))
            return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return n->kind == YNODE_MAP ? check_keys(b, n) : 0;
        }
        if (n->kind == YNODE_MAP) {
            if (build_node(b, &ev, depth + 1, &key))
                return -1;
            if (key->kind != YNODE_SCALAR) {
                diag_set(b->d, b->name, key->line, key->col, "a mapping key must be a scalar");
                node_free(key);
                return -1;
            }
            if (next_event(b, &ev)) {
                node_free(key);
                return -1;
            }
        }
        if (build_node(b, &ev, depth + 1, &val) || append(n, key, val, &cap)) {
            node_free(key);
            node_free(val);
            if (!b->d->msg[0])
                diag_set(b->d, b->name, 0, 0, "out of memory");
            return -1;
        }
    }
}

/* Build the node that starts with ev (consumed here). */
static int build_node(struct builder *b, yaml_event_t *ev, int depth, struct ynode **out)
{
    const char *anchor = NULL, *tag = NULL;
    int rc = 0;
    *out = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor = (const char *)ev->data.scalar.anchor;
        tag = (const char *)ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = (const char *)ev->data.sequence_start.anchor;
        tag = (const char *)ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = (const char *)ev->data.mapping_start.anchor;
        tag = (const char *)ev->data.mapping_start.tag;
        break;
    case YAML_ALIAS_EVENT:
        rc = refuse(b, ev, "aliases (*name) are not supported: write the value out");
        goto done;
    default:
        rc = refuse(b, ev, "unexpected YAML event");
        goto done;
    }
    if (anchor) {
        rc = refuse(b, ev, "anchors (&name) are not supported: write the value out");
        goto done;
    }
    if (tag) {
        rc = refuse(b, ev, "tags (!name) are not supported");
        goto done;
    }
    if (depth > YDOC_MAX_DEPTH) {
        rc = refuse(b, ev, "nested too deeply");
        goto done;
    }
    struct ynode *n = calloc(1, sizeof *n);
    if (!n) {
        rc = diag_set(b->d, b->name, 0, 0, "out of memory");
        goto done;
    }
    n->line = (int)ev->start_mark.line + 1;
    n->col = (int)ev->start_mark.column + 1;
    n->file = b->name;
    if (ev->type == YAML_SCALAR_EVENT) {
        n->kind = YNODE_SCALAR;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        size_t len = ev->data.scalar.length;
        if (memchr(ev->data.scalar.value, '\0', len)) {
            node_free(n);
            rc = refuse(b, ev, "a NUL character in a scalar");
            goto done;
        }
        n->text = malloc(len + 1);
        if (!n->text) {
            node_free(n);
            rc = diag_set(b->d, b->name, 0, 0, "out of memory");
            goto done;
        }
        memcpy(n->text, ev->data.scalar.value, len);
        n->text[len] = '\0';
    } else {
        n->kind = ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP;
        yaml_event_delete(ev);
        if (build_children(b, n, depth)) {
            node_free(n);
            return -1;
        }
        *out = n;
        return 0;
    }
    *out = n;
done:
    yaml_event_delete(ev);
    return rc;
}

static int build_doc(struct builder *b, struct ydoc *doc)
{
    yaml_event_t ev;
    int docs = 0;
    for (;;) {
        if (next_event(b, &ev))
            return -1;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            refuse(b, &ev, "more than one YAML document in the file");
            yaml_event_delete(&ev);
            return -1;
        }
        yaml_event_delete(&ev);
        if (t != YAML_DOCUMENT_START_EVENT)
            continue;   /* stream start, document end */
        if (next_event(b, &ev) || build_node(b, &ev, 0, &doc->root))
            return -1;
    }
}

int ydoc_load_string(struct ydoc *doc, const char *name, const char *text, struct diag *d)
{
    return ydoc_load_buffer(doc, name, text, strlen(text), d);
}

int ydoc_load_buffer(struct ydoc *doc, const char *name, const char *text, size_t len,
                     struct diag *d)
{
    memset(doc, 0, sizeof *doc);
    d->msg[0] = '\0';
    doc->path = strdup(name);
    /* The nodes name the document by its own copy of name. */
    struct builder b = {.name = doc->path ? doc->path : name, .text = text, .len = len, .d = d};
    if (!doc->path || !yaml_parser_initialize(&b.parser)) {
        free(doc->path);
        doc->path = NULL;
        return diag_set(d, name, 0, 0, "out of memory");
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
    int rc = build_doc(&b, doc);
    yaml_parser_delete(&b.parser);
    if (rc)
        ydoc_free(doc);
    return rc;
}

int ydoc_load(struct ydoc *doc, const char *path, struct diag *d)
{
    char *buf;
    size_t len;
    memset(doc, 0, sizeof *doc);
    if (file_read(path, YDOC_MAX_BYTES, &buf, &len, d))
        return -1;
    int rc = ydoc_load_buffer(doc, path, buf, len, d);
    free(buf);
    return rc;
}

void ydoc_free(struct ydoc *doc)
{
    node_free(doc->root);
    free(doc->path);
    memset(doc, 0, sizeof *doc);
}

struct ynode *ynode_new(enum ynode_kind kind, const char *text, const struct ynode *at)
{
    struct ynode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = at->line, n->col = at->col, n->file = at->file;
    n->plain = 1;
    if (kind == YNODE_SCALAR && !(n->text = strdup(text))) {
        free(n);
        return NULL;
    }
    return n;
}

int ynode_map_add(struct ynode *map, struct ynode *key, struct ynode *value)
{
    struct ynode **k = realloc(map->keys, sizeof *k * (size_t)(map->n + 1));
    if (!k)
        return -1;
    map->keys = k;
    struct ynode **v = realloc(map->items, sizeof *v * (size_t)(map->n + 1));
    if (!v)
        return -1;
    map->items = v;
    map->keys[map->n] = key;
    map->items[map->n++] = value;
    return 0;
}

void ynode_free(struct ynode *n)
{
    node_free(n);
}

struct ynode *ynode_get(const struct ynode *map, const char *key)
{
    if (!map || map->kind != YNODE_MAP)
        return NULL;
    for (int i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->text, key) == 0)
            return map->items[i];
    return NULL;
}

/* The code point of the UTF-8 sequence at p (libyaml checked the encoding; a NUL ends a
 * cut sequence) and its length in bytes. */
static int utf8_next(const unsigned char *p, unsigned long *cp)
{
    int n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
    *cp = n > 1 ? *p & (0x3fu >> (n - 1)) : *p;
    for (int i = 1; i < n; i++) {
        if (!p[i])
            return i;
        *cp = *cp << 6 | (p[i] & 0x3fu);
    }
    return n;
}

/* Does libyaml read the character back as it is? Not the controls but tab, the line
 * breaks U+0085, U+2028 and U+2029 (which it folds), the BOM, U+FFFE/FFFF and, as
 * libyaml 0.2 reads them, characters above U+FFFF. */
static int raw_ok(unsigned long cp)
{
    return cp == '\t' || (cp >= 0x20 && cp <= 0x7e) ||
           (cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
           (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff);
}

/* Whether a plain scalar reads back as itself in flow style, without quotes. */
static int flow_plain(const char *s)
{
    if (!*s || strchr("?:,[]{}#&*!|>'\"%@` ", *s) || s[strlen(s) - 1] == ' ' ||
        (*s == '-' && (!s[1] || s[1] == ' ')) || !strncmp(s, "---", 3) ||
        !strncmp(s, "...", 3))   /* a document marker at the start of a line */
        return 0;
    /* libyaml refuses ':' before one of ,?[]{} inside a flow plain scalar ("a:?b") */
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned long cp;
        int n = utf8_next(p, &cp);
        if (!raw_ok(cp) || (cp < 0x80 && strchr(",[]{}#\t", (int)cp)) ||
            (cp == ':' && (p[1] == ' ' || p[1] == '?' || !p[1])))
            return 0;
        p += n;
    }
    return 1;
}

/* Write the UTF-8 text s inside double quotes, escaped where libyaml would not read the
 * character back raw (raw_ok), so that it reads back as the same text. */
static void flow_quoted(const char *s, FILE *out)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned long cp;
        int n = utf8_next(p, &cp);
        if (cp == '"' || cp == '\\')
            fprintf(out, "\\%c", (int)cp);
        else if (cp == '\n')
            fputs("\\n", out);
        else if (raw_ok(cp))
            fwrite(p, 1, (size_t)n, out);
        else if (cp < 0x100)
            fprintf(out, "\\x%02lx", cp);
        else if (cp < 0x10000)
            fprintf(out, "\\u%04lx", cp);
        else
            fprintf(out, "\\U%08lx", cp);
        p += n;
    }
    fputc('"', out);
}

void ynode_write_flow(const struct ynode *n, FILE *out)
{
    if (n->kind == YNODE_SCALAR) {
        if (n->plain && flow_plain(n->text)) {
            fputs(n->text, out);
            return;
        }
        flow_quoted(n->text, out);
        return;
    }
    fputc(n->kind == YNODE_SEQ ? '[' : '{', out);
    for (int i = 0; i < n->n; i++) {
        if (i)
            fputs(", ", out);
        if (n->kind == YNODE_MAP) {
            /* libyaml reads an implicit key of at most 1024 characters: a longer one
             * is written as an explicit key (? key: value) */
            char *key = NULL;
            size_t len = 0;
            FILE *k = open_memstream(&key, &len);
            if (k) {
                ynode_write_flow(n->keys[i], k);
                if (fclose(k))
                    len = 0;
            }
            if (key && len)
                fprintf(out, "%s%s: ", len > 1000 ? "? " : "", key);
            else {   /* out of memory: as it is */
                ynode_write_flow(n->keys[i], out);
                fputs(": ", out);
            }
            free(key);
        }
        ynode_write_flow(n->items[i], out);
    }
    fputc(n->kind == YNODE_SEQ ? ']' : '}', out);
}
