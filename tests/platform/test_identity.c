/*
 * Identity on Linux (identity_linux.c), each field compared with an
 * independent source: the boot_id file read by cat, uname(1), readelf(1)
 * on this very executable, a real tracer attached with ptrace, a binary
 * deleted while it runs. And the default state directory's rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <memgauge/memgauge.h>

#include "platform.h"
#include "support/support.h"

/* The first line a shell command prints, without its newline. */
static void command_line(const char *cmd, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f, "popen %s", cmd);
    if (fgets(out, (int)cap, f) == NULL)
        out[0] = '\0';
    pclose(f);
    out[strcspn(out, "\n")] = '\0';
}

static memgauge__identity_t identity_now(void)
{
    memgauge__identity_t id;
    cr_assert(eq(int, memgauge__platform_identity(&id), MEMGAUGE_OK));
    return id;
}

Test(identity, null_is_refused)
{
    cr_assert(eq(int, memgauge__platform_identity(NULL), MEMGAUGE_E_NULL_ARGUMENT));
}

Test(identity, boot_id_is_the_kernels)
{
    char expected[128];
    command_line("cat /proc/sys/kernel/random/boot_id", expected, sizeof expected);
    memgauge__identity_t id = identity_now();

    cr_assert(eq(sz, strlen(id.boot_id), 36), "a UUID: %s", id.boot_id);
    cr_assert(eq(str, id.boot_id, expected));
}

Test(identity, os_version_is_unames_name_and_release_and_os_build_its_version)
{
    char expected[256], build[256];
    command_line("uname -s -r", expected, sizeof expected);
    command_line("uname -v", build, sizeof build);
    memgauge__identity_t id = identity_now();

    expected[sizeof id.os_version - 1] = '\0'; /* truncated to fit, never overflowed */
    build[sizeof id.os_build - 1] = '\0';
    cr_assert(eq(str, id.os_version, expected));
    cr_assert(eq(str, id.os_build, build));
    cr_assert(eq(ptr, strchr(id.os_version + strlen("Linux "), ' '), NULL),
              "a release reads like a version: %s", id.os_version);
}

Test(identity, build_id_is_the_gnu_build_id_that_readelf_finds_in_this_executable)
{
    char cmd[128], expected[128];
    snprintf(cmd, sizeof cmd,
             "readelf -n /proc/%d/exe 2>/dev/null | sed -n 's/^ *Build ID: *//p' | head -n 1",
             (int)getpid());
    command_line(cmd, expected, sizeof expected);
    if (expected[0] == '\0')
        cr_skip_test("this executable has no build-id note (or readelf is missing)");
    memgauge__identity_t id = identity_now();

    cr_assert(eq(str, id.build_id, expected));
}

Test(identity, device_model_is_the_dmi_product_name_or_the_machine)
{
    char expected[128];
    command_line("cat /sys/devices/virtual/dmi/id/product_name 2>/dev/null || "
                 "{ tr -d '\\0' </sys/firmware/devicetree/base/model; } 2>/dev/null || uname -m",
                 expected, sizeof expected);
    /* trim as the reader does */
    size_t n = strlen(expected);
    while (n > 0 && (expected[n - 1] == ' ' || expected[n - 1] == '\t'))
        expected[--n] = '\0';
    if (expected[0] == '\0')
        command_line("uname -m", expected, sizeof expected);
    memgauge__identity_t id = identity_now();

    cr_assert(ne(str, id.device_model, ""));
    cr_assert(eq(str, id.device_model, expected));
}

Test(identity, exe_name_is_the_basename_of_the_running_executable)
{
    char cmd[128], expected[256];
    snprintf(cmd, sizeof cmd, "basename \"$(readlink /proc/%d/exe)\"", (int)getpid());
    command_line(cmd, expected, sizeof expected);
    memgauge__identity_t id = identity_now();

    cr_assert(ne(str, expected, ""));
    cr_assert(eq(str, id.exe_name, expected));
}

/* ---- a binary deleted while it runs ------------------------------------ */

/* A copy of this executable started with this variable set prints its
 * identity's exe_name on fd 3 and exits before Criterion starts. */
#define CHILD_ENV "MEMGAUGE_TEST_IDENTITY_CHILD"

__attribute__((constructor)) static void identity_child(void)
{
    const char *self = getenv(CHILD_ENV);
    if (self == NULL)
        return;
    unlink(self); /* /proc/self/exe now ends in " (deleted)" */
    memgauge__identity_t id;
    memgauge__platform_identity(&id);
    ssize_t n = write(3, id.exe_name, strlen(id.exe_name));
    _exit(n == (ssize_t)strlen(id.exe_name) ? 0 : 1);
}

static char copy_path[128];

static void remove_copy(void)
{
    if (copy_path[0])
        unlink(copy_path);
}

Test(identity, exe_name_of_a_deleted_binary_has_no_deleted_suffix, .fini = remove_copy)
{
    snprintf(copy_path, sizeof copy_path, "/tmp/memgauge-id-app-%d", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp /proc/%d/exe %s && chmod 700 %s", (int)getpid(), copy_path,
             copy_path);
    cr_assert(eq(int, system(cmd), 0));
    int fds[2];
    cr_assert(eq(int, pipe(fds), 0));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 3);
        setenv(CHILD_ENV, copy_path, 1);
        execl(copy_path, copy_path, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char name[128] = {0};
    ssize_t n = read(fds[0], name, sizeof name - 1);
    close(fds[0]);
    int status;
    mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status);
    int exited = WIFEXITED(status);
    cr_assert(exited);
    cr_assert(eq(int, WEXITSTATUS(status), 0));
    cr_assert_gt(n, 0);
    cr_assert(eq(str, name, strrchr(copy_path, '/') + 1));
    cr_assert(eq(int, access(copy_path, F_OK), -1), "the copy deleted itself");
}

/* ---- debugger ------------------------------------------------------------ */

/* A child that waits for the go byte, then answers whether it is traced. */
static pid_t start_child(int *go, int *answer)
{
    int to_child[2], from_child[2];
    cr_assert(eq(int, pipe(to_child), 0));
    cr_assert(eq(int, pipe(from_child), 0));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char c;
        close(to_child[1]);
        close(from_child[0]);
        if (read(to_child[0], &c, 1) != 1)
            _exit(2);
        c = (char)('0' + memgauge__platform_debugger_attached());
        _exit(write(from_child[1], &c, 1) == 1 ? 0 : 3);
    }
    close(to_child[0]);
    close(from_child[1]);
    *go = to_child[1];
    *answer = from_child[0];
    return pid;
}

static char ask(int go, int answer)
{
    char c = '?';
    cr_assert(eq(int, (int)write(go, "g", 1), 1));
    cr_assert(eq(int, (int)read(answer, &c, 1), 1));
    close(go);
    close(answer);
    return c;
}

static void reap(pid_t pid)
{
    int status;
    /* a traced child may report ptrace stops before it exits */
    while (waitpid(pid, &status, 0) == pid && !WIFEXITED(status) && !WIFSIGNALED(status))
        ptrace(PTRACE_CONT, pid, NULL, NULL);
}

Test(debugger, an_untraced_process_reports_none)
{
    int go, answer;
    pid_t pid = start_child(&go, &answer);

    cr_assert(eq(chr, ask(go, answer), '0'));
    reap(pid);
}

Test(debugger, a_process_with_a_ptrace_tracer_reports_one)
{
    int go, answer;
    pid_t pid = start_child(&go, &answer);
    if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) != 0) {
        int err = errno;
        kill(pid, SIGKILL);
        reap(pid);
        cr_skip_test("PTRACE_SEIZE refused here: %s", strerror(err));
    }

    cr_assert(eq(chr, ask(go, answer), '1'));
    reap(pid);
}

/* ---- default state directory --------------------------------------------- */

static void env(const char *xdg, const char *home)
{
    if (xdg)
        setenv("XDG_STATE_HOME", xdg, 1);
    else
        unsetenv("XDG_STATE_HOME");
    if (home)
        setenv("HOME", home, 1);
    else
        unsetenv("HOME");
}

Test(state_dir, xdg_state_home_comes_first)
{
    char dir[256];
    env("/var/state", "/home/ann");

    cr_assert(eq(int, memgauge__platform_default_state_dir("shop", dir, sizeof dir), 0));
    cr_assert(eq(str, dir, "/var/state/memgauge/shop"));
    env("/var/state//", "/home/ann");
    cr_assert(eq(int, memgauge__platform_default_state_dir("shop", dir, sizeof dir), 0));
    cr_assert(eq(str, dir, "/var/state/memgauge/shop"));
    env("/", "/home/ann");
    cr_assert(eq(int, memgauge__platform_default_state_dir("shop", dir, sizeof dir), 0));
    cr_assert(eq(str, dir, "/memgauge/shop"));
}

Test(state_dir, home_when_xdg_state_home_is_unset_empty_or_relative)
{
    char dir[256];
    const char *xdg[] = {NULL, "", "state"};
    for (size_t i = 0; i < 3; i++) {
        env(xdg[i], "/home/ann/");
        cr_assert(eq(int, memgauge__platform_default_state_dir("shop", dir, sizeof dir), 0));
        cr_assert(eq(str, dir, "/home/ann/.local/state/memgauge/shop"));
    }
}

Test(state_dir, no_home_and_no_xdg_state_home_is_an_error)
{
    char dir[256] = "junk";
    env(NULL, NULL);
    cr_assert(eq(int, memgauge__platform_default_state_dir("shop", dir, sizeof dir), -1));
    cr_assert(eq(str, dir, ""));
    env(NULL, "");
    cr_assert(eq(int, memgauge__platform_default_state_dir("shop", dir, sizeof dir), -1));
    env("relative", "relative/home");
    cr_assert(eq(int, memgauge__platform_default_state_dir("shop", dir, sizeof dir), -1));
}

Test(state_dir, refuses_app_ids_that_are_not_one_directory_name)
{
    char dir[256];
    env("/var/state", "/home/ann");
    const char *bad[] = {"", ".", "..", "a/b", "/abs", "trailing/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(eq(int, memgauge__platform_default_state_dir(bad[i], dir, sizeof dir), -1), "%s",
                  bad[i]);
    cr_assert(eq(int, memgauge__platform_default_state_dir(NULL, dir, sizeof dir), -1));
    cr_assert(eq(int, memgauge__platform_default_state_dir("shop", NULL, 10), -1));
    cr_assert(eq(int, memgauge__platform_default_state_dir("...", dir, sizeof dir), 0));
    cr_assert(eq(str, dir, "/var/state/memgauge/..."));
}

Test(state_dir, a_path_that_does_not_fit_is_an_error_and_one_that_just_fits_is_not)
{
    /* "/s/memgauge/app" is 15 characters: it needs 16 bytes */
    char dir[16];
    env("/s", NULL);

    cr_assert(eq(int, memgauge__platform_default_state_dir("app", dir, 16), 0));
    cr_assert(eq(str, dir, "/s/memgauge/app"));
    cr_assert(eq(int, memgauge__platform_default_state_dir("app", dir, 15), -1));
    cr_assert(eq(str, dir, ""));
    cr_assert(eq(int, memgauge__platform_default_state_dir("app", dir, 0), -1));
}
