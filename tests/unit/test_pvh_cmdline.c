/* SPDX-License-Identifier: MIT */
/* Unit test of the PVH platform's command-line parser: words, quotes, argv[0], devices, limits. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../platforms/kvm/pvh_cmdline.h"
#include "check.h"

static struct pvh_cmdline cl;

/* argv as one string, each argument in [brackets], to compare in one check. */
static const char *joined(void)
{
	static char buf[2 * PVH_ARGS_MAX + 64];
	size_t off = 0, used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < cl.argc && off < cl.args_size; i++) {
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "[%s]", cl.args + off);
		off += strlen(cl.args + off) + 1;
	}
	return buf;
}

static void splits(const char *line, const char *want)
{
	if (CHECK_EQ(pvh_cmdline_parse(line, "qemu", &cl, NULL), 0))
		CHECK_STR_EQ(joined(), want);
	else
		fprintf(stderr, "    input \"%s\"\n", line ? line : "(null)");
}

static void rejects(const char *line, int want, const char *bad_at)
{
	const char *bad = NULL;

	if (!CHECK_EQ(pvh_cmdline_parse(line, "qemu", &cl, &bad), want))
		fprintf(stderr, "    input \"%.60s\"\n", line);
	else if (bad_at)
		CHECK_STR_EQ(bad, strstr(line, bad_at));
}

static void test_words(void)
{
	splits(NULL, "[qemu]");
	splits("", "[qemu]");
	splits("   \t ", "[qemu]");
	splits("a", "[qemu][a]");
	splits("  a  b\tc\nd  ", "[qemu][a][b][c][d]");
	splits("one \"two words\" \"\"", "[qemu][one][two words][]");
	splits("a\"b c\"d", "[qemu][ab cd]");
	splits("\"unterminated quote", "[qemu][unterminated quote]");
	splits("\"\" \"\"", "[qemu][][]");
	CHECK_EQ(cl.argc, 3);
	CHECK_EQ(cl.args_size, 5 + 1 + 1);
}

static void test_argv0(void)
{
	splits("BOOT_IMAGE=/b/apps/x.img a", "[/b/apps/x.img][a]");
	splits("  \"BOOT_IMAGE=/dir with space/x.img\" a", "[/dir with space/x.img][a]");
	splits("BOOT_IMAGE=", "[]");
	/* Only a first word names the image; later, it is an ordinary argument. */
	splits("a BOOT_IMAGE=/x.img", "[qemu][a][BOOT_IMAGE=/x.img]");
}

static void test_platform_words(void)
{
	splits("a virtio_mmio.device=512@0xfeb00000:5 b virtio_mmio.device=4K@0xfeb00200:6:2 "
	       "pvh.debug",
	       "[qemu][a][b]");
	CHECK_EQ(cl.debug, 1);
	if (CHECK_EQ(cl.nr_mmio, 2)) {
		CHECK_EQ(cl.mmio[0].base, 0xfeb00000u);
		CHECK_EQ(cl.mmio[0].size, 512);
		CHECK_EQ(cl.mmio[0].irq, 5);
		CHECK_EQ(cl.mmio[1].base, 0xfeb00200u);
		CHECK_EQ(cl.mmio[1].size, 4096);
		CHECK_EQ(cl.mmio[1].irq, 6);
	}
	/* What QEMU 10 microvm appends with acpi=off, after the user's words. */
	splits("BOOT_IMAGE=h.img x  virtio_mmio.device=512@0xfeb00e00:12", "[h.img][x]");
	CHECK_EQ(cl.debug, 0);
	CHECK_EQ(cl.nr_mmio, 1);
	CHECK_EQ(cl.mmio[0].irq, 12);
	splits("virtio_mmio.device=1M@4096:47", "[qemu]");
	CHECK_EQ(cl.mmio[0].size, 1u << 20);
	CHECK_EQ(cl.mmio[0].base, 4096);
	/* The highest window that is still mapped. */
	splits("virtio_mmio.device=4K@0xfffff000:1", "[qemu]");
	/* Look-alikes are arguments. */
	splits("pvh.debug2 virtio_mmio.devices=1@2:3",
	       "[qemu][pvh.debug2][virtio_mmio.devices=1@2:3]");
}

static void test_rejects(void)
{
	rejects("a virtio_mmio.device=512@0xfeb00000 b", -EINVAL, "virtio_mmio");
	rejects("virtio_mmio.device=@0xfeb00000:5", -EINVAL, "virtio_mmio");
	rejects("virtio_mmio.device=0@0xfeb00000:5", -EINVAL, NULL);
	rejects("virtio_mmio.device=512@0xfeb00000:5x", -EINVAL, NULL);
	rejects("virtio_mmio.device=512@0xfeb00000:5:", -EINVAL, NULL);
	rejects("virtio_mmio.device=512#0xfeb00000:5", -EINVAL, NULL);
	rejects("virtio_mmio.device=512@0x100000000:5", -EINVAL, NULL);
	rejects("virtio_mmio.device=8K@0xfffff000:5", -EINVAL, NULL);
	rejects("virtio_mmio.device=5G@0x0:5", -EINVAL, NULL);
	rejects("virtio_mmio.device=512@0x1000:4294967296", -EINVAL, NULL);
	rejects("virtio_mmio.device=512@0x1000:99999999999999999999999", -EINVAL, NULL);

	char line[PVH_CMDLINE_MAX_MMIO * 40 + 64] = "";
	for (int i = 0; i <= PVH_CMDLINE_MAX_MMIO; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 " virtio_mmio.device=512@0x%x:%d", 0xfeb00000 + 512 * i, 5 + i);
	rejects(line, -ENOSPC, NULL);
}

/* The argument area is PVH_ARGS_MAX bytes, NULs included: the last byte that fits, and one more. */
static void test_limits(void)
{
	static char line[PVH_ARGS_MAX + 16];
	size_t room = PVH_ARGS_MAX - strlen("qemu") - 1;

	memset(line, 'x', room - 1);
	line[room - 1] = '\0';
	CHECK_EQ(pvh_cmdline_parse(line, "qemu", &cl, NULL), 0);
	CHECK_EQ(cl.args_size, PVH_ARGS_MAX);
	CHECK_EQ(cl.argc, 2);
	memset(line, 'x', room);
	line[room] = '\0';
	rejects(line, -E2BIG, NULL);
	/* Many short words past the limit. */
	for (size_t i = 0; i + 2 < sizeof(line) - 1; i += 2)
		line[i] = 'y', line[i + 1] = ' ';
	line[sizeof(line) - 1] = '\0';
	rejects(line, -E2BIG, NULL);
}

/*
 * Random lines from an alphabet rich in the parser's special characters: it
 * never overruns, and what it returns is consistent.
 */
static void test_fuzz(void)
{
	static const char alphabet[] =
		"ab \t\"=@:x0123456789KMG.virtio_mmio.device=pvh.debugBOOT_IMAGE=";
	static char line[PVH_ARGS_MAX + 512];

	srand(7);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand() % (round % 100 == 0 ? sizeof(line) - 1 : 120);
		int rc;

		for (size_t i = 0; i < len; i++)
			line[i] = alphabet[(size_t)rand() % (sizeof(alphabet) - 1)];
		line[len] = '\0';
		rc = pvh_cmdline_parse(line, "qemu", &cl, NULL);
		if (!CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC || rc == -E2BIG))
			break;
		if (rc)
			continue;
		size_t nuls = 0;
		for (size_t i = 0; i < cl.args_size; i++)
			nuls += cl.args[i] == '\0';
		CHECK(cl.args_size <= PVH_ARGS_MAX);
		CHECK_EQ(nuls, cl.argc);
		CHECK(cl.argc >= 1);
		CHECK(cl.nr_mmio <= PVH_CMDLINE_MAX_MMIO);
	}
}

int main(void)
{
	test_words();
	test_argv0();
	test_platform_words();
	test_rejects();
	test_limits();
	test_fuzz();
	return check_finish("test_pvh_cmdline");
}
