// Package timesync gives every drone the swarm's time: the leader's clock,
// estimated over exchanges like MAVLink's TIMESYNC (the NTP on-wire
// protocol).
//
// A follower sends REQUEST(t1), t1 its local clock at sending; the leader
// answers REPLY(t1, t2, t3) with t2 its swarm time at receipt and t3 at
// sending; at receipt t4 the follower computes
//
//	offset = ((t2 − t1) + (t3 − t4)) / 2    round trip = (t4 − t1) − (t3 − t2)
//
// and keeps the last Window samples. Both frames reach their receiver
// when their last byte does, so the reply's longer time on air is
// subtracted (the radio's serial airtime, from Baud and the frame sizes).
// The error of a sample is at most half its round trip, whatever the
// delays. The core answers at once (t3 = t2); the leader's radio adds the
// time the reply then waits in its outbound queue to t3 (the reply's
// hold), so that t3 is when the reply goes on air and the wait, one way
// only, is neither in the round trip nor in the offset (Reply.OnAir; the
// simulator stamps it the same way).
//
// The estimate starts from the sample with the smallest round trip, old
// samples penalised for the drift since (NTP's clock filter), among the
// samples whose half round trip is within SyncError when there is one: a
// sample delayed one way is off by most of its half round trip, while the
// penalty assumes the largest drift. Once the drone has taken the swarm
// time up, a sample whose half round trip is above SyncError never moves
// the estimate to itself: it only narrows the offsets the samples allow,
// which the estimate is kept within. Once the
// samples span three poll periods, the leader's drift against the local
// clock is estimated by least squares and followed: with polls a minute
// or more apart, drift, not delay, is what limits the error.
//
// # Beacons
//
// The leader also broadcasts a beacon every beacon period: a reply that
// answers no request (t1 BeaconT1), whose t2 is its swarm time when it
// sends it and whose t3 its radio stamps when the frame goes on air, as
// it stamps a reply's hold. One frame reaches every follower, so at 250
// drones an eighth of the budget buys a beacon every 1.74 s where a poll
// comes every 99 s. A beacon's frame ends t3 plus its time on air later
// (from Baud and its length, the hold's bytes included: MAVLink 2 trims
// trailing zero bytes), so a beacon heard at local time t4 shows the
// offset t3 + air − t4, short of the leader's by the delay beyond the
// time on air and never over it. The follower keeps the last 16 beacons
// and takes the largest offset among them, each carried along the drift
// to now (the least delayed beacon); the drift is fitted to the beacons
// by least squares once they span 4 s, when they lie within 1 ms of the
// line (no queueing or late delivery scatters them), and taken from the
// polls otherwise. The beacons' offsets, each widened by the drift bound
// over its age, also bound the leader's offset from below, which narrows
// the offsets the polls allow.
//
// A drone takes the swarm time up from beacons alone once the three
// least delayed of them agree within 1 ms (so, on time, after three
// beacons), or once it holds 16 of them, late as they may be. A drone
// that knows the swarm time (restored, or from the previous leader)
// keeps its estimate until the beacons of its leader agree or fill the
// window, only kept above their lower bound meanwhile: one beacon may be
// late by anything, and a restarted drone that moved to its first
// beacon, 50 ms late, spread the swarm by 35 ms. Once it has heard
// beacons a poll never moves its estimate either (a poll of a new leader
// is off by up to half its round trip, 4 ms at 50 drones): polls only
// narrow the offsets allowed, and give ErrorBound its upper side.
//
// In the simulated show (one 57600-baud network, clocks ±500 ms and
// ±50 ppm off, seeds 1–10) the synced drones' swarm times were spread by
// at most 0.5 ms at 50 and 250 drones, with or without the leader's
// crash, where the polls alone left up to 15.1 ms and 28.6 ms; at 10%
// loss by 6.5 and 11.3 ms at most (medians 0.6 and 1.6 ms), for the
// seconds until the beacons agreed at a drone that a poll had synced
// first (0.4 and 0.9 ms with Config.AwaitBeacons). Late delivery is what
// is left: with every frame up to 50 ms late at random, the least
// delayed of 16 beacons is a few ms late (21 and 28 ms median spread in
// the heavy-loss campaign with AwaitBeacons, 43 and 56 ms before).
//
// # The error bound
//
// ErrorBound is what the drone may rely on: it holds whenever no clock
// drifts by more than DriftPPM, whatever the delays and however wrong the
// drift estimate. Every sample allows the leader's offset within half its
// round trip at the sample's time, widened by twice DriftPPM of the time
// since; the estimate is kept inside the offsets that every sample allows,
// and the bound is the distance from the applied offset to the farther end
// of them. A drift estimated from a few noisy samples can be far off (at
// 50 drones, one reply that waited 6.6 ms for the channel, among four
// samples over 52 s, tilted it by 110 ppm), so the bound does not trust
// it.
//
// # Reading the clock
//
// A core never reads a clock. The driver passes the local clock reading,
// in nanoseconds, with SetClock before every Step and Tick (and the
// simulator's test driver does the same from sim.LocalTime), and asks for
// the swarm time of any reading with SwarmTime(local).
//
// # Taking the swarm time up
//
// A drone takes the swarm time up (Synced is emitted, and Synced reports
// true) only once its samples bound the error within SyncError (default
// 20 ms, at least a request's and a reply's time on air): a first reply
// that waited for a busy channel would otherwise set the clock as far
// off as half its wait, and slewing takes seconds to undo it. A drone
// whose samples fall short asks again at a random time within the first
// polls' spread (the period in which every member's first poll takes
// SyncShare of the channel, a quarter without it), so that the drones a
// busy moment turned away do not ask all at once; the bound doubles after
// every Window samples in a row that fall short, so that a drone on a
// channel too busy for it still takes the swarm time up in the end. Two
// drones that took it up within 20 ms of the leader's are within 40 ms
// of each other. In the simulated show (clocks ±500 ms and ±50 ppm off,
// one 57600-baud network, seeds 1–10) the swarm times of the synced
// drones were spread by at most 13.5 ms from the first sync on at 50
// drones, 15.4 ms at 80 and 24.9 ms at 250 (76.5, 105.1 and 35.9 ms when
// the first sample set the clock whatever its round trip). With every
// drone asking within 2 s of the start, on a swamped channel, the spread
// was 23.9 ms at 250 drones (298.9 ms without the bound,
// TestFirstSyncAllAtOnce), though the last drones then took the swarm
// time up only after 2 to 3 minutes: the first polls of a cold swarm are
// to be spread (swarm.Node spreads them over 20 s). In a live SITL swarm
// of 80 drones (separate processes, one 57600-baud hub) the drones' show
// times were within 17.9 ms of each other (445 ms before).
//
// # No jumps
//
// The estimate that takes the swarm time up sets the swarm clock at
// once; after that the applied offset follows the estimated drift and slews
// towards the estimate, changing by at most SlewPPM (default 10 000 ppm,
// 1 ms per 100 ms) of the elapsed local time, so swarm time never runs
// backwards and never gains or loses more than the slew bound. The leader
// answers with its own swarm time, not its raw clock: the first leader's
// offset is zero, and a drone that becomes leader serves the swarm time
// it had at that moment, at its own clock's rate from then on, so a change
// of leader does not make swarm time jump, and swarm time never drifts
// from a follower's clock by more than twice DriftPPM, as the error bound
// assumes. A drone elected before it took the swarm time up (its samples
// of the previous leader did not bound its error within SyncError, or
// too few of its beacons agreed) takes up its estimate from them and
// serves that, off by no more than they allow, or by a beacon's delay;
// only a drone without any sample or beacon serves its own clock, up to
// the clocks' spread away. The followers drop the previous leader's samples
// and drift and go on from their estimate until they hear the new
// leader, and keep it while their samples of the new leader are loose
// (above SyncError): the first replies after a change of leader often
// are, on a channel busy with the election. In the simulated show at 250
// drones (20% loss, deliveries up to 50 ms late, clocks ±500 ms and
// ±50 ppm, the leader crashing, seeds 1–20) the next leader had four
// replies in 44 s, each 43 ms or more off, and served its own clock: the
// synced drones' swarm times were spread by up to 944 ms (median 316
// ms); serving its estimate, by 165 and 193 ms in the two worst seeds,
// with the followers then moving to loose samples up to 145 ms off;
// keeping their estimate too, by up to 66 ms (median 55 ms), each
// within 39 ms of the leader (TestUnsyncedNewLeader).
//
// # GPS time
//
// A leader whose flight controller has GPS time (SetGPSTime, a reading
// with the local clock reading it was taken at, every second or so) steers
// the swarm time it serves towards it, so that every network of a show,
// each with its own leader, has one time. It never steps: it fits a line
// to the readings of the last two minutes once they span 30 s (the drift
// of its clock against GPS time, and the least delayed readings: a
// reading is late by the link's delay, never early; the second least
// delayed, so that one early reading does not count) and closes the gap between the
// swarm time it serves and that line at GPSSlewPPM of GPS time at most.
// The default, DriftPPM, keeps the swarm time it serves within DriftPPM
// of GPS time's rate, so that the followers' clocks drift from it by no
// more than twice DriftPPM and their ErrorBound holds while the gap
// closes: 400 ms takes 4000 s at 100 ppm. A faster rate (up to SlewPPM −
// 2×DriftPPM) closes it sooner, but the followers then lag by up to the
// rate times a poll period beyond their ErrorBound until it is closed (at
// 1000 ppm, 10 drones: 400 s, followers 19.9 ms off instead of 3.8 ms).
//
// HoldGPSGap(true) freezes the gap: the leader serves GPS time plus the
// gap it had, at GPS time's rate. swarm.Node holds it from the START of a
// show to its end, and while an airspace view waits for its time, so no
// show time and no time the swarm named is moved. Without GPS time
// (LoseGPS) the leader serves the swarm time it had at its own clock's
// rate; when GPS time returns (30 s of readings) it holds the gap it then
// finds, or closes it if nothing holds it. A new leader serves the swarm
// time it had, then steers the same way; a leader without GPS time serves
// its own clock. Only the leader steers; the followers follow it as ever.
//
// With readings late by 0 to 2 ms, the leader's gap to GPS time stays
// within 0.5 ms once closed, a held gap moves by at most 0.5 ms over 300 s
// (the line fitted anew), and two networks' drones agree within 2.3 ms at
// 10 drones a network and 7.3 ms at 50, at 10% loss (TestGPSNetworksAgree).
//
// # Restarts
//
// Persist returns the swarm time the drone has, with the local clock
// reading it was taken at; a drone restarted with it (Config.Restored)
// takes it up at its first clock reading, if its clock ran on and the
// drift bound over the time since adds up to at most RestoreError. A
// drone restarted while no leader is there to ask (the leader crashed, the
// next is not yet elected) may be elected next: it then serves the swarm
// time it had instead of its own clock, which can be up to the clocks'
// spread away (315 ms in a show run at 20 drones whose next leader had
// restarted during the failover).
//
// # Airtime
//
// An eighth of Share goes to the leader's beacons: one reply frame per
// beacon period. Each follower polls once per period derived from the
// rest, an airtime budget like the heartbeats' (package membership): N
// members × 2 frames (request and reply) × frame airtime / (⅞ Share).
// Requests and replies are algorithms.Unreliable: the core repeats a
// request that had no reply within ReplyTicks after a random wait of up
// to ReplyTicks, longer by √2 after every further miss (the leader may be
// down, and a new one not yet elected), up to the poll period. A drone
// that lost several polls in a row would otherwise go two or more periods
// on its drift alone (at 250 drones, signed, a request is a 38-byte frame
// and a reply a 50-byte one at most, and a period at the whole Share was
// 86.8 s: 8.7 ms at 100 ppm each), unless it hears beacons. The repeats
// keep to the budget: the period after a reply is stretched by the share
// of requests lately unanswered (a moving average over 8 requests,
// counted up to half), so that a drone sends at most one request per
// period on average.
package timesync
