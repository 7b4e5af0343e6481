/*
 * Tests of repository checks (lib/fsck.c): a fresh repository is clean;
 * interrupted operations, loose key modes, clear-text private keys (in the
 * work tree and in history), broken definitions and undecryptable keys are
 * reported, and --repair fixes what it can.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

#define MAX_PROBLEMS 32

typedef struct {
	size_t count;
	cc_fsck_severity severity[MAX_PROBLEMS];
	char path[MAX_PROBLEMS][256];
	char message[MAX_PROBLEMS][512];
	int repaired[MAX_PROBLEMS];
} problems;

static int collect(const cc_fsck_problem *problem, void *payload)
{
	problems *seen = payload;

	if (seen->count < MAX_PROBLEMS) {
		size_t i = seen->count;

		seen->severity[i] = problem->severity;
		snprintf(seen->path[i], sizeof(seen->path[i]), "%s", problem->path);
		snprintf(seen->message[i], sizeof(seen->message[i]), "%s", problem->message);
		seen->repaired[i] = problem->repaired;
	}
	seen->count++;
	return 0;
}

/* The index of the first problem whose path contains `path`, or -1. */
static int find(const problems *seen, const char *path)
{
	for (size_t i = 0; i < seen->count && i < MAX_PROBLEMS; i++)
		if (strstr(seen->path[i], path))
			return (int)i;
	return -1;
}

static void run_fsck(int repair, int skip_keys, problems *seen, cc_fsck_stats *stats)
{
	cc_fsck_options opts = CC_FSCK_OPTIONS_INIT;
	int rc;

	opts.repair = repair;
	opts.skip_keys = skip_keys;
	memset(seen, 0, sizeof(*seen));
	rc = cc_fsck(fx_repo, &opts, collect, seen, stats);
	ck_assert_msg(rc == 0, "cc_fsck could not run: %d %s", rc, cc_error_last());
}

static void dump(const problems *seen)
{
	for (size_t i = 0; i < seen->count && i < MAX_PROBLEMS; i++)
		fprintf(stderr, "  %s: %s%s\n", seen->path[i], seen->message[i],
			seen->repaired[i] ? " (repaired)" : "");
}

static void assert_clean(void)
{
	problems seen;
	cc_fsck_stats stats;

	run_fsck(0, 0, &seen, &stats);
	if (seen.count)
		dump(&seen);
	ck_assert_uint_eq(seen.count, 0);
	ck_assert_uint_eq(stats.errors, 0);
	ck_assert_uint_eq(stats.warnings, 0);
}

static cc_key *store_key(void)
{
	cc_key_spec spec = { CC_KEY_ED25519, 0 };
	cc_key *key = NULL;
	cc_txn *txn = NULL;

	ck_assert_int_eq(cc_key_generate(&key, &spec), 0);
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "key generate"), 0);
	ck_assert_msg(cc_key_store(txn, key, "generated") == 0, "%s", cc_error_last());
	ck_assert_int_eq(cc_txn_commit(txn, "key: generated", NULL), 0);
	return key;
}

static char *clear_pem(void)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *copy;
	long len;

	ck_assert_ptr_nonnull(pkey);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
	len = BIO_get_mem_data(bio, &data);
	copy = strndup(data, (size_t)len);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return copy;
}

START_TEST(test_fsck_of_new_repository_is_clean)
{
	assert_clean();
}
END_TEST

START_TEST(test_fsck_with_stored_key_and_definition_is_clean)
{
	cc_key *key = store_key();
	cc_fsck_stats stats;
	problems seen;
	cc_txn *txn = NULL;
	static const char def[] = "subject:\n  cn: www.example.com\n";

	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "define"), 0);
	ck_assert_int_eq(cc_txn_write(txn, "definitions/www.yaml", def, strlen(def), 0644), 0);
	ck_assert_int_eq(cc_txn_commit(txn, "define: www: created", NULL), 0);
	run_fsck(0, 0, &seen, &stats);
	if (seen.count)
		dump(&seen);
	ck_assert_uint_eq(stats.errors, 0);
	ck_assert_uint_eq(stats.keys, 1);
	ck_assert_uint_eq(stats.definitions, 1);
	ck_assert_uint_gt(stats.objects, 0);
	cc_key_free(key);
}
END_TEST

START_TEST(test_fsck_reports_interrupted_operation_and_repair_rolls_it_back)
{
	char journal[PATH_MAX], path[PATH_MAX];
	cc_fsck_stats stats;
	problems seen;
	char *content;
	int i;

	fx_pathf(path, sizeof(path), "%s/.gitignore", fx_repo_path);
	fx_write_file(path, "half-written\n");
	fx_pathf(journal, sizeof(journal), "%s/journal", cc_repo_statedir(fx_repo));
	fx_write_file(journal, ".gitignore\n");

	run_fsck(0, 0, &seen, &stats);
	i = find(&seen, "journal");
	ck_assert_msg(i >= 0, "interrupted operation not reported");
	ck_assert_int_eq(seen.severity[i], CC_FSCK_ERROR);
	ck_assert_int_eq(seen.repaired[i], 0);
	ck_assert_uint_ge(stats.errors, 1);
	ck_assert(fx_exists(journal));

	run_fsck(1, 0, &seen, &stats);
	i = find(&seen, "journal");
	ck_assert_int_ge(i, 0);
	ck_assert_int_eq(seen.repaired[i], 1);
	ck_assert_uint_ge(stats.repaired, 1);
	ck_assert(!fx_exists(journal));
	content = fx_read_file(path);
	ck_assert_ptr_nonnull(strstr(content, "*.tmp-*"));
	free(content);
	assert_clean();
}
END_TEST

START_TEST(test_fsck_reports_loose_key_file_mode_and_repair_fixes_it)
{
	cc_key *key = store_key();
	char path[PATH_MAX];
	cc_fsck_stats stats;
	problems seen;
	int i;

	fx_pathf(path, sizeof(path), "%s/keys/%.2s/%s.pem", fx_repo_path, cc_key_id(key), cc_key_id(key));
	ck_assert_int_eq(chmod(path, 0644), 0);
	run_fsck(0, 0, &seen, &stats);
	i = find(&seen, ".pem");
	ck_assert_msg(i >= 0, "key file mode 0644 not reported");
	ck_assert_int_eq(seen.repaired[i], 0);
	ck_assert_int_eq(fx_mode(path), 0644);
	run_fsck(1, 0, &seen, &stats);
	i = find(&seen, ".pem");
	ck_assert_int_ge(i, 0);
	ck_assert_int_eq(seen.repaired[i], 1);
	ck_assert_int_eq(fx_mode(path), 0600);
	assert_clean();
	cc_key_free(key);
}
END_TEST

START_TEST(test_fsck_reports_clear_text_private_key_in_work_tree)
{
	char path[PATH_MAX];
	cc_fsck_stats stats;
	problems seen;
	char *pem = clear_pem();
	int i;

	fx_pathf(path, sizeof(path), "%s/leak.pem", fx_repo_path);
	fx_write_file(path, pem);
	run_fsck(0, 0, &seen, &stats);
	i = find(&seen, "leak.pem");
	ck_assert_msg(i >= 0, "clear-text key in the work tree not reported");
	ck_assert_int_eq(seen.severity[i], CC_FSCK_ERROR);
	ck_assert_uint_ge(stats.errors, 1);
	free(pem);
}
END_TEST

START_TEST(test_fsck_reports_clear_text_private_key_in_history)
{
	cc_fsck_stats stats;
	problems seen;
	cc_txn *txn = NULL;
	char *pem = clear_pem();

	/* committed once, removed since: still in a git object */
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "test"), 0);
	ck_assert_int_eq(cc_txn_write(txn, "oops.pem", pem, strlen(pem), 0644), 0);
	ck_assert_int_eq(cc_txn_commit(txn, "test: key committed by mistake", NULL), 0);
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "test"), 0);
	ck_assert_int_eq(cc_txn_remove(txn, "oops.pem"), 0);
	ck_assert_int_eq(cc_txn_commit(txn, "test: key removed", NULL), 0);
	run_fsck(0, 0, &seen, &stats);
	if (stats.errors == 0)
		dump(&seen);
	ck_assert_msg(stats.errors >= 1, "clear-text key in a git object not reported");
	free(pem);
}
END_TEST

START_TEST(test_fsck_reports_invalid_definition_with_its_path)
{
	char path[PATH_MAX];
	cc_fsck_stats stats;
	problems seen;
	int i;

	fx_pathf(path, sizeof(path), "%s/definitions", fx_repo_path);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	fx_pathf(path, sizeof(path), "%s/definitions/bad.yaml", fx_repo_path);
	fx_write_file(path, "subject: {cn: www.example.com}\nbogus: 1\n");
	run_fsck(0, 0, &seen, &stats);
	i = find(&seen, "definitions/bad.yaml");
	ck_assert_msg(i >= 0, "invalid definition not reported");
	ck_assert_int_eq(seen.severity[i], CC_FSCK_ERROR);
	ck_assert_msg(strstr(seen.message[i], "bogus") != NULL, "'%s'", seen.message[i]);
}
END_TEST

START_TEST(test_fsck_without_secret_needs_skip_keys)
{
	cc_key *key = store_key();
	cc_repo *other = NULL;
	cc_repo *saved = fx_repo;
	cc_fsck_stats stats;
	problems seen;

	/* a fresh handle with the wrong secret cannot decrypt the key */
	setenv("CERTCTL_PASSPHRASE", "not the secret", 1);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	fx_repo = other;
	run_fsck(0, 0, &seen, &stats);
	ck_assert_uint_ge(stats.errors, 1);
	run_fsck(0, 1, &seen, &stats);
	if (stats.errors)
		dump(&seen);
	ck_assert_uint_eq(stats.errors, 0);
	fx_repo = saved;
	cc_repo_free(other);
	cc_key_free(key);
}
END_TEST

Suite *fsck_suite(void)
{
	Suite *s = suite_create("fsck");
	TCase *tc = tcase_create("checks");

	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_fsck_of_new_repository_is_clean);
	tcase_add_test(tc, test_fsck_with_stored_key_and_definition_is_clean);
	tcase_add_test(tc, test_fsck_reports_interrupted_operation_and_repair_rolls_it_back);
	tcase_add_test(tc, test_fsck_reports_loose_key_file_mode_and_repair_fixes_it);
	tcase_add_test(tc, test_fsck_reports_clear_text_private_key_in_work_tree);
	tcase_add_test(tc, test_fsck_reports_clear_text_private_key_in_history);
	tcase_add_test(tc, test_fsck_reports_invalid_definition_with_its_path);
	tcase_add_test(tc, test_fsck_without_secret_needs_skip_keys);
	suite_add_tcase(s, tc);
	return s;
}
