#!/usr/bin/env bash
# Prints the mutual exclusion table of docs/mutex.md: per entry, fault-free
# and at 10% loss, for every algorithm at N = 16, 100, 250.
set -euo pipefail
gs=${GS:-go run ./cmd/groundstation}
entries=${ENTRIES:-60}
echo "| algorithm | N | loss | messages | textbook messages | data frames | broadcast-radio frames ([textbook](algorithms.md)) | frames | airtime ms | quorum K max | token passes |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for alg in central ring ricart maekawa maekawa/textbook; do
  variant=()
  case $alg in
    maekawa/*) variant=(--variant "${alg#maekawa/}"); alg=maekawa ;;
  esac
  for n in 16 100 250; do
    for loss in 0 0.1; do
      $gs simulate mutex --algorithm "$alg" ${variant[@]+"${variant[@]}"} --drones "$n" --entries "$entries" --loss "$loss" --json |
        python3 -c '
import json, math, sys
d = json.load(sys.stdin)
n, alg = d["drones"], d["algorithm"]
name = alg if d.get("variant") is None else "%s (%s)" % (alg, d["variant"])
k = d["quorum_size_max"]
book = {"central": ("3 (0 for the server)", "3"),
        "ring": ("token passes", "N per idle rotation"),
        "ricart": (str(2*(n-1)), str(n)),
        "maekawa": ("3(K-1) = %d at K=%d" % (3*(k-1), k), "K+1 = %d" % (k+1))}[alg]
tp = d["token_passes_per_entry"]
print("| %s | %d | %g%% | %.2f | %s | %.2f | %s | %.2f | %.1f | %s | %s |" % (
    name, n, d["loss"]*100, d["messages_per_entry"], book[0], d["data_frames_per_entry"], book[1],
    d["frames_per_entry"], d["airtime_ms_per_entry"], k if alg == "maekawa" else "-",
    "%.1f" % tp if tp is not None else "-"))
'
    done
  done
done
