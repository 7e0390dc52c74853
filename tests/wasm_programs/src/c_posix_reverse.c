/* Byte reversal with POSIX I/O: open, fstat for the size, lseek + read from the end in chunks,
 * write, then fstat on the output to check its size. Reversing bytes (not characters) turns a
 * multi-byte UTF-8 input into an output that is not valid UTF-8. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 4096

static int read_fully(int fd, unsigned char *buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, buffer + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

static int write_fully(int fd, const unsigned char *buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, buffer + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

int main(void) {
    static unsigned char chunk[CHUNK], reversed[CHUNK];
    int in = open("input.txt", O_RDONLY);
    if (in < 0) {
        fprintf(stderr, "reverse: open input.txt: %s\n", strerror(errno));
        return 1;
    }
    struct stat st;
    if (fstat(in, &st) != 0) {
        fprintf(stderr, "reverse: fstat input.txt: %s\n", strerror(errno));
        return 1;
    }
    int out = open("output.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        fprintf(stderr, "reverse: open output.txt: %s\n", strerror(errno));
        return 1;
    }
    off_t position = st.st_size;
    while (position > 0) {
        size_t size = position < CHUNK ? (size_t)position : CHUNK;
        position -= (off_t)size;
        if (lseek(in, position, SEEK_SET) != position || read_fully(in, chunk, size) != 0) {
            fprintf(stderr, "reverse: reading input.txt at %lld: %s\n", (long long)position, strerror(errno));
            return 1;
        }
        for (size_t i = 0; i < size; i++) reversed[i] = chunk[size - 1 - i];
        if (write_fully(out, reversed, size) != 0) {
            fprintf(stderr, "reverse: writing output.txt: %s\n", strerror(errno));
            return 1;
        }
    }
    struct stat written;
    if (fstat(out, &written) != 0 || written.st_size != st.st_size) {
        fprintf(stderr, "reverse: output.txt has %lld bytes, expected %lld\n", (long long)written.st_size,
                (long long)st.st_size);
        return 5;
    }
    close(in);
    return close(out) == 0 ? 0 : 1;
}
