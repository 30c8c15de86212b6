#!/usr/bin/env bash
# docs_links.sh: every relative link of the Markdown files tracked by git points at something
# that exists, and every anchor (`#anchor`, `path.md#anchor`) at a heading of its target file,
# with GitHub's anchor rule: the heading's text lower-cased, every character other than a letter,
# a digit, a space, a hyphen or an underscore dropped, spaces turned into hyphens, and "-1",
# "-2", ... appended to repeated anchors. External links (http:, https:, mailto:, ...) are not
# followed. Prints "FAIL: file:line: link" for each broken link and exits 1; else a PASS line.
set -euo pipefail
cd "${ANKH_SOURCE_DIR:-$(dirname "$0")/..}"
# Letters are letters in any script, and \L lower-cases them (GNU sed), when this locale exists.
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then export LC_ALL=C.UTF-8; fi

# The lines of a Markdown file outside fenced code blocks, as "LINE<TAB>TEXT".
prose_lines() {
  awk '
    /^[ \t]*(```|~~~)/ {
      match($0, /(```|~~~)/)
      mark = substr($0, RSTART, 3)
      if (fence == "") { fence = mark; next }
      if (mark == fence) { fence = ""; next }
    }
    fence == "" { print FNR "\t" $0 }
  ' "$1"
}

# The anchors of a Markdown file: one per ATX heading (GitHub's rule), plus <a name|id="...">.
anchors_of() {
  prose_lines "$1" | cut -f2- | grep -E '^ {0,3}#{1,6}([ \t]|$)' |
    sed -E 's/^ *#+[ \t]*//; s/[ \t]+#+[ \t]*$//; s/[ \t]+$//' |
    sed -E 's/!?\[([^]]*)\]\([^)]*\)/\1/g; s/<[^>]*>//g; s/.*/\L&/; s/[^[:alnum:] _-]//g; s/ /-/g' |
    awk '{ n = seen[$0]++; print (n ? $0 "-" n : $0) }'
  prose_lines "$1" | cut -f2- | grep -oE '<a[^>]+(name|id)="[^"]+"' | sed -E 's/.*(name|id)="([^"]+)"/\2/' || true
}

# Every inline link or image target of a Markdown file, as "LINE<TAB>TARGET" (code spans skipped).
links_of() {
  prose_lines "$1" | awk -F'\t' '{
    line = substr($0, length($1) + 2)
    gsub(/`[^`]*`/, "", line)
    while (match(line, /\]\([^)]*\)/)) {
      print $1 "\t" substr(line, RSTART + 2, RLENGTH - 3)
      line = substr(line, RSTART + RLENGTH)
    }
  }'
}

declare -A anchor_cache=()
has_anchor() {  # FILE ANCHOR
  if [[ -z ${anchor_cache[$1]+set} ]]; then anchor_cache[$1]=$'\n'"$(anchors_of "$1")"$'\n'; fi
  [[ ${anchor_cache[$1]} == *$'\n'"$2"$'\n'* ]]
}

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -- '*.md')
else  # a source tree without git: the Markdown files outside build directories
  mapfile -t files < <(find . -name '*.md' -not -path './build*' -not -path './.git/*' | sed 's#^\./##' | sort)
fi

status=0 checked=0 documents=0
for file in "${files[@]}"; do
  [[ -f $file ]] || continue
  documents=$((documents + 1))
  dir=$(dirname "$file")
  while IFS=$'\t' read -r line link; do
    target=${link#<}
    target=${target%%>*}
    target=${target%% *}  # drop a title: (path "title")
    [[ -z $target || $target =~ ^[A-Za-z][A-Za-z0-9+.-]*: ]] && continue  # empty, or a URL scheme
    checked=$((checked + 1))
    path=${target%%#*}
    anchor=
    [[ $target == *#* ]] && anchor=${target#*#}
    path=${path//%20/ }
    if [[ -z $path ]]; then resolved=$file
    elif [[ $path == /* ]]; then resolved=${path#/}
    elif [[ $dir == . ]]; then resolved=$path
    else resolved=$dir/$path
    fi
    if [[ ! -e $resolved ]]; then
      echo "FAIL: $file:$line: $link (no such file or directory: $resolved)"
      status=1
    elif [[ -n $anchor && $resolved == *.md && -f $resolved ]] && ! has_anchor "$resolved" "$anchor"; then
      echo "FAIL: $file:$line: $link (no heading with anchor #$anchor in $resolved)"
      status=1
    fi
  done < <(links_of "$file")
done

((status == 0)) && echo "PASS: all $checked relative links and anchors of $documents Markdown files resolve"
exit "$status"
