/* Sums one integer per line of input.txt, writing the running sums to output.txt as it goes and
 * its progress to stderr. A line that is not an integer ends the run with exit code 3 and a last
 * stderr line naming it, after part of output.txt was written; no integer at all: exit code 4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    FILE *in = fopen("input.txt", "r");
    FILE *out = fopen("output.txt", "w");
    if (in == NULL || out == NULL) {
        perror("validate");
        return 1;
    }
    char line[128];
    long long sum = 0;
    int number = 0, count = 0;
    while (fgets(line, sizeof line, in) != NULL) {
        number++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0') continue;
        char *end;
        errno = 0;
        long long value = strtoll(line, &end, 10);
        if (end == line || *end != '\0' || errno == ERANGE) {
            fflush(out);
            fprintf(stderr, "validate: %d numbers read, sum so far %lld\n", count, sum);
            fprintf(stderr, "validate: line %d: not an integer: \"%s\"\n", number, line);
            exit(3);
        }
        sum += value;
        count++;
        fprintf(out, "%lld\n", sum);
        if (count % 100 == 0) fprintf(stderr, "validate: %d numbers so far\n", count);
    }
    fclose(in);
    if (count == 0) {
        fprintf(stderr, "validate: no integer in input.txt\n");
        return 4;
    }
    fprintf(out, "sum %lld of %d numbers\n", sum, count);
    return fclose(out) == 0 ? 0 : 1;
}
