/* wc for a task, C stdio: lines, words, bytes, UTF-8 characters and the longest line (in
 * characters) of input.txt, read with fgets through a small buffer so long lines span many reads. */
#include <stdio.h>
#include <string.h>

int main(void) {
    FILE *in = fopen("input.txt", "r");
    if (in == NULL) {
        perror("wordcount: input.txt");
        return 1;
    }
    char buffer[61];
    long lines = 0, words = 0, bytes = 0, chars = 0, longest = 0, current = 0;
    int in_word = 0, last = '\n';
    while (fgets(buffer, sizeof buffer, in) != NULL) {
        size_t length = strlen(buffer);
        for (size_t i = 0; i < length; i++) {
            unsigned char c = (unsigned char)buffer[i];
            bytes++;
            if ((c & 0xC0) != 0x80) chars++;
            int space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
            if (!space && !in_word) words++;
            in_word = !space;
            if (c == '\n') {
                lines++;
                if (current > longest) longest = current;
                current = 0;
            } else if ((c & 0xC0) != 0x80) {
                current++;
            }
            last = c;
        }
    }
    if (ferror(in)) {
        perror("wordcount: reading input.txt");
        return 1;
    }
    fclose(in);
    if (last != '\n') lines++; /* a last line without its newline still counts */
    if (current > longest) longest = current;

    FILE *out = fopen("output.txt", "w");
    if (out == NULL) {
        perror("wordcount: output.txt");
        return 1;
    }
    fprintf(out, "lines %ld\nwords %ld\nbytes %ld\nchars %ld\nlongest %ld\n", lines, words, bytes, chars,
            longest);
    return fclose(out) == 0 ? 0 : 1;
}
