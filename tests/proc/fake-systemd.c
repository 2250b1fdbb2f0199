/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-systemd: a stand-in for systemd's manager on its private socket,
 * enough for the freeze deadline: StartTransientUnit, StopUnit and GetUnit
 * of org.freedesktop.systemd1.Manager, over a direct (bus-less) sd-bus
 * connection as systemctl uses as root.
 *
 *   fake-systemd DIR [--stall-get-unit]
 *
 * Listens on DIR/private, creates DIR/system/ (which sd_booted() looks
 * for): bind-mounted on /run/systemd in a private mount namespace, it is
 * the systemd the dispatcher finds there. Each call is appended to
 * DIR/calls as "MEMBER UNIT" once it arrives, so that a test can count
 * what a phase asked; after StartTransientUnit, "WorkingDirectory WD" with
 * the service's WorkingDirectory= (empty if none was given). GetUnit answers NoSuchUnit for a unit never started,
 * stopped, or when DIR/forget exists (units stopped behind our back);
 * with --stall-get-unit it never answers (a systemd that hangs: the
 * caller waits for its bus timeout). It never fires a timer. Runs until
 * killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <systemd/sd-bus.h>

static const char *dir;
static bool stall;
static GHashTable *units;

static void record(const char *member, const char *unit) {
        g_autofree char *path = g_build_filename(dir, "calls", NULL);
        g_autofree char *line = g_strdup_printf("%s %s\n", member, unit);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

        if (fd < 0 || write(fd, line, strlen(line)) < 0)
                perror(path);
        if (fd >= 0)
                close(fd);
}

static bool forgotten(void) {
        g_autofree char *path = g_build_filename(dir, "forget", NULL);

        return access(path, F_OK) == 0;
}

/* StartTransientUnit's arguments after the unit's name: the mode, the
 * timer's properties, then the service's, of which WorkingDirectory=. */
static void record_working_directory(sd_bus_message *m) {
        const char *mode, *service, *key, *wd = "";

        if (sd_bus_message_read(m, "s", &mode) < 0 || sd_bus_message_skip(m, "a(sv)") < 0 ||
            sd_bus_message_enter_container(m, 'a', "(sa(sv))") <= 0 ||
            sd_bus_message_enter_container(m, 'r', "sa(sv)") <= 0 || sd_bus_message_read(m, "s", &service) < 0 ||
            sd_bus_message_enter_container(m, 'a', "(sv)") <= 0)
                return;
        while (sd_bus_message_enter_container(m, 'r', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &key) < 0)
                        return;
                if (strcmp(key, "WorkingDirectory") == 0 ? sd_bus_message_read(m, "v", "s", &wd) < 0
                                                          : sd_bus_message_skip(m, "v") < 0)
                        return;
                if (sd_bus_message_exit_container(m) < 0)
                        return;
        }
        record("WorkingDirectory", wd);
}

/* Returns false to stop answering on this connection (a stall). */
static bool answer(sd_bus_message *m) {
        const char *member = sd_bus_message_get_member(m), *unit = "";

        (void) sd_bus_message_read(m, "s", &unit);
        record(member, unit);
        if (strcmp(member, "StartTransientUnit") == 0) {
                g_hash_table_add(units, g_strdup(unit));
                record_working_directory(m);
                return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/1") >= 0;
        }
        if (strcmp(member, "StopUnit") == 0) {
                if (!g_hash_table_remove(units, unit))
                        return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.NoSuchUnit",
                                                          "Unit %s not loaded.", unit) >= 0;
                return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/2") >= 0;
        }
        if (strcmp(member, "GetUnit") == 0) {
                if (stall)
                        return false;
                if (forgotten() || !g_hash_table_contains(units, unit))
                        return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.NoSuchUnit",
                                                          "Unit %s not loaded.", unit) >= 0;
                return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/unit/x") >= 0;
        }
        return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD, "%s", member) >= 0;
}

/* One client until it hangs up. A stalled call is left unanswered: the
 * client gives up after its timeout and closes. */
static void serve(int fd) {
        sd_bus *bus = NULL;
        sd_id128_t id;
        bool answering = true;

        if (sd_id128_randomize(&id) < 0 || sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 ||
            sd_bus_set_server(bus, 1, id) < 0 || sd_bus_start(bus) < 0) {
                close(fd);
                sd_bus_unref(bus);
                return;
        }
        for (;;) {
                sd_bus_message *m = NULL;
                int r = sd_bus_process(bus, &m);

                if (r < 0)
                        break;
                if (m && answering && sd_bus_message_is_method_call(m, NULL, NULL) > 0)
                        answering = answer(m);
                sd_bus_message_unref(m);
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        break;
        }
        sd_bus_flush_close_unref(bus);
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        g_autofree char *sock = NULL, *system = NULL;
        int listen_fd;

        if (argc < 2) {
                fprintf(stderr, "usage: fake-systemd DIR [--stall-get-unit]\n");
                return 2;
        }
        dir = argv[1];
        stall = argc > 2 && strcmp(argv[2], "--stall-get-unit") == 0;
        units = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        sock = g_build_filename(dir, "private", NULL);
        system = g_build_filename(dir, "system", NULL);
        if (mkdir(system, 0755) < 0 && errno != EEXIST)
                return 1;
        g_strlcpy(sa.sun_path, sock, sizeof sa.sun_path);
        (void) unlink(sock);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(listen_fd, 16) < 0) {
                perror(sock);
                return 1;
        }
        for (;;) {
                int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

                if (fd >= 0)
                        serve(fd);
        }
}
