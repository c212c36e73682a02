package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// scenarioHelp is what each scenario's --help says before its flags:
// what it runs and what its main fields mean. docs/simulate.md has every
// field.
var scenarioHelp = map[string]string{
	"mutex": `Usage: groundstation simulate mutex --algorithm central|ring|ricart|maekawa [--variant implicit|textbook] [flags] [--json]

Mutual exclusion on one airspace cell: drones drawn from the seed request
the cell until --entries entries are done, at most --concurrency at once.
Maekawa runs over plain frames whose votes and releases stand for the
acknowledgements (--variant implicit, the default), or behind the reliable
delivery layer as the textbook has it (--variant textbook).

Main fields:
  completed                entries done
  frames_per_entry         frames on air per entry (airtime_ms_per_entry: their airtime)
  client_delay_ms_p50/p99  request to grant
  me1_violations           grants while another drone held the cell (fails above 0)
  me2_unfinished           entries not completed (fails above 0)
`,
	"election": `Usage: groundstation simulate election --algorithm ring|bully [flags] [--json]

Leader election: a first election and, with --crash-leader, the leader's
crash and a second election.

Main fields:
  leader                the leader every live drone agrees on (0: no agreement)
  time_to_leader_ms     crash (or start) to every survivor knowing the same leader
  election_messages     messages of the (second) election
  leaders_per_term_max  most drones elected in one term (fails above 1)
  e1_violations         a drone told of a leader that is not the highest live one (fails above 0)
  e2_unfinished         live drones not knowing the agreed leader at the end (fails above 0)
`,
	"multicast": `Usage: groundstation simulate multicast [flags] [--json]

Reliable multicast from --senders drones, --messages in all, delivered in
FIFO, causal or total order (or none: basic, unreliable multicast),
optionally with crashes.

Main fields:
  delivered_min/max         messages delivered, over the live drones
  frames_per_message        frames on air per multicast (airtime_ms_per_message: their airtime)
  latency_ms_p50/p99        multicast to delivery
  order_violations          deliveries out of the promised order (fails above 0)
  integrity_violations, validity_violations, agreement_violations
                            the other promises, broken (fail above 0)
  delivery_unfinished       promised messages no drone delivered (fails above 0)
`,
	"log": `Usage: groundstation simulate log [flags] [--json]

The swarm's command log (fault-tolerant total order): the ground station
proposes --commands at the leader; a --committee votes, the rest learn;
optionally the leader or other drones crash and restart.

Main fields:
  committed, applied_min      commands committed; fewest applied by a live drone
  frames_per_command          frames on air per command
  commit_latency_ms_p50/p99   proposal to first applied
  failover_ms                 leader's crash to the new leader's first commit
  lost_committed              committed commands some live drone never applied (fails above 0)
  order_violations            an index applied out of order or differently (fails above 0)
  commands_unfinished         commands never committed (fails above 0)
`,
	"show": `Usage: groundstation simulate show [flags] [--json]

The whole swarm node (membership, leader, command log, time sync, airspace
locks, the show player) with simulated vehicles flying a show (--show FILE,
or the demo show for --drones) for --duration simulated seconds with the
faults asked for, then --settle seconds of calm before lost and unfinished
work is counted.

Main fields:
  commands_committed             show commands committed
  coordination_airtime_share     share of the channel used to coordinate
  clock_spread_ms_max            largest disagreement between two drones' swarm times
  show_time_jump_ms_max          largest step of a drone's show time between samples
  min_separation_m               closest two vehicles came
  separation_violations          pairs closer than allowed (fails above 0)
  lost_committed                 commands some live drone never applied (fails above 0)
  lock_acquisitions_unfinished   airspace requests never granted (fails above 0)
  leaders_per_term_max           most leaders of one term (fails above 1)
  leader_failover_ms             leader's crash to a new leader agreed
  terms_while_leader_alive       terms elected while the leader lived
`,
	"upload": `Usage: groundstation simulate upload [flags] [--json]

A show of --size bytes broadcast from the ground station to every drone of
one network, repaired by erasure code (--repair coded) or by resending what
drones report missing (--repair nack), optionally with crashes.

Main fields:
  completed_drones     drones holding the whole show
  upload_seconds       start to every live drone holding the show
  ratio                airtime used over one copy's airtime
  hash_violations      a drone accepted a show with the wrong hash (fails above 0)
  upload_unfinished    live drones without the whole show at the end (fails above 0)
`,
}

// helpFooter ends every scenario's help, before its flags.
const helpFooter = `
Fields, the exit rule and every flag: docs/simulate.md. The run exits 1 when
a field named *_violations, *_unfinished or lost_* is above 0, or
leaders_per_term_max is above 1; 2 on bad usage.

Flags:
`

// setScenarioUsage makes a scenario's --help print what it runs, its
// main fields and its flags.
func setScenarioUsage(fs *flag.FlagSet) {
	name := strings.TrimPrefix(fs.Name(), "simulate ")
	fs.Usage = func() {
		w := fs.Output()
		if h, ok := scenarioHelp[name]; ok {
			fmt.Fprint(w, h+helpFooter)
		} else {
			fmt.Fprintf(w, "Usage: groundstation simulate %s [flags] [--json]\n\nFlags:\n", name)
		}
		fs.PrintDefaults()
	}
}

// wantsHelp tells whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "-h=true", "--help=true":
			return true
		}
	}
	return false
}

// scenarioList is the list of scenarios with their summaries, indented.
func scenarioList(indent string) string {
	var b strings.Builder
	for _, n := range strings.Split(scenarioNames(), "|") {
		fmt.Fprintf(&b, "%s%-10s %s\n", indent, n, scenarios[n].summary)
	}
	return b.String()
}

// writeUsage prints the top-level help.
func writeUsage(w io.Writer) {
	fmt.Fprintf(w, usage, scenarioList("                        "))
}
