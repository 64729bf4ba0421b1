#!/usr/bin/env bash
# Races xcert's exact deduplication against fclones, jdupes, rmlint and plain b3sum on one
# tree, cold (page cache dropped) and hot (best of 3 after a warm-up), and prints a markdown
# table with the ratio to the fastest and each tool's peak RSS.
#
# Usage: scripts/race.sh TREE
#
# Environment:
#   XCERT       xcert binary (default target/release/xcert); its `bench dedup` and `ingest`
#               commands are raced.
#   DEDUP_CMD   command for the dedup-only row, TREE appended (default "$XCERT bench dedup");
#               when XCERT is missing, the ingest crate's example is built and used instead.
#   HOT_RUNS    hot runs per tool (default 3); COLD_RUNS cold runs per tool (default 2);
#               the best run counts, since other load on the machine only adds time.
#
# Cold runs need a writable /proc/sys/vm/drop_caches (root); otherwise they are skipped.
# Uses hyperfine when installed, else /usr/bin/time. Every tool's output goes to /dev/null.
set -euo pipefail

if [[ $# -ne 1 || ! -d $1 ]]; then
    echo "usage: $0 TREE" >&2
    exit 2
fi
TREE=$1
XCERT=${XCERT:-target/release/xcert}
HOT_RUNS=${HOT_RUNS:-3}
COLD_RUNS=${COLD_RUNS:-2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

q() { printf '%q' "$1"; }
T=$(q "$TREE")

if [[ -z ${DEDUP_CMD:-} ]]; then
    if [[ -x $XCERT ]]; then
        DEDUP_CMD="$(q "$XCERT") bench dedup --json"
    else
        echo "note: $XCERT not found; dedup row uses the xcert-ingest dedup example" >&2
        cargo build --quiet --release -p xcert-ingest --example dedup
        DEDUP_CMD="$(q "$(pwd)/target/release/examples/dedup")"
    fi
fi

# One row per tool: name, command (run by bash -c), the program it needs.
NAMES=() CMDS=() PROGS=()
row() { NAMES+=("$1"); CMDS+=("$2"); PROGS+=("$3"); }
row "xcert dedup" "$DEDUP_CMD $T > /dev/null" "${DEDUP_CMD%% *}"
row "fclones" "fclones group $T > /dev/null 2>&1" fclones
row "jdupes" "jdupes -r -Q $T > /dev/null 2>&1" jdupes
row "rmlint" "rmlint -o json:$(q "$WORK/rmlint.json") $T > /dev/null 2>&1" rmlint
row "b3sum" "find $T -type f -print0 | xargs -0 b3sum > /dev/null" b3sum
row "xcert ingest" "rm -rf $(q "$WORK/data") && $(q "$XCERT") ingest $T --data-dir $(q "$WORK/data") --json > /dev/null" "$XCERT"
row "xcert ingest --catalog-only" "rm -rf $(q "$WORK/data") && $(q "$XCERT") ingest $T --catalog-only --data-dir $(q "$WORK/data") --json > /dev/null" "$XCERT"

CAN_DROP=0
if [[ -w /proc/sys/vm/drop_caches ]] && sync && echo 3 > /proc/sys/vm/drop_caches 2> /dev/null; then
    CAN_DROP=1
fi
HAVE_HYPERFINE=0
command -v hyperfine > /dev/null && HAVE_HYPERFINE=1
DROP='sync; echo 3 > /proc/sys/vm/drop_caches'

# Best (minimum) wall time in seconds of `runs` runs of a command; cold when $3 is "cold".
best_time() {
    local cmd=$1 runs=$2 mode=$3
    if ((HAVE_HYPERFINE)); then
        local csv="$WORK/hf.csv"
        local -a extra=(--warmup 1)
        [[ $mode == cold ]] && extra=(--prepare "$DROP")
        hyperfine --style none --runs "$runs" "${extra[@]}" --export-csv "$csv" "$cmd" > /dev/null 2>&1 || return 1
        # columns: command,mean,stddev,median,user,system,min,max
        awk -F, 'NR == 2 { print $(NF - 1) }' "$csv"
    else
        local best="" t i
        [[ $mode == hot ]] && { bash -c "$cmd" > /dev/null 2>&1 || return 1; }
        for ((i = 0; i < runs; i++)); do
            [[ $mode == cold ]] && bash -c "$DROP"
            /usr/bin/time -f '%e' -o "$WORK/t" bash -c "$cmd" > /dev/null 2>&1 || return 1
            t=$(tail -1 "$WORK/t")
            if [[ -z $best ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
        done
        echo "$best"
    fi
}

# Peak resident set size in MiB of one (hot) run.
peak_rss() {
    local out="$WORK/rss"
    /usr/bin/time -v -o "$out" bash -c "$1" > /dev/null 2>&1 || return 1
    awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$out"
}

files=$(find "$TREE" -type f | wc -l)
size=$(du -sh "$TREE" | cut -f1)
echo "## Dedup race on $TREE ($files files, $size), $(nproc) cores"
echo
if ((CAN_DROP)); then
    echo "Cold: page cache dropped before each run (best of $COLD_RUNS). Hot: best of $HOT_RUNS after a warm-up."
else
    echo "Cold runs unavailable (/proc/sys/vm/drop_caches not writable). Hot: best of $HOT_RUNS after a warm-up."
fi
((HAVE_HYPERFINE)) && echo "Timed with $(hyperfine --version)." || echo "Timed with /usr/bin/time."
echo

COLD=() HOT=() RSS=()
for i in "${!NAMES[@]}"; do
    cmd=${CMDS[$i]} prog=${PROGS[$i]}
    if ! command -v "$prog" > /dev/null 2>&1 && [[ ! -x $prog ]]; then
        COLD+=("not installed") HOT+=("") RSS+=("")
        continue
    fi
    c="n/a"
    if ((CAN_DROP)); then c=$(best_time "$cmd" "$COLD_RUNS" cold) || c="failed"; fi
    h=$(best_time "$cmd" "$HOT_RUNS" hot) || h="failed"
    r=$(peak_rss "$cmd") || r=""
    COLD+=("$c") HOT+=("$h") RSS+=("$r")
done

fastest_of() {
    printf '%s\n' "$@" | awk '/^[0-9.]+$/ && (m == "" || $1 < m) { m = $1 } END { print m }'
}
FAST_HOT=$(fastest_of "${HOT[@]}")
FAST_COLD=$(fastest_of "${COLD[@]}")
ratio() {
    [[ $1 =~ ^[0-9.]+$ && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
fmt() { [[ $1 =~ ^[0-9.]+$ ]] && printf '%.3f' "$1" || printf '%s' "$1"; }

echo "| tool | command | cold s | hot s | ratio cold | ratio hot | peak RSS MiB |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for i in "${!NAMES[@]}"; do
    printf '| %s | `%s` | %s | %s | %s | %s | %s |\n' "${NAMES[$i]}" "${CMDS[$i]//|/\\|}" \
        "$(fmt "${COLD[$i]}")" "$(fmt "${HOT[$i]}")" \
        "$(ratio "${COLD[$i]}" "$FAST_COLD" || true)" "$(ratio "${HOT[$i]}" "$FAST_HOT" || true)" \
        "${RSS[$i]}"
done
