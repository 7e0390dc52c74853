/* Reads input.txt and writes output.txt through several I/O interfaces at once: read() in small
 * chunks, a scratch file written with pwrite and read back with pread, stat and unlink, an output
 * whose fixed-width header is rewritten after an lseek back to 0, and a footer appended through a
 * stdio stream over an O_APPEND descriptor (fdopen). */
#define _POSIX_C_SOURCE 200809L /* fdopen, pread, pwrite */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCRATCH "journal.tmp"

static void fail(const char *what) {
    fprintf(stderr, "journal: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_all(int fd, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n <= 0) fail("write");
        p += n;
        size -= (size_t)n;
    }
}

/* pread and pwrite may transfer less than asked (wasmtime's WASI does with large buffers): loop */
static void pwrite_all(int fd, const void *data, size_t size, off_t offset) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = pwrite(fd, p, size, offset);
        if (n <= 0) fail("pwrite");
        p += n;
        size -= (size_t)n;
        offset += n;
    }
}

static void pread_all(int fd, void *data, size_t size, off_t offset) {
    char *p = data;
    while (size > 0) {
        ssize_t n = pread(fd, p, size, offset);
        if (n <= 0) fail("pread");
        p += n;
        size -= (size_t)n;
        offset += n;
    }
}

static uint32_t crc32(const unsigned char *data, size_t size) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

int main(void) {
    /* 1. input.txt through read() seven bytes at a time */
    int in = open("input.txt", O_RDONLY);
    if (in < 0) fail("open input.txt");
    size_t size = 0, capacity = 64;
    unsigned char *input = malloc(capacity);
    for (;;) {
        if (size + 7 > capacity) input = realloc(input, capacity *= 2);
        if (input == NULL) fail("realloc");
        ssize_t n = read(in, input + size, 7);
        if (n < 0) fail("read input.txt");
        if (n == 0) break;
        size += (size_t)n;
    }
    close(in);

    /* 2. numbered lines into a scratch file, each with pwrite at the end offset */
    int scratch = open(SCRATCH, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (scratch < 0) fail("open " SCRATCH);
    off_t end = 0;
    long lines = 0;
    for (size_t start = 0; start < size;) {
        size_t stop = start;
        while (stop < size && input[stop] != '\n') stop++;
        char prefix[16];
        int plen = snprintf(prefix, sizeof prefix, "%4ld| ", ++lines);
        pwrite_all(scratch, prefix, (size_t)plen, end);
        end += plen;
        size_t length = stop - start + (stop < size); /* the newline, if there is one */
        pwrite_all(scratch, input + start, length, end);
        end += (off_t)length;
        start = stop + 1;
    }
    struct stat st;
    if (fstat(scratch, &st) != 0) fail("fstat " SCRATCH);
    if (st.st_size != end) {
        fprintf(stderr, "journal: " SCRATCH " has %lld bytes, wrote %lld\n", (long long)st.st_size, (long long)end);
        return 5;
    }
    char *body = malloc((size_t)end + 1);
    if (body == NULL) fail("malloc");
    pread_all(scratch, body, (size_t)end, 0);
    close(scratch);
    if (unlink(SCRATCH) != 0) fail("unlink " SCRATCH);
    if (stat(SCRATCH, &st) == 0 || errno != ENOENT) {
        fprintf(stderr, "journal: " SCRATCH " still there after unlink\n");
        return 5;
    }

    /* 3. output.txt: a placeholder header, the body, then the real header over the placeholder */
    int out = open("output.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) fail("open output.txt");
    char header[64];
    int hlen = snprintf(header, sizeof header, "lines=%08ld bytes=%08ld\n", 0L, 0L);
    write_all(out, header, (size_t)hlen);
    write_all(out, body, (size_t)end);
    if (lseek(out, 0, SEEK_SET) != 0) fail("lseek output.txt");
    if (snprintf(header, sizeof header, "lines=%08ld bytes=%08ld\n", lines, (long)size) != hlen) return 5;
    write_all(out, header, (size_t)hlen);
    off_t total = lseek(out, 0, SEEK_END);
    if (total != hlen + end) {
        fprintf(stderr, "journal: output.txt ends at %lld, expected %lld\n", (long long)total, (long long)(hlen + end));
        return 5;
    }
    close(out);

    /* 4. a footer through stdio over an O_APPEND descriptor */
    int fd = open("output.txt", O_WRONLY | O_APPEND);
    if (fd < 0) fail("open output.txt for append");
    FILE *footer = fdopen(fd, "a");
    if (footer == NULL) fail("fdopen");
    fprintf(footer, "crc32=%08x size=%lld\n", (unsigned)crc32(input, size), (long long)total);
    if (fclose(footer) != 0) fail("fclose");
    free(body);
    free(input);
    return 0;
}
