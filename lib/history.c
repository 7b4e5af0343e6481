/*
 * This module implements reading the audit trail: a walk over the commits
 * from HEAD, with the certctl trailers picked out of each message.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* The value of trailer `key` in `message`, copied into `out`; 0 if absent. */
static int trailer_value(const char *message, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *line = message; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > klen + 2 && strncmp(line, key, klen) == 0 && line[klen] == ':' &&
		    line[klen + 1] == ' ') {
			size_t vlen = len - klen - 2;

			if (vlen >= size)
				vlen = size - 1;
			memcpy(out, line + klen + 2, vlen);
			out[vlen] = '\0';
			return 1;
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

/* Whether any Certctl-Definition trailer of `message` names `name`. */
static int names_definition(const char *message, const char *name)
{
	static const char key[] = "Certctl-Definition: ";
	size_t nlen = strlen(name);

	for (const char *p = strstr(message, key); p; p = strstr(p + 1, key)) {
		const char *v = p + sizeof(key) - 1;

		if ((p == message || p[-1] == '\n') && strncmp(v, name, nlen) == 0 &&
		    (v[nlen] == '\n' || v[nlen] == '\0'))
			return 1;
	}
	return 0;
}

int cc_history_walk(cc_repo *repo, const char *definition, size_t max, cc_history_cb cb,
		    void *payload)
{
	git_revwalk *walk = NULL;
	git_commit *commit = NULL;
	git_oid oid;
	size_t seen = 0;
	int rc = 0, err;

	if (git_revwalk_new(&walk, cc_repo_git(repo)) < 0) {
		rc = cc_error_git(CC_EIO, "cannot read the history");
		goto done;
	}
	git_revwalk_sorting(walk, GIT_SORT_TIME | GIT_SORT_TOPOLOGICAL);
	err = git_revwalk_push_head(walk);
	if (err == GIT_ENOTFOUND || err == GIT_EUNBORNBRANCH)
		goto done;
	if (err < 0) {
		rc = cc_error_git(CC_EIO, "cannot read the history");
		goto done;
	}
	while ((err = git_revwalk_next(&oid, walk)) == 0) {
		const git_signature *author;
		const char *message;
		char op[128], def[256], who[512];
		cc_history_entry entry;

		if (git_commit_lookup(&commit, cc_repo_git(repo), &oid) < 0) {
			rc = cc_error_git(CC_EIO, "cannot read commit %s", git_oid_tostr_s(&oid));
			goto done;
		}
		message = git_commit_message(commit);
		if (definition && !names_definition(message, definition)) {
			git_commit_free(commit);
			commit = NULL;
			continue;
		}
		memset(&entry, 0, sizeof(entry));
		git_oid_tostr(entry.id, sizeof(entry.id), &oid);
		author = git_commit_author(commit);
		entry.time = (long long)git_commit_time(commit);
		entry.offset = git_commit_time_offset(commit);
		snprintf(who, sizeof(who), "%s <%s>", author->name, author->email);
		entry.author = who;
		entry.summary = git_commit_summary(commit);
		entry.message = message;
		entry.operation = trailer_value(message, "Certctl-Operation", op, sizeof(op)) ? op : NULL;
		entry.definition = trailer_value(message, "Certctl-Definition", def, sizeof(def))
					   ? def : NULL;
		rc = cb(&entry, payload);
		git_commit_free(commit);
		commit = NULL;
		if (rc != 0)
			goto done;
		if (max && ++seen >= max)
			goto done;
	}
	if (err != GIT_ITEROVER)
		rc = cc_error_git(CC_EIO, "cannot read the history");
done:
	git_commit_free(commit);
	git_revwalk_free(walk);
	return rc;
}
