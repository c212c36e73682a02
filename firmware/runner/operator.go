package runner

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/swarm/command"

	swarmnode "github.com/skyquorum/skyquorum/swarm"
)

// A ground station's commands (docs/groundstation-protocol.md): it sends
// SWARM_OPERATOR_COMMAND REQUEST to the leader it believes in, again
// about every second with the same seq until it is ACCEPTED. The leader
// looks the command's name (issuer, seq) up in its log and proposes it
// when absent; it answers ACCEPTED with the index of the name's first
// entry once that entry is committed, and is silent before. A drone that
// does not lead answers a REQUEST addressed to it with NOT_LEADER naming
// its leader; a REQUEST to every vehicle is answered by the leader only.

// maxAwaited bounds the requests a leader remembers to answer as soon as
// their commands commit (the ground station's retries cover the rest).
const maxAwaited = 32

// awaited is a request whose command the leader holds uncommitted: it
// answers ACCEPTED as soon as the command commits, without waiting for
// the ground station's retry.
type awaited struct {
	id     swarmnode.OperatorID
	from   uint16 // the requester's vehicle ID
	system uint8  // and MAVLink system ID
}

// operator handles a SWARM_OPERATOR_COMMAND; f is its frame.
func (r *Runner) operator(m *swarm.MessageSwarmOperatorCommand, system uint8) {
	to := algorithms.NodeID(m.DstVehicle)
	if m.NetworkId != r.cfg.Network || m.Kind != swarm.SWARM_OPERATOR_KIND_REQUEST ||
		(to != algorithms.Everyone && to != r.cfg.ID) {
		// Other networks', and answers meant for the ground station.
		r.counters.DecodeDrops++
		return
	}
	r.counters.Operator++
	if r.node == nil {
		return // listening before it starts: it knows no leader yet
	}
	lg := r.node.Log().Log()
	if !lg.Leading() {
		// A leader still recovering its term is silent too: it leads in
		// a moment, and answers the ground station's retry.
		if to == algorithms.Everyone || lg.Leader() == r.cfg.ID {
			return
		}
		r.answer(m, system, swarm.MessageSwarmOperatorCommand{
			Kind: swarm.SWARM_OPERATOR_KIND_NOT_LEADER, Leader: uint16(lg.Leader()), Term: lg.Term(),
		})
		return
	}
	id := swarmnode.OperatorID{Issuer: m.Issuer, Seq: m.Seq}
	if reason := r.refuse(m); reason != "" {
		r.refused(m, system, reason)
		return
	}
	data := m.Data[:m.DataLen]
	p, committed, ok := r.node.FindOperator(id)
	if ok && !r.sameCommand(p.Index, data) {
		// A ground station that restarted and counts its seq from the
		// start again: the name is taken by another command, which
		// answering ACCEPTED would pass off as this one.
		r.refused(m, system, fmt.Sprintf("seq %d names another command at index %d; use a new seq", m.Seq, p.Index))
		return
	}
	if !ok {
		c, _ := command.Decode(data) // refuse checked it
		var err error
		r.node.SetClock(r.clock.Now().UnixNano())
		if p, err = r.node.ProposeOperator(id, c); err != nil {
			r.log.Warn("runner: operator command not proposed", "issuer", m.Issuer, "seq", m.Seq, "err", err)
			return
		}
		r.log.Info("runner: operator command proposed", "issuer", m.Issuer, "seq", m.Seq, "command", c, "index", p.Index)
		r.flush()
		p, committed, _ = r.node.FindOperator(id)
	}
	if committed {
		r.accepted(id, m.SrcVehicle, system, p.Index)
		return
	}
	a := awaited{id: id, from: m.SrcVehicle, system: system}
	if !slices.Contains(r.awaited, a) {
		if len(r.awaited) == maxAwaited {
			r.awaited = r.awaited[1:]
		}
		r.awaited = append(r.awaited, a)
	}
}

// refuse returns why a leader refuses the request, "" when it does not:
// an issuer that is no ground station's vehicle ID, data that is no valid
// command, a command only the leader itself issues.
func (r *Runner) refuse(m *swarm.MessageSwarmOperatorCommand) string {
	if m.Issuer == 0 || algorithms.NodeID(m.Issuer) == algorithms.Everyone || slices.Contains(r.cfg.Members, algorithms.NodeID(m.Issuer)) {
		return fmt.Sprintf("issuer %d is not a ground station's vehicle ID", m.Issuer)
	}
	if int(m.DataLen) > len(m.Data) {
		return fmt.Sprintf("data_len %d exceeds %d", m.DataLen, len(m.Data))
	}
	c, err := command.Decode(m.Data[:m.DataLen])
	if err != nil {
		// The reason must fit data: drop the package's prefix.
		return "malformed: " + strings.TrimPrefix(err.Error(), command.ErrMalformed.Error()+": ")
	}
	if command.IsSystem(c.Kind()) {
		return fmt.Sprintf("%s is issued by the leader itself", c.Kind())
	}
	return ""
}

// refused answers REFUSED with reason.
func (r *Runner) refused(m *swarm.MessageSwarmOperatorCommand, system uint8, reason string) {
	r.log.Warn("runner: operator command refused", "issuer", m.Issuer, "seq", m.Seq, "reason", reason)
	ans := swarm.MessageSwarmOperatorCommand{Kind: swarm.SWARM_OPERATOR_KIND_REFUSED}
	ans.DataLen = uint8(copy(ans.Data[:], truncate(reason, len(ans.Data))))
	r.answer(m, system, ans)
}

// sameCommand reports whether the log entry at index holds the command
// encoded as data.
func (r *Runner) sameCommand(index uint32, data []byte) bool {
	e, ok := r.node.Log().Log().Entry(index)
	if !ok {
		return false
	}
	de, err := swarmnode.DecodeEntry(e.Data)
	return err == nil && bytes.Equal(command.Encode(de.Command), data)
}

// checkAwaited answers the awaited requests whose commands have
// committed; a drone that no longer leads forgets them.
func (r *Runner) checkAwaited() {
	if len(r.awaited) == 0 {
		return
	}
	if !r.node.Log().Log().Leading() {
		r.awaited = r.awaited[:0]
		return
	}
	keep := r.awaited[:0]
	for _, a := range r.awaited {
		p, committed, ok := r.node.FindOperator(a.id)
		switch {
		case committed:
			r.accepted(a.id, a.from, a.system, p.Index)
		case ok:
			keep = append(keep, a)
		}
	}
	r.awaited = keep
}

// accepted answers ACCEPTED for the command named id at index.
func (r *Runner) accepted(id swarmnode.OperatorID, from uint16, system uint8, index uint32) {
	r.counters.Accepted++
	r.transmit(&swarm.MessageSwarmOperatorCommand{
		Seq: id.Seq, Index: index, Term: r.node.Log().Log().Term(), Issuer: id.Issuer,
		SrcVehicle: uint16(r.cfg.ID), DstVehicle: from, NetworkId: r.cfg.Network,
		Kind: swarm.SWARM_OPERATOR_KIND_ACCEPTED,
	}, link.Dest(system))
}

// answer sends ans to the sender of request m, with m's issuer and seq.
func (r *Runner) answer(m *swarm.MessageSwarmOperatorCommand, system uint8, ans swarm.MessageSwarmOperatorCommand) {
	ans.Seq, ans.Issuer = m.Seq, m.Issuer
	ans.SrcVehicle, ans.DstVehicle, ans.NetworkId = uint16(r.cfg.ID), m.SrcVehicle, r.cfg.Network
	r.transmit(&ans, link.Dest(system))
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
