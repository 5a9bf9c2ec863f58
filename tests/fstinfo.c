/* fstinfo FILE.fst: open a waveform with GTKWave's own FST reader (fstapi.c, as
 * Verilator ships it) and print its signal count and time range. Exit 0 when it
 * opens and holds at least one signal and one time step; used by the tests to show
 * that the FST files layerpipe verify writes are ones GTKWave reads. */
#include <stdio.h>

#include "fstapi.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fstinfo FILE.fst\n");
        return 2;
    }
    void *f = fstReaderOpen(argv[1]);
    if (!f) {
        fprintf(stderr, "fstinfo: %s: not an FST file GTKWave can read\n", argv[1]);
        return 1;
    }
    unsigned long long vars = fstReaderGetVarCount(f), scopes = fstReaderGetScopeCount(f);
    unsigned long long t0 = fstReaderGetStartTime(f), t1 = fstReaderGetEndTime(f);
    printf("%s: %llu signals in %llu scopes, time %llu to %llu\n", argv[1], vars, scopes, t0, t1);
    fstReaderClose(f);
    return vars > 0 && t1 > t0 ? 0 : 1;
}
