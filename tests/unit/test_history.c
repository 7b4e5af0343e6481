/*
 * Tests of the audit trail (lib/history.c): walking the commits that
 * transactions made, filtered by the Certctl-Definition trailer.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

#define MAX_SEEN 16

typedef struct {
	size_t count;
	char id[MAX_SEEN][41];
	char summary[MAX_SEEN][128];
	char operation[MAX_SEEN][64];
	char definition[MAX_SEEN][64];
	char author[MAX_SEEN][256];
	long long time[MAX_SEEN];
	int stop_after; /* return non-zero after this many entries (0: never) */
} seen_entries;

static int collect(const cc_history_entry *entry, void *payload)
{
	seen_entries *seen = payload;
	size_t i = seen->count;

	ck_assert_uint_lt(i, MAX_SEEN);
	snprintf(seen->id[i], sizeof(seen->id[i]), "%s", entry->id);
	snprintf(seen->summary[i], sizeof(seen->summary[i]), "%s", entry->summary);
	snprintf(seen->operation[i], sizeof(seen->operation[i]), "%s",
		 entry->operation ? entry->operation : "(null)");
	snprintf(seen->definition[i], sizeof(seen->definition[i]), "%s",
		 entry->definition ? entry->definition : "(null)");
	snprintf(seen->author[i], sizeof(seen->author[i]), "%s",
		 entry->author ? entry->author : "(null)");
	seen->time[i] = entry->time;
	ck_assert_ptr_nonnull(entry->message);
	ck_assert_msg(strncmp(entry->message, entry->summary, strlen(entry->summary)) == 0,
		      "summary '%s' does not start message '%s'", entry->summary, entry->message);
	seen->count++;
	if (seen->stop_after && seen->count >= (size_t)seen->stop_after)
		return 42;
	return 0;
}

/* One transaction writing `relpath`, with the given trailers. */
static void commit_with(const char *operation, const char *relpath, const char *summary,
			const char *def1, const char *def2)
{
	cc_txn *txn = NULL;

	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, operation), 0);
	ck_assert_int_eq(cc_txn_write(txn, relpath, summary, strlen(summary), 0644), 0);
	if (def1)
		ck_assert_int_eq(cc_txn_trailer(txn, "Certctl-Definition", def1), 0);
	if (def2)
		ck_assert_int_eq(cc_txn_trailer(txn, "Certctl-Definition", def2), 0);
	ck_assert_int_eq(cc_txn_commit(txn, summary, NULL), 0);
}

START_TEST(test_history_walk_by_definition_yields_exactly_its_commit)
{
	seen_entries seen = { 0 };
	char head[41];

	commit_with("define", "definitions/x.yaml", "define: x: created", "x", NULL);
	ck_assert_int_eq(fx_git_head(fx_repo_path, head), 0);
	ck_assert_int_eq(cc_history_walk(fx_repo, "x", 0, collect, &seen), 0);
	ck_assert_uint_eq(seen.count, 1);
	ck_assert_str_eq(seen.id[0], head);
	ck_assert_str_eq(seen.summary[0], "define: x: created");
	ck_assert_str_eq(seen.operation[0], "define");
	ck_assert_str_eq(seen.definition[0], "x");
}
END_TEST

START_TEST(test_history_walk_all_is_newest_first)
{
	seen_entries seen = { 0 };
	time_t now = time(NULL);

	commit_with("define", "definitions/x.yaml", "define: x: created", "x", NULL);
	commit_with("rm", "other.txt", "rm: y: removed", "y", NULL);
	ck_assert_int_eq(cc_history_walk(fx_repo, NULL, 0, collect, &seen), 0);
	ck_assert_uint_eq(seen.count, 3);
	ck_assert_str_eq(seen.summary[0], "rm: y: removed");
	ck_assert_str_eq(seen.summary[1], "define: x: created");
	ck_assert_str_eq(seen.summary[2], "init: certificate repository created");
	ck_assert_str_eq(seen.operation[0], "rm");
	ck_assert_str_eq(seen.operation[2], "init");
	ck_assert_str_eq(seen.definition[2], "(null)");
	for (size_t i = 0; i < seen.count; i++) {
		ck_assert_uint_eq(strlen(seen.id[i]), 40);
		ck_assert_int_le(llabs(seen.time[i] - (long long)now), 600);
		ck_assert_msg(strchr(seen.author[i], '<') && strchr(seen.author[i], '>'),
			      "author '%s'", seen.author[i]);
	}
	ck_assert_str_ne(seen.id[0], seen.id[1]);
}
END_TEST

START_TEST(test_history_walk_unknown_definition_yields_nothing)
{
	seen_entries seen = { 0 };

	commit_with("define", "definitions/x.yaml", "define: x: created", "x", NULL);
	ck_assert_int_eq(cc_history_walk(fx_repo, "nope", 0, collect, &seen), 0);
	ck_assert_uint_eq(seen.count, 0);
}
END_TEST

START_TEST(test_history_walk_does_not_match_name_prefixes)
{
	seen_entries seen = { 0 };

	commit_with("define", "definitions/xy.yaml", "define: xy: created", "xy", NULL);
	commit_with("define", "definitions/wx.yaml", "define: wx: created", "wx", NULL);
	ck_assert_int_eq(cc_history_walk(fx_repo, "x", 0, collect, &seen), 0);
	ck_assert_uint_eq(seen.count, 0);
}
END_TEST

START_TEST(test_history_walk_matches_any_definition_trailer)
{
	seen_entries seen = { 0 };

	commit_with("define", "definitions/a.yaml", "define: a, b: cloned", "a", "b");
	ck_assert_int_eq(cc_history_walk(fx_repo, "b", 0, collect, &seen), 0);
	ck_assert_uint_eq(seen.count, 1);
	/* the entry names the first trailer */
	ck_assert_str_eq(seen.definition[0], "a");
}
END_TEST

START_TEST(test_history_walk_ignores_definition_named_only_in_text)
{
	seen_entries seen = { 0 };
	cc_txn *txn = NULL;

	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "define"), 0);
	ck_assert_int_eq(cc_txn_write(txn, "f.txt", "f", 1, 0644), 0);
	ck_assert_int_eq(cc_txn_commit(txn, "define: x: mentioned",
				       "Certctl-Definition: x is only quoted here."),
			 0);
	ck_assert_int_eq(cc_history_walk(fx_repo, "x", 0, collect, &seen), 0);
	ck_assert_uint_eq(seen.count, 0);
}
END_TEST

START_TEST(test_history_walk_stops_at_max)
{
	seen_entries seen = { 0 };

	commit_with("define", "a.txt", "define: a: created", "a", NULL);
	commit_with("define", "b.txt", "define: a: updated", "a", NULL);
	commit_with("define", "c.txt", "define: a: updated again", "a", NULL);
	ck_assert_int_eq(cc_history_walk(fx_repo, NULL, 2, collect, &seen), 0);
	ck_assert_uint_eq(seen.count, 2);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(cc_history_walk(fx_repo, "a", 1, collect, &seen), 0);
	ck_assert_uint_eq(seen.count, 1);
	ck_assert_str_eq(seen.summary[0], "define: a: updated again");
}
END_TEST

START_TEST(test_history_walk_returns_callback_value_when_stopped)
{
	seen_entries seen = { 0 };

	commit_with("define", "a.txt", "define: a: created", "a", NULL);
	seen.stop_after = 1;
	ck_assert_int_eq(cc_history_walk(fx_repo, NULL, 0, collect, &seen), 42);
	ck_assert_uint_eq(seen.count, 1);
}
END_TEST

Suite *history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("walk");

	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_history_walk_by_definition_yields_exactly_its_commit);
	tcase_add_test(tc, test_history_walk_all_is_newest_first);
	tcase_add_test(tc, test_history_walk_unknown_definition_yields_nothing);
	tcase_add_test(tc, test_history_walk_does_not_match_name_prefixes);
	tcase_add_test(tc, test_history_walk_matches_any_definition_trailer);
	tcase_add_test(tc, test_history_walk_ignores_definition_named_only_in_text);
	tcase_add_test(tc, test_history_walk_stops_at_max);
	tcase_add_test(tc, test_history_walk_returns_callback_value_when_stopped);
	suite_add_tcase(s, tc);
	return s;
}
