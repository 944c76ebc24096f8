/* The Linux text parsers (linux_parse.c), fed with what the kernel writes to
 * /proc/self/statm, /proc/self/status, /proc/meminfo, /proc/self/cgroup,
 * /proc/self/mountinfo and the cgroup memory files. */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "linux_parse.h"

/* The length of a string literal, without its NUL. */
#define LIT_LEN(s) (sizeof(s) - 1)

/* ------------------------------------------------------------------------ */
/* /proc/self/statm                                                         */
/* ------------------------------------------------------------------------ */

Test(statm, reads_size_resident_and_shared_pages)
{
    static const char text[] = "2148 256 192 5 0 171 0\n";
    memgauge__statm_t st;
    memset(&st, 0, sizeof st);

    cr_assert(eq(int, memgauge__parse_statm(text, LIT_LEN(text), &st), 0));
    cr_assert(eq(u64, st.size, 2148));
    cr_assert(eq(u64, st.resident, 256));
    cr_assert(eq(u64, st.shared, 192));
}

Test(statm, accepts_exactly_three_fields_without_newline)
{
    static const char text[] = "10 7 7";
    memgauge__statm_t st;

    cr_assert(eq(int, memgauge__parse_statm(text, LIT_LEN(text), &st), 0));
    cr_assert(eq(u64, st.size, 10));
    cr_assert(eq(u64, st.resident, 7));
    cr_assert(eq(u64, st.shared, 7));
}

Test(statm, rejects_text_with_fewer_than_three_fields)
{
    memgauge__statm_t st;

    cr_assert(eq(int, memgauge__parse_statm("", 0, &st), -1));
    cr_assert(eq(int, memgauge__parse_statm("2148", 4, &st), -1));
    cr_assert(eq(int, memgauge__parse_statm("2148 256", 8, &st), -1));
    cr_assert(eq(int, memgauge__parse_statm("2148 256 \n", 10, &st), -1));
    cr_assert(eq(int, memgauge__parse_statm("2148 256 x 5", 12, &st), -1));
}

Test(statm, reads_no_further_than_len)
{
    /* The third field lies beyond len: the buffer ends after "2148 256". */
    static const char text[] = "2148 256 192 5 0 171 0\n";
    memgauge__statm_t st;

    cr_assert(eq(int, memgauge__parse_statm(text, 8, &st), -1));
}

Test(statm, rejects_shared_larger_than_resident)
{
    static const char text[] = "2148 100 101 5 0 171 0\n";
    memgauge__statm_t st;

    cr_assert(eq(int, memgauge__parse_statm(text, LIT_LEN(text), &st), -1));
}

Test(statm, rejects_a_number_that_overflows_64_bits)
{
    static const char big_size[] = "18446744073709551616 256 192 5 0 171 0\n";
    static const char big_resident[] = "2148 99999999999999999999 192 5 0 171 0\n";
    static const char big_shared[] = "2148 256 18446744073709551617 5 0 171 0\n";
    memgauge__statm_t st;

    cr_assert(eq(int, memgauge__parse_statm(big_size, LIT_LEN(big_size), &st), -1));
    cr_assert(eq(int, memgauge__parse_statm(big_resident, LIT_LEN(big_resident), &st), -1));
    cr_assert(eq(int, memgauge__parse_statm(big_shared, LIT_LEN(big_shared), &st), -1));
}

Test(statm, accepts_the_largest_64_bit_numbers)
{
    static const char text[] = "18446744073709551615 18446744073709551615 18446744073709551614\n";
    memgauge__statm_t st;

    cr_assert(eq(int, memgauge__parse_statm(text, LIT_LEN(text), &st), 0));
    cr_assert(eq(u64, st.size, UINT64_MAX));
    cr_assert(eq(u64, st.resident, UINT64_MAX));
    cr_assert(eq(u64, st.shared, UINT64_MAX - 1));
}

/* ------------------------------------------------------------------------ */
/* "Key:   123 kB" in /proc/self/status and /proc/meminfo                    */
/* ------------------------------------------------------------------------ */

static const char proc_status[] = "Name:\tsample-app\n"
                                  "Umask:\t0022\n"
                                  "State:\tS (sleeping)\n"
                                  "Tgid:\t41207\n"
                                  "Ngid:\t0\n"
                                  "Pid:\t41207\n"
                                  "PPid:\t41190\n"
                                  "TracerPid:\t0\n"
                                  "Uid:\t1000\t1000\t1000\t1000\n"
                                  "Gid:\t1000\t1000\t1000\t1000\n"
                                  "FDSize:\t64\n"
                                  "Groups:\t4 24 27 1000 \n"
                                  "NStgid:\t41207\n"
                                  "NSpid:\t41207\n"
                                  "NSpgid:\t41207\n"
                                  "NSsid:\t41190\n"
                                  "VmPeak:\t  912340 kB\n"
                                  "VmSize:\t  846804 kB\n"
                                  "VmLck:\t       0 kB\n"
                                  "VmPin:\t       0 kB\n"
                                  "VmHWM:\t  187612 kB\n"
                                  "VmRSS:\t  154220 kB\n"
                                  "RssAnon:\t  131072 kB\n"
                                  "RssFile:\t   21100 kB\n"
                                  "RssShmem:\t    2048 kB\n"
                                  "VmData:\t  402112 kB\n"
                                  "VmStk:\t     132 kB\n"
                                  "VmExe:\t    1204 kB\n"
                                  "VmLib:\t   12688 kB\n"
                                  "VmPTE:\t     612 kB\n"
                                  "VmSwap:\t    3316 kB\n"
                                  "HugetlbPages:\t       0 kB\n"
                                  "CoreDumping:\t0\n"
                                  "THP_enabled:\t1\n"
                                  "Threads:\t4\n"
                                  "SigQ:\t0/62811\n"
                                  "voluntary_ctxt_switches:\t12\n"
                                  "nonvoluntary_ctxt_switches:\t3\n";

static const char proc_meminfo[] = "MemTotal:       16318412 kB\n"
                                   "MemFree:         1203344 kB\n"
                                   "MemAvailable:    9876540 kB\n"
                                   "Buffers:          402316 kB\n"
                                   "Cached:          7800104 kB\n"
                                   "SwapCached:        10244 kB\n"
                                   "Active:          6100216 kB\n"
                                   "Inactive:        6803312 kB\n"
                                   "Active(anon):    3001000 kB\n"
                                   "Inactive(anon):   200312 kB\n"
                                   "Active(file):    3099216 kB\n"
                                   "Inactive(file):  6603000 kB\n"
                                   "SwapTotal:       2097148 kB\n"
                                   "SwapFree:        2086904 kB\n"
                                   "Dirty:               404 kB\n"
                                   "HugePages_Total:       0\n"
                                   "Hugepagesize:       2048 kB";

static uint64_t kb_field_ok(const char *text, size_t len, const char *key)
{
    uint64_t kb = UINT64_C(0xdeadbeef);
    cr_assert(eq(int, memgauge__parse_kb_field(text, len, key, &kb), 0), "key %s", key);
    return kb;
}

Test(kb_field, reads_vmswap_and_vmhwm_from_proc_status)
{
    cr_assert(eq(u64, kb_field_ok(proc_status, LIT_LEN(proc_status), "VmSwap:"), 3316));
    cr_assert(eq(u64, kb_field_ok(proc_status, LIT_LEN(proc_status), "VmHWM:"), 187612));
    cr_assert(eq(u64, kb_field_ok(proc_status, LIT_LEN(proc_status), "VmRSS:"), 154220));
}

Test(kb_field, reads_memavailable_from_proc_meminfo)
{
    cr_assert(eq(u64, kb_field_ok(proc_meminfo, LIT_LEN(proc_meminfo), "MemAvailable:"), 9876540));
}

Test(kb_field, reads_the_first_line_and_a_last_line_without_newline)
{
    cr_assert(eq(u64, kb_field_ok(proc_meminfo, LIT_LEN(proc_meminfo), "MemTotal:"), 16318412));
    cr_assert(eq(u64, kb_field_ok(proc_meminfo, LIT_LEN(proc_meminfo), "Hugepagesize:"), 2048));
}

Test(kb_field, matches_a_key_only_at_the_start_of_a_line)
{
    /* "Cached:" also ends "SwapCached:"; "Active:" starts no other key but
     * "Active(anon):" shares its first six letters. */
    cr_assert(eq(u64, kb_field_ok(proc_meminfo, LIT_LEN(proc_meminfo), "Cached:"), 7800104));
    cr_assert(eq(u64, kb_field_ok(proc_meminfo, LIT_LEN(proc_meminfo), "SwapCached:"), 10244));
    cr_assert(eq(u64, kb_field_ok(proc_meminfo, LIT_LEN(proc_meminfo), "Active:"), 6100216));
    cr_assert(
        eq(u64, kb_field_ok(proc_meminfo, LIT_LEN(proc_meminfo), "Inactive(file):"), 6603000));
}

Test(kb_field, finds_a_key_whose_line_follows_a_key_line_it_is_the_suffix_of)
{
    /* "Cached:" appears inside the earlier line "SwapCached:". */
    static const char text[] = "SwapCached:  11 kB\nCached:  22 kB\n";

    cr_assert(eq(u64, kb_field_ok(text, LIT_LEN(text), "Cached:"), 22));
}

Test(kb_field, absent_key_is_an_error_and_leaves_the_output_alone)
{
    uint64_t kb = 77;

    cr_assert(
        eq(int, memgauge__parse_kb_field(proc_status, LIT_LEN(proc_status), "VmFoo:", &kb), -1));
    cr_assert(
        eq(int, memgauge__parse_kb_field(proc_meminfo, LIT_LEN(proc_meminfo), "VmSwap:", &kb), -1));
    cr_assert(eq(u64, kb, 77));
}

Test(kb_field, a_key_that_is_the_prefix_of_other_keys_does_not_match_them)
{
    uint64_t kb = 77;

    /* Every Vm* line starts with "Vm", none with "Vm:". */
    cr_assert(eq(int, memgauge__parse_kb_field(proc_status, LIT_LEN(proc_status), "Vm:", &kb), -1));
    /* "SwapTotal:" and "SwapFree:" start with "Swap", none with "Swap:". */
    cr_assert(
        eq(int, memgauge__parse_kb_field(proc_meminfo, LIT_LEN(proc_meminfo), "Swap:", &kb), -1));
    /* Without its colon a prefix lands on "VmPeak:" and finds no number. */
    cr_assert(eq(int, memgauge__parse_kb_field(proc_status, LIT_LEN(proc_status), "Vm", &kb), -1));
    cr_assert(eq(u64, kb, 77));
}

Test(kb_field, malformed_value_is_an_error)
{
    static const char no_number[] = "VmSwap:\t   kB\n";
    static const char overflow[] = "VmSwap:\t18446744073709551616 kB\n";
    static const char key_at_end[] = "VmRSS:\t1 kB\nVmSwap:";
    uint64_t kb = 77;

    cr_assert(eq(int, memgauge__parse_kb_field(no_number, LIT_LEN(no_number), "VmSwap:", &kb), -1));
    cr_assert(eq(int, memgauge__parse_kb_field(overflow, LIT_LEN(overflow), "VmSwap:", &kb), -1));
    cr_assert(
        eq(int, memgauge__parse_kb_field(key_at_end, LIT_LEN(key_at_end), "VmSwap:", &kb), -1));
    cr_assert(eq(u64, kb, 77));
}

Test(kb_field, reads_no_further_than_len)
{
    /* Cut the status text just before the VmSwap line. */
    const char *vmswap = strstr(proc_status, "VmSwap:");
    size_t len = (size_t)(vmswap - proc_status);
    uint64_t kb = 77;

    cr_assert(eq(int, memgauge__parse_kb_field(proc_status, len, "VmSwap:", &kb), -1));
    cr_assert(eq(u64, kb_field_ok(proc_status, len, "VmPTE:"), 612));
}

/* ------------------------------------------------------------------------ */
/* "key 123" lines of cgroup memory.stat                                     */
/* ------------------------------------------------------------------------ */

static const char memory_stat_v1[] = "cache 1081344\n"
                                     "rss 31678464\n"
                                     "rss_huge 0\n"
                                     "shmem 0\n"
                                     "mapped_file 540672\n"
                                     "dirty 0\n"
                                     "writeback 0\n"
                                     "swap 0\n"
                                     "pgpgin 12150\n"
                                     "pgpgout 4150\n"
                                     "pgfault 14421\n"
                                     "pgmajfault 0\n"
                                     "inactive_anon 0\n"
                                     "active_anon 31715328\n"
                                     "inactive_file 270336\n"
                                     "active_file 811008\n"
                                     "unevictable 0\n"
                                     "hierarchical_memory_limit 536870912\n"
                                     "hierarchical_memsw_limit 9223372036854771712\n"
                                     "total_cache 5242880\n"
                                     "total_rss 62914560\n"
                                     "total_inactive_anon 0\n"
                                     "total_active_anon 62914560\n"
                                     "total_inactive_file 4194304\n"
                                     "total_active_file 1048576\n"
                                     "total_unevictable 0\n";

static const char memory_stat_v2[] = "anon 30932992\n"
                                     "file_mapped 540672\n"
                                     "file_dirty 4096\n"
                                     "file 1081344\n"
                                     "kernel_stack 98304\n"
                                     "shmem 0\n"
                                     "inactive_anon 0\n"
                                     "active_anon 30932992\n"
                                     "inactive_file 270336\n"
                                     "active_file 811008\n"
                                     "unevictable 0\n"
                                     "pgfault 14421";

static uint64_t keyed_ok(const char *text, size_t len, const char *key)
{
    uint64_t v = UINT64_C(0xdeadbeef);
    cr_assert(eq(int, memgauge__parse_keyed_u64(text, len, key, &v), 0), "key %s", key);
    return v;
}

Test(keyed_u64, v1_inactive_file_and_total_inactive_file_are_different_lines)
{
    cr_assert(eq(u64, keyed_ok(memory_stat_v1, LIT_LEN(memory_stat_v1), "inactive_file"), 270336));
    cr_assert(
        eq(u64, keyed_ok(memory_stat_v1, LIT_LEN(memory_stat_v1), "total_inactive_file"), 4194304));
}

Test(keyed_u64, a_key_inside_a_longer_key_earlier_in_the_text_is_not_matched)
{
    static const char text[] = "total_inactive_file 4194304\ninactive_file 270336\n";

    cr_assert(eq(u64, keyed_ok(text, LIT_LEN(text), "inactive_file"), 270336));
}

Test(keyed_u64, a_key_that_prefixes_a_longer_key_earlier_in_the_text_is_not_matched)
{
    /* v2: "file_mapped" and "file_dirty" come before "file". */
    cr_assert(eq(u64, keyed_ok(memory_stat_v2, LIT_LEN(memory_stat_v2), "file"), 1081344));
    cr_assert(eq(u64, keyed_ok(memory_stat_v2, LIT_LEN(memory_stat_v2), "inactive_file"), 270336));
    cr_assert(eq(u64, keyed_ok(memory_stat_v2, LIT_LEN(memory_stat_v2), "anon"), 30932992));
    cr_assert(eq(u64, keyed_ok(memory_stat_v2, LIT_LEN(memory_stat_v2), "pgfault"), 14421));
}

Test(keyed_u64, reads_the_v1_no_limit_sentinel_as_a_plain_number)
{
    cr_assert(eq(u64, keyed_ok(memory_stat_v1, LIT_LEN(memory_stat_v1), "hierarchical_memsw_limit"),
                 UINT64_C(9223372036854771712)));
}

Test(keyed_u64, absent_key_is_an_error)
{
    uint64_t v = 77;

    cr_assert(eq(int,
                 memgauge__parse_keyed_u64(memory_stat_v2, LIT_LEN(memory_stat_v2),
                                           "total_inactive_file", &v),
                 -1));
    cr_assert(eq(int,
                 memgauge__parse_keyed_u64(memory_stat_v2, LIT_LEN(memory_stat_v2), "inactive", &v),
                 -1));
    cr_assert(eq(u64, v, 77));
}

Test(keyed_u64, a_key_without_a_number_is_an_error)
{
    static const char at_end[] = "anon 1\nfile";
    static const char no_number[] = "anon 1\nfile x\n";
    uint64_t v = 77;

    cr_assert(eq(int, memgauge__parse_keyed_u64(at_end, LIT_LEN(at_end), "file", &v), -1));
    cr_assert(eq(int, memgauge__parse_keyed_u64(no_number, LIT_LEN(no_number), "file", &v), -1));
    cr_assert(eq(u64, v, 77));
}

/* ------------------------------------------------------------------------ */
/* memory.max / memory.limit_in_bytes                                        */
/* ------------------------------------------------------------------------ */

static uint64_t limit_ok(const char *text)
{
    uint64_t limit = UINT64_C(0xdeadbeef);
    cr_assert(eq(int, memgauge__parse_cgroup_limit(text, strlen(text), &limit), 0), "text %s",
              text);
    return limit;
}

static int limit_rc(const char *text)
{
    uint64_t limit = 0;
    return memgauge__parse_cgroup_limit(text, strlen(text), &limit);
}

Test(cgroup_limit, v2_max_means_no_limit)
{
    cr_assert(eq(u64, limit_ok("max\n"), UINT64_MAX));
    cr_assert(eq(u64, limit_ok("max"), UINT64_MAX));
}

Test(cgroup_limit, a_number_is_the_limit_in_bytes)
{
    cr_assert(eq(u64, limit_ok("536870912\n"), UINT64_C(536870912)));
    cr_assert(eq(u64, limit_ok("1073741824"), UINT64_C(1073741824)));
    cr_assert(eq(u64, limit_ok("0\n"), 0));
    /* 64 TiB, a large but real machine. */
    cr_assert(eq(u64, limit_ok("70368744177664\n"), UINT64_C(70368744177664)));
}

Test(cgroup_limit, v1_no_limit_sentinel_means_no_limit)
{
    /* PAGE_COUNTER_MAX * PAGE_SIZE with 4 KiB pages (x86_64)... */
    cr_assert(eq(u64, limit_ok("9223372036854771712\n"), UINT64_MAX));
    /* ...and with 64 KiB pages (arm64, ppc64le kernels). */
    cr_assert(eq(u64, limit_ok("9223372036854710272\n"), UINT64_MAX));
}

Test(cgroup_limit, garbage_is_an_error)
{
    cr_assert(eq(int, limit_rc(""), -1));
    cr_assert(eq(int, limit_rc("\n"), -1));
    cr_assert(eq(int, limit_rc("maximum\n"), -1));
    cr_assert(eq(int, limit_rc("ma"), -1));
    cr_assert(eq(int, limit_rc("-1\n"), -1));
    cr_assert(eq(int, limit_rc("512M\n"), -1));
    cr_assert(eq(int, limit_rc("512 1024\n"), -1));
    cr_assert(eq(int, limit_rc("18446744073709551616\n"), -1));
}

/* ------------------------------------------------------------------------ */
/* A plain decimal number                                                    */
/* ------------------------------------------------------------------------ */

static int u64_rc(const char *text, uint64_t *v)
{
    return memgauge__parse_u64(text, strlen(text), v);
}

Test(u64, reads_a_number_followed_by_optional_whitespace)
{
    uint64_t v = 77;

    cr_assert(eq(int, u64_rc("0", &v), 0));
    cr_assert(eq(u64, v, 0));
    cr_assert(eq(int, u64_rc("33554432\n", &v), 0));
    cr_assert(eq(u64, v, UINT64_C(33554432)));
    cr_assert(eq(int, u64_rc("42 \t\r\n", &v), 0));
    cr_assert(eq(u64, v, 42));
    cr_assert(eq(int, u64_rc("  42\n", &v), 0));
    cr_assert(eq(u64, v, 42));
}

Test(u64, reads_the_largest_64_bit_number_and_rejects_the_next)
{
    uint64_t v = 77;

    cr_assert(eq(int, u64_rc("18446744073709551615\n", &v), 0));
    cr_assert(eq(u64, v, UINT64_MAX));
    v = 77;
    cr_assert(eq(int, u64_rc("18446744073709551616\n", &v), -1));
    cr_assert(eq(int, u64_rc("18446744073709551620", &v), -1));
    cr_assert(eq(int, u64_rc("100000000000000000000", &v), -1));
    cr_assert(eq(u64, v, 77));
}

Test(u64, rejects_anything_but_a_lone_number)
{
    uint64_t v = 77;

    cr_assert(eq(int, u64_rc("", &v), -1));
    cr_assert(eq(int, u64_rc("   ", &v), -1));
    cr_assert(eq(int, u64_rc("-5", &v), -1));
    cr_assert(eq(int, u64_rc("+5", &v), -1));
    cr_assert(eq(int, u64_rc("42abc", &v), -1));
    cr_assert(eq(int, u64_rc("42 43\n", &v), -1));
    cr_assert(eq(int, u64_rc("0x10", &v), -1));
    cr_assert(eq(int, u64_rc("max\n", &v), -1));
}

Test(u64, reads_no_further_than_len)
{
    uint64_t v = 77;

    cr_assert(eq(int, memgauge__parse_u64("4213", 2, &v), 0));
    cr_assert(eq(u64, v, 42));
    cr_assert(eq(int, memgauge__parse_u64("42 junk", 3, &v), 0));
    cr_assert(eq(u64, v, 42));
    cr_assert(eq(int, memgauge__parse_u64("42", 0, &v), -1));
}

/* ------------------------------------------------------------------------ */
/* /proc/self/cgroup                                                         */
/* ------------------------------------------------------------------------ */

enum { PATH_CAP = 256 };

typedef struct {
    int rc;
    char v1[PATH_CAP];
    char v2[PATH_CAP];
} proc_cgroup_t;

static proc_cgroup_t parse_proc_cgroup(const char *text)
{
    proc_cgroup_t r;
    memset(&r, 'X', sizeof r);
    r.rc = memgauge__parse_proc_cgroup(text, strlen(text), r.v1, sizeof r.v1, r.v2, sizeof r.v2);
    return r;
}

Test(proc_cgroup, v2_only_gives_the_zero_line_path)
{
    proc_cgroup_t r = parse_proc_cgroup("0::/user.slice/user-1000.slice/session-2.scope\n");

    cr_assert(eq(int, r.rc, 0));
    cr_assert(eq(str, r.v1, ""));
    cr_assert(eq(str, r.v2, "/user.slice/user-1000.slice/session-2.scope"));
}

Test(proc_cgroup, v1_gives_the_memory_hierarchy_path)
{
    proc_cgroup_t r = parse_proc_cgroup("12:pids:/user.slice/user-1000.slice/session-2.scope\n"
                                        "11:hugetlb:/\n"
                                        "10:cpu,cpuacct:/user.slice\n"
                                        "9:memory:/user.slice/user-1000.slice/session-2.scope\n"
                                        "8:blkio:/user.slice\n"
                                        "7:net_cls,net_prio:/\n"
                                        "1:name=systemd:/user.slice/user-1000.slice/"
                                        "session-2.scope\n");

    cr_assert(eq(int, r.rc, 0));
    cr_assert(eq(str, r.v1, "/user.slice/user-1000.slice/session-2.scope"));
    cr_assert(eq(str, r.v2, ""));
}

Test(proc_cgroup, hybrid_gives_both_paths)
{
    proc_cgroup_t r = parse_proc_cgroup("4:memory:/process_api/abc\n0::/\n");

    cr_assert(eq(int, r.rc, 0));
    cr_assert(eq(str, r.v1, "/process_api/abc"));
    cr_assert(eq(str, r.v2, "/"));
}

Test(proc_cgroup, memory_is_found_in_a_controller_combination)
{
    proc_cgroup_t first = parse_proc_cgroup("3:cpu,cpuacct:/a\n7:memory,hugetlb:/x\n");
    proc_cgroup_t last = parse_proc_cgroup("3:cpu,cpuacct:/a\n7:hugetlb,memory:/y\n");
    proc_cgroup_t middle = parse_proc_cgroup("7:cpu,memory,hugetlb:/z\n");

    cr_assert(eq(int, first.rc, 0));
    cr_assert(eq(str, first.v1, "/x"));
    cr_assert(eq(int, last.rc, 0));
    cr_assert(eq(str, last.v1, "/y"));
    cr_assert(eq(int, middle.rc, 0));
    cr_assert(eq(str, middle.v1, "/z"));
}

Test(proc_cgroup, other_controllers_and_named_hierarchies_are_not_memory)
{
    proc_cgroup_t r = parse_proc_cgroup("5:cpu,cpuacct:/docker/abc\n"
                                        "2:name=memory:/docker/abc\n"
                                        "1:name=systemd:/docker/abc\n");

    cr_assert(eq(int, r.rc, 0));
    cr_assert(eq(str, r.v1, ""));
    cr_assert(eq(str, r.v2, ""));
}

Test(proc_cgroup, last_line_without_newline_is_read)
{
    proc_cgroup_t r = parse_proc_cgroup("1:name=systemd:/\n0::/kubepods/burstable/pod7f1/c0ffee");

    cr_assert(eq(int, r.rc, 0));
    cr_assert(eq(str, r.v2, "/kubepods/burstable/pod7f1/c0ffee"));
}

Test(proc_cgroup, a_path_keeps_colons_after_the_second)
{
    proc_cgroup_t r = parse_proc_cgroup("9:memory:/a:b\n0::/c:d:e\n");

    cr_assert(eq(int, r.rc, 0));
    cr_assert(eq(str, r.v1, "/a:b"));
    cr_assert(eq(str, r.v2, "/c:d:e"));
}

Test(proc_cgroup, empty_text_gives_empty_paths)
{
    proc_cgroup_t r = parse_proc_cgroup("");

    cr_assert(eq(int, r.rc, 0));
    cr_assert(eq(str, r.v1, ""));
    cr_assert(eq(str, r.v2, ""));
}

Test(proc_cgroup, a_path_that_does_not_fit_is_an_error)
{
    static const char text[] = "4:memory:/abcdef\n0::/0123456789\n";
    char v1[8], v2[16];

    /* "/abcdef" needs 8 bytes with its NUL: fits exactly. */
    cr_assert(eq(int, memgauge__parse_proc_cgroup(text, LIT_LEN(text), v1, 8, v2, 16), 0));
    cr_assert(eq(str, v1, "/abcdef"));
    cr_assert(eq(str, v2, "/0123456789"));
    cr_assert(eq(int, memgauge__parse_proc_cgroup(text, LIT_LEN(text), v1, 7, v2, 16), -1));
    cr_assert(eq(int, memgauge__parse_proc_cgroup(text, LIT_LEN(text), v1, 8, v2, 11), -1));
    cr_assert(eq(int, memgauge__parse_proc_cgroup(text, LIT_LEN(text), v1, 0, v2, 16), -1));
}

/* ------------------------------------------------------------------------ */
/* /proc/self/mountinfo                                                      */
/* ------------------------------------------------------------------------ */

/* A systemd host with the hybrid layout: v1 controllers plus a cgroup2
 * "unified" hierarchy. */
static const char mountinfo_hybrid[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "24 23 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755\n"
    "25 24 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
    "cgroup2 rw,nsdelegate\n"
    "26 24 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
    "cgroup rw,xattr,name=systemd\n"
    "27 24 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "28 24 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup "
    "cgroup rw,memory\n"
    "29 24 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup "
    "rw,pids\n";

/* A unified (v2 only) host. */
static const char mountinfo_v2[] =
    "21 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
    "24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

typedef struct {
    int rc;
    char mp[PATH_CAP];
    char root[PATH_CAP];
} mount_t;

static mount_t parse_mount(const char *text, int version)
{
    mount_t m;
    memset(&m, 'X', sizeof m);
    m.rc = memgauge__parse_cgroup_mount(text, strlen(text), version, m.mp, sizeof m.mp, m.root,
                                        sizeof m.root);
    return m;
}

Test(cgroup_mount, v1_finds_the_cgroup_mount_with_the_memory_option)
{
    mount_t m = parse_mount(mountinfo_hybrid, MEMGAUGE__CGROUP_V1);

    cr_assert(eq(int, m.rc, 0));
    cr_assert(eq(str, m.mp, "/sys/fs/cgroup/memory"));
    cr_assert(eq(str, m.root, "/"));
}

Test(cgroup_mount, v2_finds_the_cgroup2_mount)
{
    mount_t hybrid = parse_mount(mountinfo_hybrid, MEMGAUGE__CGROUP_V2);
    mount_t unified = parse_mount(mountinfo_v2, MEMGAUGE__CGROUP_V2);

    cr_assert(eq(int, hybrid.rc, 0));
    cr_assert(eq(str, hybrid.mp, "/sys/fs/cgroup/unified"));
    cr_assert(eq(str, hybrid.root, "/"));
    cr_assert(eq(int, unified.rc, 0));
    cr_assert(eq(str, unified.mp, "/sys/fs/cgroup"));
    cr_assert(eq(str, unified.root, "/"));
}

Test(cgroup_mount, v1_is_absent_on_a_unified_host_even_with_memory_recursiveprot)
{
    mount_t m = parse_mount(mountinfo_v2, MEMGAUGE__CGROUP_V1);

    cr_assert(eq(int, m.rc, -1));
}

Test(cgroup_mount, v1_without_a_memory_hierarchy_is_absent)
{
    static const char text[] =
        "27 24 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:11 - cgroup cgroup "
        "rw,cpu,cpuacct\n"
        "26 24 0:24 / /sys/fs/cgroup/memory-notes rw,relatime shared:10 - cgroup cgroup "
        "rw,xattr,name=systemd\n";

    cr_assert(eq(int, parse_mount(text, MEMGAUGE__CGROUP_V1).rc, -1));
    cr_assert(eq(int, parse_mount(text, MEMGAUGE__CGROUP_V2).rc, -1));
}

Test(cgroup_mount, several_optional_fields_before_the_separator_are_skipped)
{
    static const char text[] = "1180 1175 0:32 /docker/0123abcd /sys/fs/cgroup/memory "
                               "ro,nosuid,nodev,noexec,relatime shared:5 master:1 propagate_from:2 "
                               "unbindable - cgroup cgroup rw,memory\n";
    mount_t m = parse_mount(text, MEMGAUGE__CGROUP_V1);

    cr_assert(eq(int, m.rc, 0));
    cr_assert(eq(str, m.mp, "/sys/fs/cgroup/memory"));
    cr_assert(eq(str, m.root, "/docker/0123abcd"));
}

Test(cgroup_mount, no_optional_fields_at_all)
{
    static const char text[] = "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - "
                               "cgroup2 cgroup2 rw\n";
    mount_t m = parse_mount(text, MEMGAUGE__CGROUP_V2);

    cr_assert(eq(int, m.rc, 0));
    cr_assert(eq(str, m.mp, "/sys/fs/cgroup"));
    cr_assert(eq(str, m.root, "/"));
}

Test(cgroup_mount, a_container_mount_reports_its_namespaced_root)
{
    static const char text[] = "712 700 0:26 /kubepods.slice/kubepods-pod42.slice/cri-c0ffee.scope "
                               "/sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 "
                               "rw,nsdelegate,memory_recursiveprot";
    mount_t m = parse_mount(text, MEMGAUGE__CGROUP_V2);

    cr_assert(eq(int, m.rc, 0));
    cr_assert(eq(str, m.mp, "/sys/fs/cgroup"));
    cr_assert(eq(str, m.root, "/kubepods.slice/kubepods-pod42.slice/cri-c0ffee.scope"));
}

Test(cgroup_mount, octal_escapes_in_mount_point_and_root_are_decoded)
{
    static const char text[] = "40 22 0:35 /my\\040group /mnt/cgroup\\040v2\\011x "
                               "rw,relatime shared:20 - cgroup2 none rw\n";
    mount_t m = parse_mount(text, MEMGAUGE__CGROUP_V2);

    cr_assert(eq(int, m.rc, 0));
    cr_assert(eq(str, m.mp, "/mnt/cgroup v2\tx"));
    cr_assert(eq(str, m.root, "/my group"));
}

Test(cgroup_mount, an_escape_at_the_end_of_the_mount_point_is_decoded)
{
    static const char text[] = "40 22 0:35 / /mnt/cg\\134 rw shared:20 - cgroup2 none rw\n";
    mount_t m = parse_mount(text, MEMGAUGE__CGROUP_V2);

    cr_assert(eq(int, m.rc, 0));
    cr_assert(eq(str, m.mp, "/mnt/cg\\"));
}

Test(cgroup_mount, a_mount_point_that_does_not_fit_is_an_error)
{
    static const char text[] = "30 24 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n";
    char mp[16], root[4];

    /* "/sys/fs/cgroup" needs 15 bytes with its NUL. */
    cr_assert(eq(int,
                 memgauge__parse_cgroup_mount(text, LIT_LEN(text), MEMGAUGE__CGROUP_V2, mp, 15,
                                              root, sizeof root),
                 0));
    cr_assert(eq(str, mp, "/sys/fs/cgroup"));
    cr_assert(eq(int,
                 memgauge__parse_cgroup_mount(text, LIT_LEN(text), MEMGAUGE__CGROUP_V2, mp, 14,
                                              root, sizeof root),
                 -1));
    cr_assert(eq(int,
                 memgauge__parse_cgroup_mount(text, LIT_LEN(text), MEMGAUGE__CGROUP_V2, mp,
                                              sizeof mp, root, 1),
                 -1));
}

Test(cgroup_mount, truncated_and_empty_lines_are_skipped)
{
    static const char text[] = "\n"
                               "30 24 0:26 / /sys/fs/cgroup rw shared:4 -\n"
                               "31 24 0:27 / /x rw - cgroup2\n"
                               "32 24\n"
                               "33 24 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
    mount_t m = parse_mount(text, MEMGAUGE__CGROUP_V2);

    cr_assert(eq(int, m.rc, 0));
    cr_assert(eq(str, m.mp, "/sys/fs/cgroup/unified"));
}

/* ------------------------------------------------------------------------ */
/* Mount point + cgroup path -> the cgroup's directory                       */
/* ------------------------------------------------------------------------ */

typedef struct {
    int rc;
    char dir[PATH_CAP];
} dir_t;

static dir_t cgroup_dir(const char *mp, const char *root, const char *path)
{
    dir_t d;
    memset(&d, 'X', sizeof d);
    d.rc = memgauge__cgroup_dir(mp, root, path, d.dir, sizeof d.dir);
    return d;
}

Test(cgroup_dir, root_slash_appends_the_whole_path)
{
    dir_t d = cgroup_dir("/sys/fs/cgroup/memory", "/", "/user.slice/user-1000.slice");

    cr_assert(eq(int, d.rc, 0));
    cr_assert(eq(str, d.dir, "/sys/fs/cgroup/memory/user.slice/user-1000.slice"));
}

Test(cgroup_dir, the_root_cgroup_is_the_mount_point)
{
    dir_t d = cgroup_dir("/sys/fs/cgroup", "/", "/");

    cr_assert(eq(int, d.rc, 0));
    cr_assert(eq(str, d.dir, "/sys/fs/cgroup"));
}

Test(cgroup_dir, a_namespaced_root_is_removed_from_a_path_inside_it)
{
    dir_t sub = cgroup_dir("/sys/fs/cgroup/memory", "/docker/0123abcd", "/docker/0123abcd/worker");
    dir_t same = cgroup_dir("/sys/fs/cgroup/memory", "/docker/0123abcd", "/docker/0123abcd");

    cr_assert(eq(int, sub.rc, 0));
    cr_assert(eq(str, sub.dir, "/sys/fs/cgroup/memory/worker"));
    cr_assert(eq(int, same.rc, 0));
    cr_assert(eq(str, same.dir, "/sys/fs/cgroup/memory"));
}

Test(cgroup_dir, a_path_outside_the_namespaced_root_is_an_error)
{
    cr_assert(eq(int, cgroup_dir("/sys/fs/cgroup", "/docker/0123abcd", "/docker/other").rc, -1));
    cr_assert(eq(int, cgroup_dir("/sys/fs/cgroup", "/docker/0123abcd", "/").rc, -1));
    cr_assert(eq(int, cgroup_dir("/sys/fs/cgroup", "/docker/0123abcd", "/docker").rc, -1));
}

Test(cgroup_dir, a_path_above_the_namespace_root_is_outside_the_mount)
{
    /* Inside a cgroup namespace the kernel writes the cgroup of a process
     * outside the namespace root relative to that root, with "..": the
     * example of Documentation/admin-guide/cgroup-v2.rst, "Namespace". */
    dir_t sibling = cgroup_dir("/sys/fs/cgroup", "/", "/../batchjobs/container_id1");
    dir_t parent = cgroup_dir("/sys/fs/cgroup", "/", "/..");

    cr_assert(eq(int, sibling.rc, -1), "dir \"%s\"", sibling.dir);
    cr_assert(eq(int, parent.rc, -1), "dir \"%s\"", parent.dir);
}

Test(cgroup_dir, a_sibling_whose_name_extends_the_root_is_outside_it)
{
    cr_assert(eq(int, cgroup_dir("/sys/fs/cgroup", "/docker/0123", "/docker/0123abcd").rc, -1));
}

Test(cgroup_dir, trailing_slashes_are_dropped)
{
    dir_t both = cgroup_dir("/sys/fs/cgroup//", "/", "/user.slice/app.scope/");
    dir_t path_only = cgroup_dir("/sys/fs/cgroup", "/docker/0123abcd", "/docker/0123abcd/");

    cr_assert(eq(int, both.rc, 0));
    cr_assert(eq(str, both.dir, "/sys/fs/cgroup/user.slice/app.scope"));
    cr_assert(eq(int, path_only.rc, 0));
    cr_assert(eq(str, path_only.dir, "/sys/fs/cgroup"));
}

Test(cgroup_dir, a_buffer_too_small_is_an_error)
{
    char dir[32];

    /* "/cg/a/b" needs 8 bytes with its NUL. */
    cr_assert(eq(int, memgauge__cgroup_dir("/cg", "/", "/a/b", dir, 8), 0));
    cr_assert(eq(str, dir, "/cg/a/b"));
    cr_assert(eq(int, memgauge__cgroup_dir("/cg", "/", "/a/b", dir, 7), -1));
    /* The mount point alone: "/cg" needs 4. */
    cr_assert(eq(int, memgauge__cgroup_dir("/cg", "/", "/", dir, 4), 0));
    cr_assert(eq(str, dir, "/cg"));
    cr_assert(eq(int, memgauge__cgroup_dir("/cg", "/", "/", dir, 3), -1));
    cr_assert(eq(int, memgauge__cgroup_dir("/cg", "/", "/", dir, 0), -1));
}
