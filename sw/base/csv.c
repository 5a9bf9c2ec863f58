#include "csv.h"

#include <string.h>

void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        if (*p != '"') {
            fields[n++] = p;
            p += strcspn(p, ",");
        } else {   /* quoted: unquote in place */
            char *w = ++p;
            fields[n++] = w;
            for (;; p++) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] != '"')
                    break;
                if (*p == '"')
                    p++;
                *w++ = *p;
            }
            *w = '\0';
            if (*++p && *p != ',')
                return -1;
        }
        if (!*p)
            return n;
        *p++ = '\0';
    }
}
