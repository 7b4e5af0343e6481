/*
 * Transactions: the only way to change a repository.  A transaction holds
 * the repository lock, writes files atomically, journals what it touched and
 * ends in exactly one commit, or puts every touched file back.
 */
#ifndef CERTCTL_TXN_H
#define CERTCTL_TXN_H

#include "common.h"
#include "repo.h"

typedef struct cc_txn cc_txn;

/*
 * Take the repository lock and start a transaction.  `operation` names the
 * command ("define", "key import") and becomes the Certctl-Operation
 * trailer.  Waits for another writer up to the configured lock timeout
 * ($CERTCTL_LOCK_TIMEOUT seconds, else `lock.timeout` in the
 * configuration, else 10 s); a lock left by a dead process is taken over and
 * the interrupted operation rolled back first.  CC_ELOCKED on time-out.
 */
int cc_txn_begin(cc_txn **out, cc_repo *repo, const char *operation);

/* The repository of a transaction; borrowed. */
cc_repo *cc_txn_repo(cc_txn *txn);

/*
 * Write `relpath` with `len` bytes and file mode `mode` (0644, 0600):
 * temporary file, fsync, rename.  Directories are created as needed.
 */
int cc_txn_write(cc_txn *txn, const char *relpath, const void *data, size_t len,
		 unsigned mode);

/* Remove `relpath` (a file) from the work tree; CC_ENOTFOUND when absent. */
int cc_txn_remove(cc_txn *txn, const char *relpath);

/* Add a "Key: value" trailer to the commit message. */
int cc_txn_trailer(cc_txn *txn, const char *key, const char *value);

/* Number of paths written or removed since the last checkpoint. */
size_t cc_txn_changes(const cc_txn *txn);

/*
 * Make a commit of what was written since the last checkpoint (with
 * `summary`, an optional `body` and the trailers added since), without
 * moving the branch yet: a batch makes one commit per item and publishes
 * them together with cc_txn_commit(txn, NULL, NULL), flushing once.
 */
int cc_txn_checkpoint(cc_txn *txn, const char *summary, const char *body);

/*
 * Put back what was written since the last checkpoint (a failed item of a
 * batch), keeping the checkpoints.
 */
int cc_txn_rollback_pending(cc_txn *txn);

/* The number of commits (checkpoints) made so far. */
size_t cc_txn_commits(const cc_txn *txn);

/*
 * Commit what was written since the last checkpoint as one more commit
 * whose message is `summary` (one line), an optional `body` and the
 * trailers (with `summary` NULL: only publish the checkpoints), move the
 * branch to the last commit, release the lock and free the transaction.
 * On failure the work tree is put back as cc_txn_abort() would and the
 * transaction is freed too.
 */
int cc_txn_commit(cc_txn *txn, const char *summary, const char *body);

/*
 * Put back every file the transaction touched, release the lock and free
 * it; the last error stays what it was.  NULL is fine.
 */
void cc_txn_abort(cc_txn *txn);

#endif
