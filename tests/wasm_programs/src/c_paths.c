/* Opens every path listed in input.txt (one a line) with fopen and reports, for each, its size or
 * the error (errno and strerror): the error paths of a program reading files that are not there.
 * When none of the paths could be opened it says so on stderr and exits 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    FILE *list = fopen("input.txt", "r");
    if (list == NULL) {
        perror("paths: input.txt");
        return 1;
    }
    static char report[65536];
    size_t used = 0;
    char path[512];
    int tried = 0, opened = 0, last_errno = 0;
    while (fgets(path, sizeof path, list) != NULL) {
        path[strcspn(path, "\r\n")] = '\0';
        if (path[0] == '\0') continue;
        tried++;
        errno = 0;
        FILE *f = fopen(path, "rb");
        int n;
        if (f == NULL) {
            last_errno = errno;
            n = snprintf(report + used, sizeof report - used, "%s: error %d (%s)\n", path, errno, strerror(errno));
        } else {
            long bytes = 0;
            char block[256];
            size_t got;
            while ((got = fread(block, 1, sizeof block, f)) > 0) bytes += (long)got;
            fclose(f);
            opened++;
            n = snprintf(report + used, sizeof report - used, "%s: %ld bytes\n", path, bytes);
        }
        if (n < 0 || (size_t)n >= sizeof report - used) {
            fprintf(stderr, "paths: report too long\n");
            return 1;
        }
        used += (size_t)n;
    }
    fclose(list);
    if (opened == 0) {
        fprintf(stderr, "paths: tried %d paths\n", tried);
        fprintf(stderr, "paths: none of the %d paths could be opened (last error: %s)\n", tried,
                tried ? strerror(last_errno) : "none given");
        return 1;
    }
    FILE *out = fopen("output.txt", "w");
    if (out == NULL || fwrite(report, 1, used, out) != used || fclose(out) != 0) {
        perror("paths: output.txt");
        return 1;
    }
    return 0;
}
