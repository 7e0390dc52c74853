/* Writes to output.txt as many bytes as input.txt names (a decimal count), cycling through the
 * characters a JSON string must escape: the control characters 0x01-0x1f, '"' and '\\'. Valid
 * UTF-8 that grows up to sixfold in the answer's JSON text: the output bound counts that text. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    FILE *in = fopen("input.txt", "r");
    long count = -1;
    if (in == NULL || fscanf(in, "%ld", &count) != 1 || count < 1) {
        fputs("controls: input.txt must hold a positive count\n", stderr);
        return 2;
    }
    fclose(in);
    static const char cycle[] = "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
                                "\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\"\\";
    static char block[33 * 1024]; /* a whole number of cycles: the pattern runs on across blocks */
    for (size_t i = 0; i < sizeof block; i++) block[i] = cycle[i % (sizeof cycle - 1)];
    FILE *out = fopen("output.txt", "wb");
    if (out == NULL) {
        perror("controls: output.txt");
        return 1;
    }
    for (long left = count; left > 0;) {
        size_t n = left < (long)sizeof block ? (size_t)left : sizeof block;
        if (fwrite(block, 1, n, out) != n) {
            perror("controls: write");
            return 1;
        }
        left -= (long)n;
    }
    return fclose(out) == 0 ? 0 : 1;
}
