// Package mutex holds the mutual exclusion cores the swarm's airspace locks
// are built on: the central server, and (beside it, for comparison) the
// token ring, Ricart–Agrawala and Maekawa with Sanders' deadlock-free rules,
// as the textbook has it (Maekawa, behind the reliable delivery layer) and
// over plain frames whose votes and releases stand for the acknowledgements
// (ImplicitMaekawa). Maekawa's quorums come from grids and from finite
// projective planes of prime-power order (Best).
//
// Every message names a Resource, so that one drone takes part in the locks
// of many airspace cells at once. All cores follow the contract of package
// algorithms and implement Mutex. Properties and figures are those of
// Coulouris, Dollimore and Kindberg, "Distributed Systems", coordination
// chapter: ME1 safety, ME2 liveness, ME3 order.
package mutex
