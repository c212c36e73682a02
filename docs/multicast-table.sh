#!/usr/bin/env bash
# Prints the efficient-against-relay table of docs/multicast.md: per
# message, FIFO order over each reliable multicast, fault-free and at 10%
# loss, at N = 16, 100, 250 (100 multicasts by 4 senders, seed 1).
set -euo pipefail
gs=${GS:-go run ./cmd/groundstation}
messages=${MESSAGES:-100}
echo "| reliability | N | loss | data frames | ack frames | retransmissions | frames | airtime ms | airtime / ideal | latency p50 ms | latency p99 ms |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for n in 16 100 250; do
  for loss in 0 0.1; do
    for rel in efficient relay; do
      $gs simulate multicast --order fifo --reliability "$rel" --drones "$n" --loss "$loss" \
        --messages "$messages" --senders 4 --json |
        python3 -c '
import json, sys
d = json.load(sys.stdin)
m = d["issued"]
ideal = 11.630208  # basic multicast of a 16-byte payload: its frames, 67 bytes signed on average
print("| %s | %d | %g%% | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f× | %.0f | %.0f |" % (
    d["reliability"], d["drones"], d["loss"]*100, d["data_frames_per_message"], d["ack_frames"]/m,
    d["retransmissions"]/m, d["frames_per_message"], d["airtime_ms_per_message"],
    d["airtime_ms_per_message"]/ideal, d["latency_ms_p50"], d["latency_ms_p99"]))
'
    done
  done
done
