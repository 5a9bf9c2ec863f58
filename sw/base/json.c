#include "json.h"

#include <math.h>
#include <stdlib.h>

void json_init(struct json *j, FILE *out)
{
    j->out = out;
    j->depth = 0;
    j->count[0] = 0;
}

static void put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Separator, newline, indentation and key before a value. */
static void lead(struct json *j, const char *key)
{
    if (j->depth > 0) {
        fputs(j->count[j->depth] ? ",\n" : "\n", j->out);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->out);
    }
    j->count[j->depth]++;
    if (key) {
        put_string(j->out, key);
        fputs(": ", j->out);
    }
}

static void begin(struct json *j, const char *key, char open)
{
    lead(j, key);
    fputc(open, j->out);
    if (j->depth + 1 < JSON_MAX_DEPTH)
        j->count[++j->depth] = 0;
}

static void end(struct json *j, char close)
{
    int had = j->count[j->depth];
    j->depth--;
    if (had) {
        fputc('\n', j->out);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->out);
    }
    fputc(close, j->out);
    if (j->depth == 0)
        fputc('\n', j->out);
}

void json_begin_object(struct json *j, const char *key) { begin(j, key, '{'); }
void json_end_object(struct json *j) { end(j, '}'); }
void json_begin_array(struct json *j, const char *key) { begin(j, key, '['); }
void json_end_array(struct json *j) { end(j, ']'); }

void json_int(struct json *j, const char *key, int64_t v)
{
    lead(j, key);
    fprintf(j->out, "%lld", (long long)v);
}

void json_int_or_null(struct json *j, const char *key, int64_t v)
{
    if (v < 0)
        json_null(j, key);
    else
        json_int(j, key, v);
}

void json_real(struct json *j, const char *key, double v)
{
    char buf[32];
    lead(j, key);
    if (!isfinite(v)) {
        fputs("null", j->out);
        return;
    }
    fputs(json_shortest(buf, sizeof buf, v), j->out);
}

const char *json_shortest(char *buf, size_t size, double v)
{
    if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {   /* 200, not 2e+02 */
        snprintf(buf, size, "%lld", (long long)v);
        return buf;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

void json_str(struct json *j, const char *key, const char *s)
{
    lead(j, key);
    put_string(j->out, s);
}

void json_bool(struct json *j, const char *key, int v)
{
    lead(j, key);
    fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key)
{
    lead(j, key);
    fputs("null", j->out);
}
