#!/usr/bin/env bash
# cli_probe.sh: `ankh probe` on the real binary. A tiny generated GO-transfer task (four protein
# families, each rich in one residue and annotated with one term) probed with
# baseline:composition: exit 0, results.json with the source and naive metrics (and no BLAST
# with --no-blast), the key=value override applied, results.md, predictions.tsv with its header,
# queries.txt, and Fmax recomputed from those by recompute_fmax.py; the default output directory
# probes/TASK/composition. Then bad input: a task file with an unknown key and a bad source fail
# with a non-zero exit, the file:line (or the source) on stderr and no results.json.
# Run by ctest (probe.cli): ANKH_BINARY and ANKH_SOURCE_DIR come from tests/CMakeLists.txt.
set -euo pipefail
ankh=${ANKH_BINARY:?ANKH_BINARY is not set (run through ctest)}
src=${ANKH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/ankh-cli-probe.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "task dir/data"
"$py" "$src/tests/probe/tiny_go_task.py" "task dir"

# A probe of the composition baseline, with a task override.
"$ankh" probe baseline:composition "task dir/go.yaml" --output "out dir" --no-blast --no-progress max_query=8 \
  2>&1 | tee run.log
for f in results.json results.md predictions.tsv queries.txt; do
  [[ -s "out dir/$f" ]] || fail "out dir/$f was not written"
done
[[ $(head -n 1 "out dir/predictions.tsv") == $'query_id\tterm\tscore' ]] || fail "predictions.tsv header"
[[ $(wc -l <"out dir/queries.txt") -eq 8 ]] || fail "queries.txt does not list max_query=8 queries"
grep -q "| source |" "out dir/results.md" || fail "results.md has no source row"
grep -q "go source:" run.log || fail "the log does not report the source's metrics"
"$py" - "out dir" "task dir/data" "$src/tests/probe/recompute_fmax.py" <<'PY'
import json, subprocess, sys
out, data, script = sys.argv[1:4]
r = json.load(open(f"{out}/results.json"))
assert set(r) == {"source", "naive", "probe"}, sorted(r)  # --no-blast: no blast entry
p = r["probe"]
assert p["task"] == "go" and p["kind"] == "go_transfer" and p["source"] == "baseline:composition", p
assert p["query"] == 8 and p["dimensions"] == 20 and p["features_cached"] is False, p
assert "max_query: 8" in p["task_config"], p["task_config"]
for m in ("source", "naive"):
    assert {"fmax", "threshold", "precision", "recall", "coverage", "queries"} <= set(r[m]), r[m]
assert r["source"]["fmax"] > r["naive"]["fmax"], r
again = json.loads(subprocess.run(
    ["/usr/bin/python3", script, f"{out}/predictions.tsv", f"{out}/queries.txt", f"{data}/annot.dat",
     f"{data}/graph.txt"], check=True, capture_output=True, text=True).stdout)
assert abs(again["fmax"] - r["source"]["fmax"]) < 1e-6, (again, r["source"])
print("results.json:", json.dumps({m: r[m]["fmax"] for m in ("source", "naive")}), "recomputed", again["fmax"])
PY

# Without --output: probes/TASK/NAME under the working directory.
"$ankh" probe baseline:composition "task dir/go.yaml" --no-blast --no-progress >default.log 2>&1 ||
  { cat default.log; fail "the probe with the default output failed"; }
[[ -s probes/go/composition/results.json ]] || fail "no probes/go/composition/results.json"

# A task file with an unknown key: non-zero exit, file:line on stderr, nothing written.
cp "task dir/go.yaml" "task dir/bad.yaml"
sed -i 's/^go_graph:/go_grahp:/' "task dir/bad.yaml"   # line 4
status=0
"$ankh" probe baseline:composition "task dir/bad.yaml" --output bad-out --no-blast >bad.out 2>bad.err || status=$?
cat bad.err
(( status != 0 )) || fail "a bad task file exited 0"
grep -q "task dir/bad.yaml:4: go_grahp: unknown key" bad.err || fail "stderr does not name bad.yaml:4 and the key"
grep -q "did you mean go_graph?" bad.err || fail "no suggestion of the nearest key"
[[ ! -e bad-out/results.json ]] || fail "a failed probe left bad-out/results.json"

# An unknown baseline: non-zero exit, named on stderr, nothing written.
status=0
"$ankh" probe baseline:compositon "task dir/go.yaml" --output bad-source >bad.out 2>bad.err || status=$?
cat bad.err
(( status != 0 )) || fail "an unknown baseline exited 0"
grep -q "unknown baseline 'compositon'" bad.err || fail "stderr does not name the unknown baseline"
[[ ! -e bad-source/results.json ]] || fail "a failed probe left bad-source/results.json"
echo PASS
