/*
 * Linux and Android: who and where this process is (boot, OS, binary,
 * device, name), whether a tracer is attached, and where its state lives by
 * default. Called at start, not per sample.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#ifdef __ANDROID__
#include <sys/system_properties.h>
#endif

#include "linux_parse.h"
#include "mg_base.h"
#include "platform.h"

enum { FILE_BUF = 4096, PATH_BUF = 4096 };

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0';
}

/* Copies [src, src+len) without surrounding blanks (or the NUL that ends a
 * device-tree string), truncated to fit. Returns the length copied. */
static size_t copy_trimmed(char *dst, size_t cap, const char *src, size_t len)
{
    while (len > 0 && is_blank(*src)) {
        src++;
        len--;
    }
    while (len > 0 && is_blank(src[len - 1]))
        len--;
    const char *nul = memchr(src, '\0', len);
    if (nul != NULL)
        len = (size_t)(nul - src);
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}

/* Fills dst with the trimmed content of a small file; 0 when it is non-empty. */
static int file_trimmed(const char *path, char *dst, size_t cap)
{
    char buf[FILE_BUF];
    ssize_t n = memgauge__read_small_file(path, buf, sizeof buf);
    if (n <= 0)
        return -1;
    return copy_trimmed(dst, cap, buf, (size_t)n) > 0 ? 0 : -1;
}

/* Appends as much of src as fits; dst stays NUL-terminated. */
static void append(char *dst, size_t cap, const char *src)
{
    size_t used = strlen(dst);
    size_t n = strlen(src);
    if (used + 1 >= cap)
        return;
    if (n > cap - 1 - used)
        n = cap - 1 - used;
    memcpy(dst + used, src, n);
    dst[used + n] = '\0';
}

#ifdef __ANDROID__
static int android_prop(const char *name, char *dst, size_t cap)
{
    char value[PROP_VALUE_MAX];
    int n = __system_property_get(name, value);
    if (n <= 0)
        return -1;
    return copy_trimmed(dst, cap, value, (size_t)n) > 0 ? 0 : -1;
}
#endif

/* The OS's name and release ("Linux 6.1.0-18-amd64") and, apart, the build
 * of that release (uname -v, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1"), as
 * iOS keeps "17.5.1" and "21F90" apart: a release reads like a version, and
 * a rebuilt kernel of the same release is still told from the old one. */
static void os_version(const struct utsname *u, memgauge__identity_t *out)
{
    char *dst = out->os_version, *build = out->os_build;
    size_t cap = sizeof out->os_version, build_cap = sizeof out->os_build;
    dst[0] = build[0] = '\0';
#ifdef __ANDROID__
    /* A monthly system update may keep the kernel: name the Android build. */
    char release[PROP_VALUE_MAX], id[PROP_VALUE_MAX];
    if (android_prop("ro.build.version.release", release, sizeof release) == 0 &&
        android_prop("ro.build.id", id, sizeof id) == 0) {
        append(dst, cap, "Android ");
        append(dst, cap, release);
        append(build, build_cap, id);
        return;
    }
#endif
    if (u == NULL)
        return;
    append(dst, cap, u->sysname);
    append(dst, cap, " ");
    append(dst, cap, u->release);
    append(build, build_cap, u->version);
}

static void device_model(const struct utsname *u, char *dst, size_t cap)
{
#ifdef __ANDROID__
    if (android_prop("ro.product.model", dst, cap) == 0)
        return;
#endif
    if (file_trimmed("/sys/devices/virtual/dmi/id/product_name", dst, cap) == 0 ||
        file_trimmed("/sys/firmware/devicetree/base/model", dst, cap) == 0)
        return;
    dst[0] = '\0';
    if (u != NULL)
        append(dst, cap, u->machine);
}

/* Lowercase hex of bytes, as many whole bytes as fit. */
static void to_hex(const unsigned char *bytes, size_t n, char *dst, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    if (n > (cap - 1) / 2)
        n = (cap - 1) / 2;
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = digits[bytes[i] >> 4];
        dst[2 * i + 1] = digits[bytes[i] & 15];
    }
    dst[2 * n] = '\0';
}

static size_t align_up(size_t v, size_t align)
{
    return (v + align - 1) & ~(align - 1);
}

/* Walks the notes of one PT_NOTE segment for NT_GNU_BUILD_ID. Offsets follow
 * glibc's ELF_NOTE_DESC_OFFSET / ELF_NOTE_NEXT_OFFSET: name and descriptor
 * are padded to the segment's alignment (4, or 8 for .note.gnu.property). */
static int find_build_id(const unsigned char *p, size_t len, size_t align, char *dst, size_t cap)
{
    size_t off = 0;
    while (len - off >= sizeof(ElfW(Nhdr))) {
        ElfW(Nhdr) nh;
        memcpy(&nh, p + off, sizeof nh);
        if (nh.n_namesz > len || nh.n_descsz > len)
            return -1;
        size_t desc = align_up(off + sizeof nh + nh.n_namesz, align);
        if (desc > len || len - desc < nh.n_descsz)
            return -1;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            memcmp(p + off + sizeof nh, "GNU", 4) == 0 && nh.n_descsz > 0) {
            to_hex(p + desc, nh.n_descsz, dst, cap);
            return 0;
        }
        size_t next = align_up(desc + nh.n_descsz, align);
        if (next <= off)
            return -1;
        off = next;
    }
    return -1;
}

typedef struct build_id_ctx_s {
    char *dst;
    size_t cap;
} build_id_ctx_t;

/* Is [vaddr, vaddr + size) inside a loaded segment (so it is mapped)? */
static int in_load_segment(const struct dl_phdr_info *info, ElfW(Addr) vaddr, size_t size)
{
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr && vaddr - ph->p_vaddr <= ph->p_filesz &&
            size <= ph->p_filesz - (vaddr - ph->p_vaddr))
            return 1;
    }
    return 0;
}

/* dl_iterate_phdr reports the main program first (glibc, musl and bionic
 * alike): look at it and stop. */
static int main_program_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    build_id_ctx_t *ctx = data;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE || !in_load_segment(info, ph->p_vaddr, ph->p_filesz))
            continue;
        const unsigned char *notes = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t align = ph->p_align == 8 ? 8 : 4;
        if (find_build_id(notes, ph->p_filesz, align, ctx->dst, ctx->cap) == 0)
            break;
    }
    return 1;
}

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void exe_name(char *dst, size_t cap)
{
    char path[PATH_BUF];
    dst[0] = '\0';
#ifdef __ANDROID__
    /* An app runs as app_process; its process name (argv[0]) is the package. */
    ssize_t c = memgauge__read_small_file("/proc/self/cmdline", path, sizeof path);
    if (c > 0 && path[0] != '\0') {
        copy_trimmed(dst, cap, basename_of(path), strlen(basename_of(path)));
        if (dst[0] != '\0')
            return;
    }
#endif
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        path[n] = '\0';
        /* A binary replaced or removed while running (an upgrade) reads
         * "/path/app (deleted)". */
        static const char deleted[] = " (deleted)";
        size_t dl = sizeof deleted - 1;
        if ((size_t)n > dl && memcmp(path + n - dl, deleted, dl) == 0)
            path[n - dl] = '\0';
        const char *base = basename_of(path);
        copy_trimmed(dst, cap, base, strlen(base));
        if (dst[0] != '\0')
            return;
    }
#ifdef __GLIBC__
    copy_trimmed(dst, cap, program_invocation_short_name, strlen(program_invocation_short_name));
#endif
}

int memgauge__platform_identity(memgauge__identity_t *out)
{
    if (out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (file_trimmed("/proc/sys/kernel/random/boot_id", out->boot_id, sizeof out->boot_id) != 0)
        out->boot_id[0] = '\0';
    struct utsname u;
    int have_uname = uname(&u) == 0;
    os_version(have_uname ? &u : NULL, out);
    build_id_ctx_t ctx = {out->build_id, sizeof out->build_id};
    dl_iterate_phdr(main_program_build_id, &ctx);
    device_model(have_uname ? &u : NULL, out->device_model, sizeof out->device_model);
    exe_name(out->exe_name, sizeof out->exe_name);
    return MEMGAUGE_OK;
}

int memgauge__platform_debugger_attached(void)
{
    char buf[FILE_BUF];
    uint64_t tracer = 0;
    ssize_t n = memgauge__read_small_file("/proc/self/status", buf, sizeof buf);
    if (n <= 0 || memgauge__parse_kb_field(buf, (size_t)n, "TracerPid:", &tracer) != 0)
        return 0;
    return tracer != 0;
}

/* An app id names one directory: not empty, no '/', not "." or "..". */
static int app_id_ok(const char *app_id)
{
    return app_id != NULL && app_id[0] != '\0' && strchr(app_id, '/') == NULL &&
           strcmp(app_id, ".") != 0 && strcmp(app_id, "..") != 0;
}

/* base (without trailing slashes) + suffix + app_id into out, or -1. */
static int build_dir(const char *base, const char *suffix, const char *app_id, char *out,
                     size_t cap)
{
    size_t bl = strlen(base);
    while (bl > 1 && base[bl - 1] == '/')
        bl--;
    if (bl == 1)
        bl = 0; /* "/" + "/x" is "/x" */
    size_t sl = strlen(suffix), al = strlen(app_id);
    if (bl + sl + al + 1 > cap) {
        out[0] = '\0';
        return -1;
    }
    memcpy(out, base, bl);
    memcpy(out + bl, suffix, sl);
    memcpy(out + bl + sl, app_id, al + 1);
    return 0;
}

int memgauge__platform_default_state_dir(const char *app_id, char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return -1;
    out[0] = '\0';
    if (!app_id_ok(app_id))
        return -1;
    /* XDG Base Directory: a relative $XDG_STATE_HOME is invalid and ignored.
     * A relative $HOME is refused too: state would follow the working
     * directory. */
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg != NULL && xdg[0] == '/')
        return build_dir(xdg, "/memgauge/", app_id, out, cap);
    const char *home = getenv("HOME");
    if (home != NULL && home[0] == '/')
        return build_dir(home, "/.local/state/memgauge/", app_id, out, cap);
    return -1;
}
