#!/bin/bash
# The repository lock: a lock file left by a killed process does not block
# (flock dies with its holder), and concurrent writers are serialized so that
# every one of them makes its commit and the history stays sound.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
ok_out out certctl define first.example.com
ok test -f .git/certctl/lock

# Background processes of this script die with it.
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
}
trap cleanup EXIT

# --- a stale lock --------------------------------------------------------------
# flock -o: the lock is held by flock itself, not by its child, so killing
# flock is killing the holder.
flock -o .git/certctl/lock sleep 30 &
holder=$!
pids+=("$holder")
for _ in $(seq 50); do
	flock -n .git/certctl/lock true || break
	sleep 0.1
done
_count
flock -n .git/certctl/lock true && fail "the background flock never took the lock"
# While it lives, writers time out.
CERTCTL_LOCK_TIMEOUT=0.2 expect_fail 1 "locked" certctl define second.example.com
kill -9 "$holder"
wait "$holder" 2>/dev/null
# The lock file is still there, but nobody holds it.
assert_file .git/certctl/lock
_count
flock -n .git/certctl/lock true || fail "the lock is still held after its holder was killed"
# Quicker than the lock timeout: a stale lock is not waited for.
start=$(date +%s%N)
CERTCTL_LOCK_TIMEOUT=$(slow 2) ok_out out certctl define second.example.com
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_eq "second.example.com: created" "$out" "define after a stale lock"
assert_within_ms 1900 "$elapsed_ms" "define on a stale lock"
# A stale lock with text in it (as certctl writes: "pid N on HOST") of a pid
# that no longer exists does not block either.
echo "pid 999999 on nowhere" >.git/certctl/lock
ok_out out certctl define third.example.com
assert_eq "third.example.com: created" "$out" "define after a lock file naming a dead pid"
# Nor does a missing lock file.
rm -f .git/certctl/lock
ok_out out certctl define fourth.example.com
assert_eq "fourth.example.com: created" "$out" "define without a lock file"

# --- a writer waits for the lock while it is held briefly -------------------------
flock -o .git/certctl/lock sleep 1 &
holder=$!
pids+=("$holder")
for _ in $(seq 50); do
	flock -n .git/certctl/lock true || break
	sleep 0.1
done
CERTCTL_LOCK_TIMEOUT=20 ok_out out certctl define waited.example.com
assert_eq "waited.example.com: created" "$out" "define that waited for the lock"
wait "$holder" 2>/dev/null

# --- concurrent writers -------------------------------------------------------------
ok git fsck --full --no-progress
n0=$(commits)
mkdir "$T/par"
for i in $(seq 1 10); do
	(CERTCTL_LOCK_TIMEOUT=$(slow 120) "$CERTCTL" define "par$i.example.com" --notes "writer $i" \
		>"$T/par/$i.out" 2>"$T/par/$i.err"
	echo $? >"$T/par/$i.rc") &
	pids+=($!)
done
wait
for i in $(seq 1 10); do
	assert_eq 0 "$(cat "$T/par/$i.rc")" "exit status of writer $i ($(cat "$T/par/$i.err"))"
	assert_eq "par$i.example.com: created" "$(cat "$T/par/$i.out")" "output of writer $i"
	assert_eq "" "$(cat "$T/par/$i.err")" "stderr of writer $i"
	assert_file "definitions/par$i.example.com.yaml"
	ok grep -qF "writer $i" "definitions/par$i.example.com.yaml"
done
assert_eq $((n0 + 10)) "$(commits)" "commits after 10 concurrent defines"
ok git fsck --full --no-progress
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status after the concurrent defines"
# A straight line of commits, one definition each, every one in the tree.
assert_eq $((n0 + 10)) "$(git rev-list --count --no-merges HEAD)" "commits without merges"
subjects=$(git log -10 --format=%s | LC_ALL=C sort)
assert_eq "$(for i in $(seq 1 10); do echo "define: par$i.example.com: created"; done | LC_ALL=C sort)" \
	"$subjects" "subjects of the concurrent commits"
for c in $(git rev-list -10 HEAD); do
	assert_eq 1 "$(git show --format= --name-only "$c" | wc -l | tr -d ' ')" "files of commit $c"
done
tree=$(git ls-tree -r --name-only HEAD definitions)
for i in $(seq 1 10); do
	assert_contains "$tree" "definitions/par$i.example.com.yaml" "tree after the concurrent defines"
done
ok_out out certctl list
assert_eq 15 "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "definitions listed"
assert_no_file .git/certctl/journal
ok_out out certctl fsck

# --- concurrent writers of different kinds, and on the same definition ----------
n0=$(commits)
for i in $(seq 1 4); do
	(CERTCTL_LOCK_TIMEOUT=$(slow 120) "$CERTCTL" -q key generate --key ed25519 >"$T/par/k$i.out" 2>&1
	echo $? >"$T/par/k$i.rc") &
	pids+=($!)
	(CERTCTL_LOCK_TIMEOUT=$(slow 120) "$CERTCTL" -q define first.example.com --notes "note $i" >"$T/par/d$i.out" 2>&1
	echo $? >"$T/par/d$i.rc") &
	pids+=($!)
	(CERTCTL_LOCK_TIMEOUT=$(slow 120) "$CERTCTL" -q rm "par$i.example.com" >"$T/par/r$i.out" 2>&1
	echo $? >"$T/par/r$i.rc") &
	pids+=($!)
done
wait
for i in $(seq 1 4); do
	for k in k d r; do
		assert_eq 0 "$(cat "$T/par/$k$i.rc")" "exit status of $k$i ($(cat "$T/par/$k$i.out"))"
	done
done
# 4 keys + 4 removals + 4 notes (each a change from the one before).
assert_eq $((n0 + 12)) "$(commits)" "commits after the mixed concurrent writers"
assert_eq 4 "$(git log -12 --format=%s | grep -c '^key: .*: generated$')" "key commits"
assert_eq 4 "$(git log -12 --format=%s | grep -c '^rm: par.*: removed$')" "rm commits"
assert_eq 4 "$(git log -12 --format=%s | grep -c '^define: first.example.com: updated$')" "define commits"
# The note in the work tree is the one of the last define commit.
last_note=$(git log -1 --format=%H --grep='^define: first.example.com' | xargs -I{} git show {}:definitions/first.example.com.yaml | grep notes)
assert_eq "$last_note" "$(grep notes definitions/first.example.com.yaml)" "notes of first.example.com"
ok git fsck --full --no-progress
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status after the mixed writers"
for f in keys/*/*.pem; do
	assert_mode 600 "$f"
done
assert_no_file .git/certctl/journal
ok_out out certctl fsck

# --- git's own lock files left by a killed process ---------------------------------
branch=$(git symbolic-ref --short HEAD)
# A stale index.lock: certctl either refuses (clearly, changing nothing) or
# commits and still leaves git's index matching HEAD.  It must never leave
# the index behind, where the next 'git commit' would undo its commit.
touch .git/index.lock
snapshot
out=$(certctl define index-lock.example.com 2>"$T/err")
rc=$?
_count
if [ "$rc" -eq 0 ]; then
	rm -f .git/index.lock
	assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status after a commit made beside a stale index.lock"
else
	assert_eq 1 "$rc" "exit status with a stale index.lock"
	assert_contains "$(cat "$T/err")" "index.lock" "message with a stale index.lock"
	assert_unchanged
	rm -f .git/index.lock
fi
git reset -q
# A stale ref lock (a writer killed while updating the branch): fsck says
# so, --repair removes it, and the message of a writer names the file.
touch ".git/refs/heads/$branch.lock"
snapshot
expect_fail 1 "$branch\.lock" certctl define ref-lock.example.com
assert_not_contains "$FAIL_MSG" "for writing: \$" "message with a stale ref lock"
_count
case $FAIL_MSG in *": ") fail "the message ends with an empty reason: '$FAIL_MSG'" ;; esac
assert_unchanged
out=$(certctl fsck 2>&1)
rc=$?
assert_eq 1 "$rc" "fsck exit status with a stale ref lock"
assert_contains "$out" "$branch.lock" "fsck with a stale ref lock"
ok_out out certctl fsck --repair
assert_no_file ".git/refs/heads/$branch.lock"
ok_out out certctl define ref-lock.example.com
rm -f ".git/refs/heads/$branch.lock"

# --- a writer killed in the middle leaves nothing a later writer trips on --------
for i in $(seq 1 5); do
	"$CERTCTL" -q define "killed$i.example.com" >/dev/null 2>&1 &
	p=$!
	pids+=("$p")
	# 10 to 50 ms into its run (or as far into a slower one).
	sleep "$(awk -v ms="$(slow $((10 * i)))" 'BEGIN { printf "%.3f", ms / 1000 }')"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
# fsck --repair cleans up whatever a killed writer left.
certctl fsck --repair >"$T/repair.out" 2>&1
ok_out out certctl define after-kill.example.com
assert_eq "after-kill.example.com: created" "$out" "define after killed writers"
assert_no_file .git/certctl/journal
ok git fsck --no-progress
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status after killed writers"
ok_out out certctl fsck
# Each killed writer either made its whole commit or nothing.
for i in $(seq 1 5); do
	f=definitions/killed$i.example.com.yaml
	if git cat-file -e "HEAD:$f" 2>/dev/null; then
		assert_file "$f"
		assert_eq "define: killed$i.example.com: created" \
			"$(git log -1 --format=%s -- "$f")" "commit of killed writer $i"
	else
		assert_no_file "$f"
	fi
done

finish
