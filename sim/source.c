// SPDX-License-Identifier: MIT
/*
 * Plugins (sim/source.h, docs/cli.md "Plugins"): a user's shared object,
 * loaded with dlopen() and initialised through its entry point
 * mmnsim_plugin_init(), registers scenarios with mmn_scenario_register();
 * from then on every command takes them by id. A plugin is never unloaded:
 * the scenario registry is append-only and points into its code and data.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "cli.h"
#include "replay_file.h"
#include "scenario_file.h"
#include "source.h"

const char *cli_source_kind_name(enum cli_source_kind k)
{
	return k == CLI_SOURCE_FILE ? "scenario-file" : "plugin";
}

static void sha_hex(struct sha256_ctx *ctx, char hex[65])
{
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_digest(ctx, sizeof(d), d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void cli_sha256_hex(const void *buf, size_t len, char hex[65])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, buf);
	sha_hex(&ctx, hex);
}

int cli_file_sha256(const char *path, char hex[65])
{
	struct sha256_ctx ctx;
	uint8_t buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n;
	int err = 0;

	if (!f)
		return -errno;
	sha256_init(&ctx);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sha256_update(&ctx, n, buf);
	if (ferror(f))
		err = -EIO;
	fclose(f);
	if (err)
		return err;
	sha_hex(&ctx, hex);
	return 0;
}

const struct cli_source *cli_source_by_hash(const struct cli_env *env, enum cli_source_kind kind,
					    const char *sha256)
{
	for (int i = 0; i < env->nr_sources; i++)
		if (env->src[i].kind == kind && !strcmp(env->src[i].sha256, sha256))
			return &env->src[i];
	return NULL;
}

const struct cli_source *cli_source_of(const struct cli_env *env, const struct mmn_scenario *s)
{
	for (int i = 0; s && i < env->nr_sources; i++)
		for (int k = env->src[i].first; k < env->src[i].end; k++)
			if (mmn_scenario_at(k) == s)
				return &env->src[i];
	return NULL;
}

/* dlopen() @src->path and run its entry point; 0 or -1 after one line. */
static int plugin_open(const struct cli_source *src)
{
	int (*init)(void);
	void *h, *sym;
	int err;

	h = dlopen(src->path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "mmnsim: plugin %s: cannot load: %s\n", src->path, dlerror());
		return -1;
	}
	sym = dlsym(h, CLI_PLUGIN_ENTRY);
	if (!sym) {
		fprintf(stderr,
			"mmnsim: plugin %s: no entry point " CLI_PLUGIN_ENTRY
			" (a plugin defines int " CLI_PLUGIN_ENTRY "(void); docs/cli.md)\n",
			src->path);
		dlclose(h);
		return -1;
	}
	*(void **)&init = sym; /* POSIX: a function pointer from dlsym() */
	err = init();
	if (err) {
		/* Scenarios it registered before failing stay registered (the
		 * registry is append-only), so the object stays loaded. */
		fprintf(stderr, "mmnsim: plugin %s: " CLI_PLUGIN_ENTRY "() failed: %s (%d)\n",
			src->path, err < 0 ? strerror(-err) : "not a negative errno", err);
		return -1;
	}
	return 0;
}

int cli_plugin_load(struct cli_env *env, const char *path)
{
	struct cli_source *src;
	char hex[65];
	int err;

	if (env->nr_sources >= CLI_MAX_SOURCES) {
		fprintf(stderr, "mmnsim: plugin %s: too many plugins and scenario files (at most %d)\n",
			path, CLI_MAX_SOURCES);
		return -1;
	}
	src = &env->src[env->nr_sources];
	memset(src, 0, sizeof(*src));
	if (strlen(path) >= sizeof(src->path) || !realpath(path, src->path)) {
		fprintf(stderr, "mmnsim: plugin %s: cannot read: %s\n", path,
			strlen(path) >= sizeof(src->path) ? "path too long" : strerror(errno));
		return -1;
	}
	err = cli_file_sha256(src->path, hex);
	if (err) {
		fprintf(stderr, "mmnsim: plugin %s: cannot read: %s\n", path, strerror(-err));
		return -1;
	}
	if (cli_source_by_hash(env, CLI_SOURCE_PLUGIN, hex))
		return 0; /* the same object, loaded already */
	memcpy(src->sha256, hex, sizeof(hex));
	src->kind = CLI_SOURCE_PLUGIN;
	src->first = mmn_scenario_count();
	if (plugin_open(src))
		return -1;
	src->end = mmn_scenario_count();
	env->nr_sources++;
	return 0;
}

/* Register the checked file @sf read from @src->path; the scenario's id or
 * NULL after one line. */
static const char *sfile_add(struct cli_env *env, struct cli_source *src, struct sfile *sf)
{
	const struct mmn_scenario *s = mmn_scenario_by_id(sf->sum.id);
	const struct cli_source *other = cli_source_of(env, s);
	int err;

	src->kind = CLI_SOURCE_FILE;
	src->first = mmn_scenario_count();
	err = sfile_register(sf);
	if (err) {
		fprintf(stderr, "mmnsim: %s:%lu:%lu: field 'id': %s%s%s\n", src->path, sf->id_line,
			sf->id_column,
			err == -EEXIST ? "scenario " : "cannot register: ",
			err == -EEXIST ? sf->sum.id : strerror(-err),
			err != -EEXIST ? "" : !s ? " is registered already" :
			other ? " is registered already by another source" :
				" is registered already (a scenario of mmnsim itself)");
		free(sf);
		return NULL;
	}
	src->end = mmn_scenario_count();
	env->nr_sources++;
	return sf->sum.id;
}

const char *cli_sfile_load(struct cli_env *env, const char *path)
{
	struct cli_source *src;
	struct sfile *sf;
	const struct cli_source *same;
	char hex[65], *text;
	size_t len;

	if (env->nr_sources >= CLI_MAX_SOURCES) {
		fprintf(stderr, "mmnsim: %s: too many plugins and scenario files (at most %d)\n",
			path, CLI_MAX_SOURCES);
		return NULL;
	}
	src = &env->src[env->nr_sources];
	memset(src, 0, sizeof(*src));
	text = read_text_file(path, &len, "");
	if (!text)
		return NULL;
	if (strlen(path) >= sizeof(src->path) || !realpath(path, src->path))
		snprintf(src->path, sizeof(src->path), "%.*s", (int)sizeof(src->path) - 1, path);
	cli_sha256_hex(text, len, hex);
	same = cli_source_by_hash(env, CLI_SOURCE_FILE, hex);
	if (same) {
		free(text);
		return mmn_scenario_at(same->first)->id;
	}
	memcpy(src->sha256, hex, sizeof(hex));
	sf = sfile_parse(path, text, len);
	free(text);
	return sf ? sfile_add(env, src, sf) : NULL;
}

/* Load each element of the colon-separated list @list (empty ones skipped). */
static int load_list(struct cli_env *env, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	int err = 0;

	if (!copy) {
		fprintf(stderr, "mmnsim: out of memory\n");
		return -1;
	}
	for (char *p = strtok_r(copy, ":", &save); p && !err; p = strtok_r(NULL, ":", &save))
		err = cli_plugin_load(env, p);
	free(copy);
	return err;
}

int cli_load_args(struct cli_env *env, int argc, char **argv, int *first)
{
	const char *list = getenv(CLI_PLUGIN_ENV);
	int a = 1;

	sfile_kinds_register(); /* before plugins: kvm, iommu, hmm stay the built-ins */
	if (!env->dry && list && load_list(env, list))
		return -1;
	while (a < argc && !strncmp(argv[a], "--load", 6) && (!argv[a][6] || argv[a][6] == '=')) {
		const char *path = argv[a][6] ? argv[a] + 7 : NULL;

		if (!path) {
			if (a + 1 >= argc) {
				fprintf(stderr, "mmnsim: option --load needs a value\n");
				return -1;
			}
			path = argv[++a];
		}
		if (!*path) {
			fprintf(stderr, "mmnsim: --load takes the path of a shared object\n");
			return -1;
		}
		if (!env->dry && cli_plugin_load(env, path))
			return -1;
		a++;
	}
	*first = a;
	return 0;
}
