#!/bin/bash
# Wall time and peak RSS of `sctpscope report --json` with -j 1, -j 2 and the default worker count (the
# planner's choice, printed by -v), on the captures given; checks that every report is identical to -j 1.
#   python bench/make_capture.py -n 1000000 --associations 1 -o /tmp/one.pcap -q
#   python bench/make_capture.py -n 1000000 -o /tmp/multi.pcap -q
#   bench/workers.sh /tmp/one.pcap /tmp/multi.pcap
# Peak RSS is GNU time's: the largest of the process and its workers (ru_maxrss), not their sum.
set -u
SCTPSCOPE=${SCTPSCOPE:-sctpscope}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for cap in "$@"; do
  for mode in "-j 1" "-j 2" ""; do
    label=$(basename "$cap")${mode// /}
    /usr/bin/time -f "%e %M" -o "$out/time" $SCTPSCOPE report "$cap" $mode -v --json -o "$out/$label.json" 2> "$out/err"
    read -r wall rss < "$out/time"
    printf '%-28s %-6s wall %6.2f s  peak RSS %7d KB  load %s  %s\n' "$(basename "$cap")" "${mode:-deflt}" "$wall" \
      "$rss" "$(cut -d' ' -f1 /proc/loadavg)" "$(grep '^sctpscope:' "$out/err" | head -1)"
    cmp -s "$out/$label.json" "$out/$(basename "$cap")-j1.json" || echo "  REPORT DIFFERS from -j 1"
  done
done
