#!/usr/bin/env bash
#
# releasenotes.sh: render releasenotes/notes/*.yaml with reno (Debian's
# python3-reno) into build/releasenotes/releasenotes.{rst,html}, and fail on
# any warning:
#   - a note's YAML: known sections only; prelude a string, the others
#     lists of strings (reno itself renders a stray string silently);
#   - `reno lint` and `reno report` printing anything besides the report;
#   - docutils finding a warning in the rendered RST (broken markup in a note).
# reno reads notes from git history, so notes not yet committed are
# rendered from a throw-away clone with the working tree's notes committed.
#
# Usage: tools/releasenotes.sh   (or `make releasenotes`)

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/releasenotes
# Debian's reno and docutils, not a pyenv or virtualenv python on PATH.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset PYTHONPATH VIRTUAL_ENV

for tool in reno rst2html python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "releasenotes: $tool not found; install it with" >&2
        echo "  apt-get install -y --no-install-recommends python3-reno python3-docutils" >&2
        exit 1
    fi
done

mkdir -p "$OUT"
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

fail() {
    echo "releasenotes: $*" >&2
    exit 1
}

# 1. The notes' structure, which reno does not check.
python3 - "$ROOT/releasenotes" <<'EOF' || fail "invalid note(s), see above"
import glob, os, sys
import yaml

root = sys.argv[1]
with open(os.path.join(root, "config.yaml")) as f:
    conf = yaml.safe_load(f)
sections = {s[0] for s in conf.get("sections", [])}
prelude = conf.get("prelude_section_name", "prelude")
bad = 0
notes = sorted(glob.glob(os.path.join(root, conf.get("notesdir", "notes"), "*.yaml")))
if not notes:
    print("no notes in releasenotes/notes", file=sys.stderr)
    sys.exit(1)
for path in notes:
    name = os.path.relpath(path, os.path.dirname(root))
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except yaml.YAMLError as e:
        print(f"{name}: not YAML: {e}", file=sys.stderr)
        bad += 1
        continue
    if not isinstance(doc, dict) or not doc:
        print(f"{name}: a note is a mapping of sections", file=sys.stderr)
        bad += 1
        continue
    for key, value in doc.items():
        if key == prelude:
            ok = isinstance(value, str) and value.strip()
            want = "a non-empty string"
        elif key in sections:
            ok = (isinstance(value, list) and value
                  and all(isinstance(v, str) and v.strip() for v in value))
            want = "a list of non-empty strings"
        else:
            print(f"{name}: unknown section {key!r} (known: {prelude}, "
                  f"{', '.join(sorted(sections))})", file=sys.stderr)
            bad += 1
            continue
        if not ok:
            print(f"{name}: section {key!r} must be {want}", file=sys.stderr)
            bad += 1
sys.exit(1 if bad else 0)
EOF

# 2. A repository reno can read: this one, or a throw-away clone in which
#    the working tree's notes are committed.
REPO=$ROOT
if [[ -n $(git -C "$ROOT" status --porcelain -- releasenotes) ]]; then
    REPO=$SCRATCH/repo
    git clone -q --no-checkout "$ROOT" "$REPO"
    git -C "$REPO" checkout -q "$(git -C "$ROOT" rev-parse HEAD)"
    rm -rf "$REPO/releasenotes"
    cp -r "$ROOT/releasenotes" "$REPO/releasenotes"
    git -C "$REPO" add -A releasenotes
    git -C "$REPO" -c user.name=releasenotes -c user.email=releasenotes@localhost \
        commit -q --no-verify -m "uncommitted release notes"
fi

# 3. reno lint and report: with -q, anything on stderr is a warning.
(cd "$REPO" && reno -q lint) >"$SCRATCH/lint.log" 2>&1 || {
    cat "$SCRATCH/lint.log" >&2
    fail "reno lint failed"
}
if [[ -s $SCRATCH/lint.log ]]; then
    cat "$SCRATCH/lint.log" >&2
    fail "reno lint warned"
fi
(cd "$REPO" && reno -q report --no-show-source --title "Freezer Release Notes" \
    --output "$OUT/releasenotes.rst") 2>"$SCRATCH/report.log" || {
    cat "$SCRATCH/report.log" >&2
    fail "reno report failed"
}
if [[ -s $SCRATCH/report.log ]]; then
    cat "$SCRATCH/report.log" >&2
    fail "reno report warned"
fi
[[ -s $OUT/releasenotes.rst ]] || fail "reno report wrote nothing"

# 4. The RST must be clean: docutils stops at the first warning.
rst2html --halt=warning --report=warning --no-datestamp \
    "$OUT/releasenotes.rst" "$OUT/releasenotes.html" 2>"$SCRATCH/rst.log" || {
    cat "$SCRATCH/rst.log" >&2
    fail "docutils found problems in the rendered notes"
}
if [[ -s $SCRATCH/rst.log ]]; then
    cat "$SCRATCH/rst.log" >&2
    fail "docutils warned"
fi

count=$(find "$ROOT/releasenotes/notes" -name '*.yaml' | wc -l)
echo "releasenotes: $count note(s) rendered without warnings:"
echo "  $OUT/releasenotes.rst"
echo "  $OUT/releasenotes.html"
