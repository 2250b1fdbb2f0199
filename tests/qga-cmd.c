/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qga-cmd: send one command to a qemu-ga socket and print its reply.
 *
 *   qga-cmd [-t SECONDS] [-s] SOCKET JSON
 *
 * Reads exactly one reply line, so it returns as soon as qemu-ga has
 * answered (socat cannot know when a reply is complete). -s first
 * resynchronises a virtio-serial channel, which may hold stale bytes from
 * an earlier connection: a 0xFF byte, then guest-sync-delimited with a
 * random id, skipping everything up to the matching reply.
 *
 * Exit status: 0 for {"return": ...}, 1 for {"error": ...}, 2 for a
 * timeout or an I/O error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t deadline_ms;

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what) {
        fprintf(stderr, "qga-cmd: %s: %s\n", what, errno ? strerror(errno) : "timed out");
        exit(2);
}

static int read_byte(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        unsigned char c;
        int64_t left = deadline_ms - now_ms();

        errno = 0;
        if (left <= 0 || poll(&p, 1, (int) left) != 1)
                die("waiting for the reply");
        if (read(fd, &c, 1) != 1)
                die("reading the reply");
        return c;
}

/* One line, without the newline, into buf. */
static void read_line(int fd, char *buf, size_t size) {
        size_t n = 0;
        int c;

        while ((c = read_byte(fd)) != '\n')
                if (n + 1 < size)
                        buf[n++] = (char) c;
        buf[n] = '\0';
}

static void send_all(int fd, const char *s, size_t n) {
        while (n > 0) {
                ssize_t w = write(fd, s, n);
                if (w <= 0)
                        die("sending");
                s += w;
                n -= (size_t) w;
        }
}

static void resync(int fd) {
        char cmd[128], expect[64], line[4096];
        unsigned id;

        srand((unsigned) (now_ms() ^ getpid()));
        id = (unsigned) rand() % 1000000000u;
        snprintf(cmd, sizeof cmd, "\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%u}}\n", id);
        snprintf(expect, sizeof expect, "\"return\": %u", id);
        send_all(fd, cmd, strlen(cmd));
        for (;;) {
                /* The agent answers with 0xFF then the reply: skip to it. */
                while (read_byte(fd) != 0xff)
                        ;
                read_line(fd, line, sizeof line);
                if (strstr(line, expect))
                        return;
        }
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int timeout_s = 30, sync = 0, opt, fd;
        static char reply[1 << 20];

        while ((opt = getopt(argc, argv, "t:s")) != -1) {
                if (opt == 't')
                        timeout_s = atoi(optarg);
                else if (opt == 's')
                        sync = 1;
                else
                        return 2;
        }
        if (argc - optind != 2) {
                fprintf(stderr, "usage: qga-cmd [-t SECONDS] [-s] SOCKET JSON\n");
                return 2;
        }
        deadline_ms = now_ms() + (int64_t) timeout_s * 1000;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[optind]);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                die(argv[optind]);
        if (sync)
                resync(fd);
        send_all(fd, argv[optind + 1], strlen(argv[optind + 1]));
        send_all(fd, "\n", 1);
        read_line(fd, reply, sizeof reply);
        puts(reply);
        close(fd);
        if (strstr(reply, "\"return\""))
                return 0;
        return 1;
}
