/* Fibonacci with arbitrary precision, C stdio: input.txt holds n (0..20000), output.txt gets F(n)
 * in decimal. A bad input is reported on stderr with exit code 2. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_N 20000
#define BASE 1000000000u /* nine decimal digits per limb */
#define LIMBS 480        /* F(20000) has 4180 digits */

static uint32_t a[LIMBS], b[LIMBS];

static int parse(const char *text, long *n) {
    while (isspace((unsigned char)*text)) text++;
    if (!isdigit((unsigned char)*text)) return 0;
    long value = 0;
    while (isdigit((unsigned char)*text)) {
        value = value * 10 + (*text - '0');
        if (value > MAX_N) return 0;
        text++;
    }
    while (isspace((unsigned char)*text)) text++;
    if (*text != '\0') return 0;
    *n = value;
    return 1;
}

int main(void) {
    char line[256];
    FILE *in = fopen("input.txt", "r");
    if (in == NULL) {
        perror("fibonacci: input.txt");
        return 1;
    }
    if (fgets(line, sizeof line, in) == NULL) line[0] = '\0';
    fclose(in);
    line[strcspn(line, "\r\n")] = '\0';

    long n;
    if (!parse(line, &n)) {
        fprintf(stderr, "fibonacci: reading input.txt\n");
        fprintf(stderr, "fibonacci: input must be an integer in 0..%d, got \"%s\"\n", MAX_N, line);
        return 2;
    }

    /* a = F(0), b = F(1); after i steps a = F(i). Little-endian limbs. */
    size_t used = 1;
    a[0] = 0;
    b[0] = 1;
    for (long i = 0; i < n; i++) {
        uint32_t carry = 0;
        for (size_t k = 0; k < used; k++) {
            uint32_t sum = a[k] + b[k] + carry; /* < 2 * BASE + 1 < 2^32 */
            carry = sum >= BASE;
            a[k] = b[k];
            b[k] = carry ? sum - BASE : sum;
        }
        if (carry) {
            a[used] = 0;
            b[used] = carry;
            used++;
        }
    }
    while (used > 1 && a[used - 1] == 0) used--;

    FILE *out = fopen("output.txt", "w");
    if (out == NULL) {
        perror("fibonacci: output.txt");
        return 1;
    }
    fprintf(out, "%u", (unsigned)a[used - 1]);
    for (size_t k = used - 1; k-- > 0;) fprintf(out, "%09u", (unsigned)a[k]);
    if (fclose(out) != 0) {
        perror("fibonacci: closing output.txt");
        return 1;
    }
    return 0;
}
