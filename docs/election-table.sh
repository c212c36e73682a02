#!/usr/bin/env bash
# Prints the election table of docs/election.md: for both algorithms at
# N = 16, 100, 250, with each initiator, the election after the leader
# crashes (fault-free).
set -euo pipefail
gs=${GS:-go run ./cmd/groundstation}
echo "| algorithm | N | initiator | messages | textbook | data frames | all frames | time to leader (ms) | terms |"
echo "|---|---|---|---|---|---|---|---|---|"
for alg in ring bully; do
  for n in ${SIZES:-16 100 250}; do
    for init in all lowest second; do
      $gs simulate election --algorithm "$alg" --drones "$n" --crash-leader --initiator "$init" --json |
        python3 -c '
import json, sys
d = json.load(sys.stdin)
n, alg, init = d["drones"], d["algorithm"], d["initiator"]
book = {
  ("bully", "second"): "N-2 = %d" % (n - 2),
  ("bully", "lowest"): "N(N-1)/2 + (N-1)(N-2)/2 + (N-2) = %d" % (n*(n-1)//2 + (n-1)*(n-2)//2 + n - 2),
  ("ring", "all"): "2N-1 + N for N-1 live = %d" % (3*(n-1)-1),
  ("ring", "second"): "2N for N-1 live = %d" % (2*(n-1)),
  ("ring", "lowest"): "3N-1 for N-1 live = %d (+ hops to the dead one)" % (3*(n-1)-1),
}.get((alg, init), "-")
print("| %s | %d | %s | %d | %s | %d | %d | %.0f | %d |" % (alg, n, init, d["election_messages"], book,
      d["election_data_frames"], d["frames"], d["time_to_leader_ms"] or -1, d["terms"]))
'
    done
  done
done
