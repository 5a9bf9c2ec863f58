/* json.h - a small streaming JSON writer with two-space indentation.
 *
 * Calls nest: json_begin_object / json_end_object, json_begin_array /
 * json_end_array. Inside an object every value takes a key; inside an array
 * and at the top the key is NULL. Output is deterministic: integers exactly,
 * reals as the shortest decimal that reads back to the same double.
 */
#ifndef LP_JSON_H
#define LP_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
    FILE *out;
    int depth;
    int count[JSON_MAX_DEPTH];   /* values written at each depth */
};

void json_init(struct json *j, FILE *out);
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
void json_int(struct json *j, const char *key, int64_t v);
void json_real(struct json *j, const char *key, double v);
void json_str(struct json *j, const char *key, const char *s);
void json_bool(struct json *j, const char *key, int v);
void json_null(struct json *j, const char *key);
/* An integer, or null when v < 0 (for "not applicable" slots). */
void json_int_or_null(struct json *j, const char *key, int64_t v);

/* The shortest "%g" decimal that reads back as v, in buf (32 bytes do). */
const char *json_shortest(char *buf, size_t size, double v);

#endif
