/*
 * xdp_oracle: asks a real Linux kernel what an XDP program does. Reads a line-based script on
 * standard input, talks to the kernel through raw bpf(2) calls (no libbpf), and prints one result
 * line per action. Built static so it runs as the only program of a minimal initramfs.
 *
 * Script lines:
 *   map <idx> <type> <key_size> <value_size> <max_entries>   create map number idx
 *   prog <name> <hex>              instruction bytes; ld_imm64 with src_reg 1 names map idx in imm
 *   load <name>                    BPF_PROG_LOAD as BPF_PROG_TYPE_XDP, license GPL, log level 1
 *   unload <name>                  closes the program's fd
 *   run <name> <packet hex>        BPF_PROG_TEST_RUN once
 *   set <idx> <key hex> <value hex>  BPF_MAP_UPDATE_ELEM (initial values of global data)
 *   slot <idx> <index> <name>      places a loaded program in slot index of program array idx
 *   dump <idx>                     every element (arrays: nonzero values only), then MAPEND
 *   clear <idx>                    arrays: zero every value; hashes: delete every key
 *   strict on|off                  load with or without BPF_F_STRICT_ALIGNMENT
 *   forget                         closes every program and forgets them (for long campaigns)
 *   caps offload|full              offload: drop CAP_SYS_ADMIN and CAP_PERFMON from the effective
 *                                  set (keeping CAP_BPF and CAP_NET_ADMIN), so the verifier runs
 *                                  without pointer-leak privileges; full: restore them
 * Output lines: UNAME, CAPS, MAPCREATE, SET, SLOT, LOAD, VLOG, RUN, MAP, MAPEND, END.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MAX_MAPS 16
#define MAX_PROGS 1024
#define MAX_INSNS 4096
#define LOG_SIZE (1 << 20)
#define OUT_SIZE (1 << 18)

struct prog {
	char name[64];
	struct bpf_insn insns[MAX_INSNS];
	unsigned count;
	int fd;
};

static int map_fd[MAX_MAPS];
static unsigned map_key[MAX_MAPS], map_value[MAX_MAPS], map_entries[MAX_MAPS], map_type[MAX_MAPS];
static struct prog progs[MAX_PROGS];
static unsigned nprogs;
static char log_buf[LOG_SIZE];
static int strict_alignment;
static unsigned char out_buf[OUT_SIZE];

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses hex into buf; returns the byte count or -1. */
static long parse_hex(const char *text, unsigned char *buf, size_t cap)
{
	size_t n = 0;
	while (*text && *text != '\n') {
		int hi = hex_value(text[0]), lo = hi < 0 ? -1 : hex_value(text[1]);
		if (hi < 0 || lo < 0 || n >= cap)
			return -1;
		buf[n++] = (unsigned char)(hi << 4 | lo);
		text += 2;
	}
	return (long)n;
}

static void print_hex(const unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", buf[i]);
}

static struct prog *find_prog(const char *name)
{
	for (unsigned i = 0; i < nprogs; i++)
		if (strcmp(progs[i].name, name) == 0)
			return &progs[i];
	return NULL;
}

/* Sets or clears CAP_SYS_ADMIN (21) and CAP_PERFMON (38) in the effective set. */
static void do_caps(int full)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	if (syscall(__NR_capget, &hdr, data) != 0) {
		printf("CAPS fail errno=%d\n", errno);
		return;
	}
	if (full) {
		data[0].effective |= 1u << 21;
		data[1].effective |= 1u << (38 - 32);
	} else {
		data[0].effective &= ~(1u << 21);
		data[1].effective &= ~(1u << (38 - 32));
	}
	if (syscall(__NR_capset, &hdr, data) != 0)
		printf("CAPS fail errno=%d\n", errno);
	else
		printf("CAPS %s ok\n", full ? "full" : "offload");
}

static void do_map(unsigned idx, unsigned type, unsigned key, unsigned value, unsigned entries)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = key;
	attr.value_size = value;
	attr.max_entries = entries;
	/* Linux creates an LPM trie only without preallocation; the vectors' definitions carry no flags */
	if (type == BPF_MAP_TYPE_LPM_TRIE)
		attr.map_flags = BPF_F_NO_PREALLOC;
	if (idx < MAX_MAPS && map_fd[idx] > 0)
		close(map_fd[idx]); /* a later definition of the same index replaces the map */
	int fd = idx < MAX_MAPS ? (int)sys_bpf(BPF_MAP_CREATE, &attr) : (errno = EINVAL, -1);
	if (fd < 0) {
		printf("MAPCREATE %u fail errno=%d\n", idx, errno);
		return;
	}
	map_fd[idx] = fd;
	map_type[idx] = type;
	map_key[idx] = key;
	map_value[idx] = value;
	map_entries[idx] = entries;
	printf("MAPCREATE %u ok\n", idx);
}

static void do_set(unsigned idx, const char *text)
{
	static unsigned char key[512], value[1 << 16];
	char keyhex[1100];
	int at = 0;
	if (idx >= MAX_MAPS || map_fd[idx] <= 0 || sscanf(text, "%1099s %n", keyhex, &at) != 1 || at == 0 ||
	    parse_hex(keyhex, key, sizeof(key)) != (long)map_key[idx] ||
	    parse_hex(text + at, value, sizeof(value)) != (long)map_value[idx]) {
		printf("SET %u fail errno=%d\n", idx, EINVAL);
		return;
	}
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (unsigned)map_fd[idx];
	attr.key = (uint64_t)(uintptr_t)key;
	attr.value = (uint64_t)(uintptr_t)value;
	if (sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) != 0)
		printf("SET %u fail errno=%d\n", idx, errno);
	else
		printf("SET %u ok\n", idx);
}

static int load_with_log(struct bpf_insn *insns, unsigned count, unsigned level)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_XDP;
	attr.insn_cnt = count;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.prog_flags = strict_alignment ? BPF_F_STRICT_ALIGNMENT : 0;
	if (level) {
		log_buf[0] = 0;
		attr.log_level = level;
		attr.log_size = LOG_SIZE;
		attr.log_buf = (uint64_t)(uintptr_t)log_buf;
	}
	return (int)sys_bpf(BPF_PROG_LOAD, &attr);
}

/*
 * The verdict comes from a load without a log (with a log, Linux 6.1 fails a load whose log did not
 * fit with ENOSPC, whatever the verdict); a rejected program is loaded once more with a log for the
 * reason. Map handles in ld_imm64 (src_reg 1 or 2) become map fds; an unknown handle becomes -1.
 */
static void do_load(struct prog *p)
{
	struct bpf_insn insns[MAX_INSNS];
	memcpy(insns, p->insns, p->count * sizeof(insns[0]));
	for (unsigned i = 0; i + 1 < p->count; i++) {
		if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE)) {
			unsigned idx = (unsigned)insns[i].imm;
			insns[i].imm = idx < MAX_MAPS && map_fd[idx] > 0 ? map_fd[idx] : -1;
		}
	}
	p->fd = load_with_log(insns, p->count, 0);
	if (p->fd >= 0) {
		printf("LOAD %s ok\n", p->name);
		return;
	}
	printf("LOAD %s fail errno=%d\n", p->name, errno);
	int again = load_with_log(insns, p->count, 1);
	if (again >= 0)
		close(again);
	/* the last lines carry the reason */
	size_t len = strlen(log_buf);
	int lines = 0;
	size_t start = len;
	while (start > 0 && lines < 4) {
		start--;
		if (log_buf[start] == '\n' && start + 1 < len)
			lines++;
	}
	char *line = strtok(log_buf + start, "\n");
	while (line) {
		printf("VLOG %s %s\n", p->name, line);
		line = strtok(NULL, "\n");
	}
}

static void do_run(struct prog *p, const char *hex)
{
	static unsigned char pkt[OUT_SIZE];
	union bpf_attr attr;
	long n = parse_hex(hex, pkt, sizeof(pkt));
	if (n < 0) {
		printf("RUN %s fail errno=%d\n", p->name, EINVAL);
		return;
	}
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (uint32_t)p->fd;
	attr.test.data_in = (uint64_t)(uintptr_t)pkt;
	attr.test.data_size_in = (uint32_t)n;
	attr.test.data_out = (uint64_t)(uintptr_t)out_buf;
	attr.test.data_size_out = sizeof(out_buf);
	attr.test.repeat = 1;
	if (sys_bpf(BPF_PROG_TEST_RUN, &attr) < 0) {
		printf("RUN %s fail errno=%d\n", p->name, errno);
		return;
	}
	printf("RUN %s ok retval=%u size=%u out=", p->name, attr.test.retval, attr.test.data_size_out);
	print_hex(out_buf, attr.test.data_size_out);
	printf("\n");
}

static void elem(int op, unsigned idx, void *key, void *value)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)map_fd[idx];
	attr.key = (uint64_t)(uintptr_t)key;
	attr.value = (uint64_t)(uintptr_t)value;
	sys_bpf(op, &attr);
}

static int next_key(unsigned idx, void *key, void *next)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)map_fd[idx];
	attr.key = (uint64_t)(uintptr_t)key;
	attr.next_key = (uint64_t)(uintptr_t)next;
	return (int)sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr);
}

/* Arrays hold every index: the dumps leave out their all-zero elements. */
static int is_array(unsigned idx)
{
	return map_type[idx] == BPF_MAP_TYPE_ARRAY || map_type[idx] == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/*
 * Bytes of a value as bpf(2) carries it: one value per possible CPU, each padded to 8 bytes, for a
 * per-CPU map (the oracle's VM has one CPU).
 */
static unsigned value_bytes(unsigned idx)
{
	if (map_type[idx] == BPF_MAP_TYPE_PERCPU_ARRAY || map_type[idx] == BPF_MAP_TYPE_PERCPU_HASH)
		return (map_value[idx] + 7) / 8 * 8;
	return map_value[idx];
}

static void do_dump(unsigned idx, int clear)
{
	unsigned char key[512], next[512], value[4096], zero[4096];
	memset(zero, 0, sizeof(zero));
	void *cur = NULL;
	while (next_key(idx, cur, next) == 0) {
		memcpy(key, next, map_key[idx]);
		cur = key;
		if (clear) {
			if (is_array(idx))
				elem(BPF_MAP_UPDATE_ELEM, idx, key, zero);
			continue;
		}
		memset(value, 0, sizeof(value));
		elem(BPF_MAP_LOOKUP_ELEM, idx, key, value);
		if (is_array(idx) && memcmp(value, zero, value_bytes(idx)) == 0)
			continue;
		printf("MAP %u ", idx);
		print_hex(key, map_key[idx]);
		printf(" ");
		print_hex(value, value_bytes(idx));
		printf("\n");
	}
	if (clear && !is_array(idx)) {
		/* deleting while iterating restarts the walk, so delete the first key until none is left */
		while (next_key(idx, NULL, next) == 0)
			elem(BPF_MAP_DELETE_ELEM, idx, next, NULL);
	}
	if (!clear)
		printf("MAPEND %u\n", idx);
}

int main(void)
{
	static char line[1 << 20];
	struct utsname u;
	uname(&u);
	printf("UNAME %s\n", u.release);
	while (fgets(line, sizeof(line), stdin)) {
		char name[64], hex[8];
		unsigned a, b, c, d, e;
		int at = 0;
		if (sscanf(line, "map %u %u %u %u %u", &a, &b, &c, &d, &e) == 5) {
			do_map(a, b, c, d, e);
		} else if (sscanf(line, "set %u %n", &a, &at) == 1 && at > 0) {
			do_set(a, line + at);
		} else if (sscanf(line, "slot %u %u %63s", &a, &b, name) == 3) {
			/* a program array's value is the program's fd, as a libbpf loader writes it */
			struct prog *p = find_prog(name);
			union bpf_attr attr;
			int fd = p ? p->fd : -1;
			memset(&attr, 0, sizeof(attr));
			attr.map_fd = a < MAX_MAPS ? (unsigned)map_fd[a] : 0;
			attr.key = (unsigned long)&b;
			attr.value = (unsigned long)&fd;
			if (a < MAX_MAPS && fd >= 0 && sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) == 0)
				printf("SLOT %u %u ok\n", a, b);
			else
				printf("SLOT %u %u fail errno=%d\n", a, b, fd < 0 ? ENOENT : errno);
		} else if (sscanf(line, "prog %63s %n", name, &at) == 1 && at > 0) {
			struct prog *p = nprogs < MAX_PROGS ? &progs[nprogs++] : NULL;
			long n = p ? parse_hex(line + at, (unsigned char *)p->insns, sizeof(p->insns)) : -1;
			if (!p || n < 0 || n % 8) {
				printf("PROG %s fail\n", name);
				if (p)
					nprogs--;
				continue;
			}
			snprintf(p->name, sizeof(p->name), "%s", name);
			p->count = (unsigned)(n / 8);
			p->fd = -1;
		} else if (sscanf(line, "unload %63s", name) == 1) {
			struct prog *p = find_prog(name);
			if (p && p->fd >= 0) {
				close(p->fd);
				p->fd = -1;
			}
		} else if (sscanf(line, "load %63s", name) == 1) {
			struct prog *p = find_prog(name);
			if (p)
				do_load(p);
			else
				printf("LOAD %s fail errno=%d\n", name, ENOENT);
		} else if (sscanf(line, "run %63s %n", name, &at) == 1 && at > 0) {
			struct prog *p = find_prog(name);
			if (p)
				do_run(p, line + at);
			else
				printf("RUN %s fail errno=%d\n", name, ENOENT);
		} else if (sscanf(line, "dump %u", &a) == 1 && a < MAX_MAPS) {
			do_dump(a, 0);
		} else if (strncmp(line, "forget", 6) == 0) {
			for (unsigned i = 0; i < nprogs; i++)
				if (progs[i].fd >= 0)
					close(progs[i].fd);
			nprogs = 0;
		} else if (strncmp(line, "strict on", 9) == 0) {
			strict_alignment = 1;
		} else if (strncmp(line, "strict off", 10) == 0) {
			strict_alignment = 0;
		} else if (strncmp(line, "caps offload", 12) == 0) {
			do_caps(0);
		} else if (strncmp(line, "caps full", 9) == 0) {
			do_caps(1);
		} else if (sscanf(line, "clear %u", &a) == 1 && a < MAX_MAPS) {
			do_dump(a, 1);
		} else if (sscanf(line, "%7s", hex) == 1 && hex[0] != '#') {
			printf("BAD %s", line);
		}
		fflush(stdout);
	}
	printf("END\n");
	return 0;
}
