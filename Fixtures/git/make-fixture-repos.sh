#!/usr/bin/env bash
# Builds the git repositories GitHistoryTests scan, one per scenario, under OUTDIR, and writes
# OUTDIR/manifest: `scenario.key=value` lines naming each planted secret and the commit that must be
# reported for it. Names, emails and dates are fixed, so commit ids are the same on every run.
# Secrets are fake AWS-style keys derived at run time from the scenario name (never literal here).
#
# usage: make-fixture-repos.sh OUTDIR
set -euo pipefail

OUT=${1:?usage: make-fixture-repos.sh OUTDIR}
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
MANIFEST="$OUT/manifest"
: > "$MANIFEST"

export GIT_CONFIG_NOSYSTEM=1 HOME="$OUT/.home" GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name "Fixture Author"
git config --global user.email "author@fixture.test"
git config --global init.defaultBranch main
git config --global protocol.file.allow always
git config --global core.autocrlf false
git config --global advice.detachedHead false
git config --global commit.gpgsign false
git config --global tag.gpgsign false
export GIT_COMMITTER_NAME="Fixture Committer" GIT_COMMITTER_EMAIL="committer@fixture.test"

TICK=1790000000   # 2026-09-21T14:13:20Z
# commit MESSAGE: commit what is staged at the next fixed timestamp (one minute apart).
commit() {
    TICK=$((TICK + 60))
    GIT_AUTHOR_DATE="@$TICK +0000" GIT_COMMITTER_DATE="@$TICK +0000" git commit -q --allow-empty -m "$1"
}
# secret NAME: a fake AWS access key id, AKIA + 16 uppercase letters derived from NAME.
secret() { printf 'AKIA%s' "$(printf '%s' "$1" | sha256sum | cut -c1-16 | tr '0-9a-f' 'A-P')"; }
# record KEY VALUE: append to the manifest.
record() { printf '%s=%s\n' "$1" "$2" >> "$MANIFEST"; }
head_id() { git rev-parse HEAD; }
new_repo() { git init -q "$OUT/$1"; cd "$OUT/$1"; }

# --- A secret added, then the file deleted.
new_repo deleted
printf 'print("hello")\n' > app.py; git add app.py; commit "Add app"
S=$(secret deleted)
printf 'import os\n\nAWS_ACCESS_KEY_ID = "%s"\n' "$S" > config.py; git add config.py; commit "Add config"
record deleted.secret "$S"; record deleted.commit "$(head_id)"; record deleted.line 3
git rm -q config.py; commit "Remove config"
record deleted.head "$(head_id)"

# --- File renamed (and later edited) after the secret was added.
new_repo renamed
S=$(secret renamed)
printf '# settings\nDEBUG = False\nKEY = "%s"\n' "$S" > settings.py; git add settings.py; commit "Add settings"
record renamed.secret "$S"; record renamed.commit "$(head_id)"
mkdir conf; git mv settings.py conf/settings.py; commit "Move settings"
record renamed.renameCommit "$(head_id)"
printf 'TIMEOUT = 30\n' >> conf/settings.py; git add conf/settings.py; commit "Add timeout"
record renamed.editCommit "$(head_id)"

# --- A secret that exists only in a merge commit's conflict resolution.
new_repo merge
printf 'line one\nline two\nline three\n' > shared.txt; git add shared.txt; commit "Base"
git checkout -q -b feature
printf 'line one\nfeature two\nline three\n' > shared.txt
printf 'feature only\n' > feature.txt; git add shared.txt feature.txt; commit "Feature edit"
record merge.featureCommit "$(head_id)"
git checkout -q main
printf 'line one\nmain two\nline three\n' > shared.txt; git add shared.txt; commit "Main edit"
if git merge -q feature -m "Merge feature" >/dev/null 2>&1; then echo "expected a conflict" >&2; exit 1; fi
S=$(secret merge)
printf 'line one\nresolved two %s\nline three\n' "$S" > shared.txt; git add shared.txt
TICK=$((TICK + 60))
GIT_AUTHOR_DATE="@$TICK +0000" GIT_COMMITTER_DATE="@$TICK +0000" git commit -q --no-edit
record merge.secret "$S"; record merge.commit "$(head_id)"; record merge.line 2

# --- Merges across a rename: a clean merge of a rename with an edit adds nothing; a merge that renames
# and whose resolution adds a line adds only that line (diff mode reads lines only for paths that differ
# from every parent, and must still see the rename).
new_repo mergerename
mkdir app
printf 'alpha\nbeta\ngamma\ndelta\nepsilon\n' > app/config.txt; git add app; commit "Base"
git checkout -q -b move
mkdir conf; git mv app/config.txt conf/config.txt; commit "Move config"
git checkout -q main
printf 'alpha\nbeta\ngamma\ndelta\nepsilon\nzeta main\n' > app/config.txt; git add app/config.txt; commit "Main edit"
record mergerename.mainEdit "$(head_id)"
TICK=$((TICK + 60))
GIT_AUTHOR_DATE="@$TICK +0000" GIT_COMMITTER_DATE="@$TICK +0000" git merge -q --no-ff move -m "Merge move"
test -f conf/config.txt && grep -q "zeta main" conf/config.txt
record mergerename.cleanMerge "$(head_id)"
git checkout -q -b topic
mkdir etc; git mv conf/config.txt etc/config.txt; commit "Move config again"
git checkout -q main
printf 'eta main\n' >> conf/config.txt; git add conf/config.txt; commit "Main edit again"
TICK=$((TICK + 60))
GIT_AUTHOR_DATE="@$TICK +0000" GIT_COMMITTER_DATE="@$TICK +0000" git merge -q --no-ff --no-commit topic >/dev/null 2>&1
S=$(secret mergerename)
printf 'key %s\n' "$S" >> etc/config.txt; git add etc/config.txt
GIT_AUTHOR_DATE="@$TICK +0000" GIT_COMMITTER_DATE="@$TICK +0000" git commit -q -m "Merge topic"
record mergerename.secret "$S"; record mergerename.evilMerge "$(head_id)"; record mergerename.line 8

# --- A secret on a branch that was never merged (HEAD stays on main).
new_repo unmerged
printf 'readme\n' > README; git add README; commit "Init"
git checkout -q -b wip
S=$(secret unmerged)
printf 'token: %s\n' "$S" > wip.yaml; git add wip.yaml; commit "WIP"
record unmerged.secret "$S"; record unmerged.commit "$(head_id)"
git checkout -q main

# --- A commit only a tag reaches: its branch was deleted.
new_repo tagonly
printf 'readme\n' > README; git add README; commit "Init"
git checkout -q -b temp
S=$(secret tagonly)
printf 'key=%s\n' "$S" > release.env; git add release.env; commit "Release config"
record tagonly.secret "$S"; record tagonly.commit "$(head_id)"
TICK=$((TICK + 60))
GIT_COMMITTER_DATE="@$TICK +0000" git tag -a v0.1 -m "v0.1"
git checkout -q main; git branch -q -D temp

# --- A commit only the detached HEAD reaches.
new_repo detached
printf 'readme\n' > README; git add README; commit "Init"
git checkout -q --detach
S=$(secret detached)
printf 'key=%s\n' "$S" > detached.txt; git add detached.txt; commit "Detached work"
record detached.secret "$S"; record detached.commit "$(head_id)"

# --- Secrets only in stashes: the newest on refs/stash, the older one only in the stash reflog.
new_repo stash
printf 'a\n' > work.txt; git add work.txt; commit "Init"
stash() {
    TICK=$((TICK + 60))
    GIT_AUTHOR_DATE="@$TICK +0000" GIT_COMMITTER_DATE="@$TICK +0000" git stash -q
}
S=$(secret stashOld)
printf 'a\nold=%s\n' "$S" > work.txt; stash
record stash.oldSecret "$S"; record stash.oldCommit "$(git rev-parse 'stash@{0}')"
S=$(secret stashNew)
printf 'a\nnew=%s\n' "$S" > work.txt; stash
record stash.newSecret "$S"; record stash.newCommit "$(git rev-parse 'stash@{0}')"

# --- A secret pasted in a commit message.
new_repo message
S=$(secret message)
printf 'x\n' > x.txt; git add x.txt; commit "Fix login

Temporarily use key $S for staging."
record message.secret "$S"; record message.commit "$(head_id)"

# --- The same blob in many commits and paths.
new_repo samemany
S=$(secret samemany)
mkdir -p a b c
printf 'shared = "%s"\n' "$S" > a/x.txt; git add a; commit "Add a/x"
record samemany.secret "$S"; record samemany.commit "$(head_id)"
cp a/x.txt b/y.txt; git add b; commit "Copy to b/y"
record samemany.copyCommit "$(head_id)"
cp a/x.txt c/z.txt; printf 'other\n' > other.txt; git add c other.txt; commit "Copy to c/z"
record samemany.copyCommit2 "$(head_id)"
printf 'more\n' >> other.txt; git add other.txt; commit "Touch other"

# --- Tree order: git sorts a directory's name as if it ended in "/" (a-b < a.b < a/ < a0).
# The occurrence walk compares each tree with its parent's in that order.
new_repo treeorder
mkdir a
printf 'one\n' > a.b; printf 'two\n' > a/x; printf 'three\n' > a-b; printf 'four\n' > a0; printf 'five\n' > f
git add -A; commit "Init"
record treeorder.init "$(head_id)"
printf 'one more\n' >> a.b; printf 'two more\n' >> a/x
git rm -q f; mkdir f; printf 'five\n' > f/g
git add -A; commit "Edit a.b and a/x, replace file f by directory f holding the same content"
record treeorder.edit "$(head_id)"

# --- A binary blob (NUL bytes) with a secret inside, and a blob over the 1 MiB test limit.
new_repo binary
S=$(secret binary)
{ printf '\x00\x01\x02PNG'; printf '%s' "$S"; printf '\x00\x00'; } > image.bin; git add image.bin; commit "Add image"
record binary.secret "$S"; record binary.commit "$(head_id)"
S=$(secret large)
{ head -c 2000000 /dev/zero | tr '\0' 'a'; printf '\nkey=%s\n' "$S"; } > large.txt; git add large.txt; commit "Add large"
record binary.largeSecret "$S"; record binary.largeCommit "$(head_id)"

# --- CRLF line endings.
new_repo crlf
S=$(secret crlf)
printf 'first\r\nkey = %s\r\nlast\r\n' "$S" > win.ini; git add win.ini; commit "Add ini"
record crlf.secret "$S"; record crlf.commit "$(head_id)"; record crlf.line 2
git update-index --chmod=+x win.ini; commit "Make ini executable"
record crlf.modeCommit "$(head_id)"

# --- LFS pointer and a non-UTF-8 path.
new_repo lfs
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 1234\n' \
    "$(printf lfs | sha256sum | cut -c1-64)" > model.bin
git add model.bin; commit "Add LFS pointer"
record lfs.commit "$(head_id)"
S=$(secret nonutf8)
printf 'key=%s\n' "$S" > "$(printf 'caf\xe9.txt')"; git add -A; commit "Add latin-1 named file"
record nonutf8.secret "$S"; record nonutf8.commit "$(head_id)"

# --- Shallow clone: the boundary commit must be flagged, not credited with everything.
new_repo shallow-source
S=$(secret shallow)
printf 'key=%s\n' "$S" > old.txt; git add old.txt; commit "One"
record shallow.secret "$S"; record shallow.sourceCommit "$(head_id)"
for n in 2 3 4; do printf '%s\n' "$n" > "f$n.txt"; git add "f$n.txt"; commit "Commit $n"; [ "$n" = 3 ] && record shallow.boundary "$(head_id)"; done
record shallow.head "$(head_id)"
cd "$OUT"; git clone -q --depth 2 "file://$OUT/shallow-source" shallow

# --- Submodule.
new_repo submodule-source
S=$(secret submodule)
printf 'key=%s\n' "$S" > inner.txt; git add inner.txt; commit "Inner secret"
record submodule.secret "$S"; record submodule.innerCommit "$(head_id)"
new_repo submodule
printf 'outer\n' > outer.txt; git add outer.txt; commit "Outer"
git submodule -q add ../submodule-source vendor/inner >/dev/null 2>&1
commit "Add submodule"
record submodule.commit "$(head_id)"

# --- Empty repository (unborn HEAD).
new_repo empty

# --- Staged and unstaged changes.
new_repo staged
printf 'a\nb\n' > tracked.txt; git add tracked.txt; commit "Init"
S=$(secret staged)
printf 'a\nb\nstaged=%s\n' "$S" > tracked.txt; git add tracked.txt
record staged.secret "$S"; record staged.line 3
S=$(secret unstaged)
printf 'a\nb\nstaged=%s\nunstaged=%s\n' "$(secret staged)" "$S" > tracked.txt
record unstaged.secret "$S"; record unstaged.line 4
S=$(secret untracked)
printf 'new=%s\n' "$S" > untracked.txt
record untracked.secret "$S"

new_repo stagedfirst
S=$(secret stagedfirst)
printf 'key=%s\n' "$S" > first.txt; git add first.txt
record stagedfirst.secret "$S"

# --- An unmerged index (merge stopped on a conflict).
new_repo conflict
printf 'one\ntwo\n' > c.txt; git add c.txt; commit "Base"
git checkout -q -b other
S=$(secret conflictTheirs)
printf 'one\ntheirs=%s\n' "$S" > c.txt; git add c.txt; commit "Other side"
record conflict.theirsSecret "$S"
git checkout -q main
S=$(secret conflictOurs)
printf 'one\nours=%s\n' "$S" > c.txt; git add c.txt; commit "Our side"
record conflict.oursSecret "$S"
if git merge -q other >/dev/null 2>&1; then echo "expected a conflict" >&2; exit 1; fi

# --- Error cases: bare repository, held index.lock, corrupt index.
git init -q --bare "$OUT/bare.git"
new_repo locked
printf 'x\n' > x; git add x; commit "Init"; : > .git/index.lock
new_repo corruptindex
printf 'x\n' > x; git add x; commit "Init"; printf 'DIRC garbage that is not an index' > .git/index
new_repo corruptobject
printf 'will be damaged\n' > x; git add x; commit "Init"
record corruptobject.blob "$(git rev-parse HEAD:x)"
OBJ=".git/objects/$(git rev-parse HEAD:x | sed 's|^\(..\)|\1/|')"
chmod u+w "$OBJ"; printf 'not zlib data' > "$OBJ"
# --- A repository whose config cannot be parsed.
new_repo badconfig
printf '[core\n' >> .git/config

# --- A blob the object database lacks (as in a blob-filtered partial clone).
new_repo missingblob
printf 'kept\n' > kept.txt; printf 'gone\n' > gone.txt; git add kept.txt gone.txt; commit "Init"
record missingblob.commit "$(head_id)"
rm -f ".git/objects/$(git rev-parse HEAD:gone.txt | sed 's|^\(..\)|\1/|')"
mkdir -p "$OUT/not-a-repo/sub"

echo "fixtures in $OUT"
