package operate

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// Uploader is a Backend that can upload a show (a Station can; a Group of
// several networks cannot yet).
type Uploader interface {
	Upload(show []byte, opt station.UploadOptions) (show.Hash, error)
	UploadProgress() (station.UploadProgress, bool)
}

var _ Uploader = (*station.Station)(nil)

// upload starts an upload, or tells how it stands.
func (s *Server) upload(req Request) Response {
	u, ok := s.Backend.(Uploader)
	if !ok {
		return Response{Error: "this ground station cannot upload a show (one network only)"}
	}
	if req.Op == OpUpload {
		opt := station.UploadOptions{Share: req.Share}
		switch req.Repair {
		case "", "coded":
		case "nack":
			opt.Repair = upload.NACK
		default:
			return Response{Error: fmt.Sprintf("repair %q: want coded or nack", req.Repair)}
		}
		if len(req.Show) == 0 {
			return Response{Error: "no show to upload"}
		}
		h, err := u.Upload(req.Show, opt)
		if err != nil {
			return Response{Error: err.Error()}
		}
		s.log().Info("operate: uploading a show", "hash", h.String(), "bytes", len(req.Show), "repair", opt.Repair.String())
	}
	p, ok := u.UploadProgress()
	if !ok {
		return Response{Error: "no upload: start one with groundstation show upload FILE"}
	}
	st := UploadStatusOf(p)
	st.Held, st.Missing, st.Live = held(s.Backend.Snapshot(), p.Hash)
	return Response{OK: true, Upload: &st}
}

// UploadStatusOf is the control socket's form of a station's upload
// progress.
func UploadStatusOf(p station.UploadProgress) UploadStatus {
	st := UploadStatus{Hash: p.Hash.String(), Chunks: p.Chunks, Blocks: p.Blocks, Symbols: p.Symbols,
		Repairs: p.Repairs, Rounds: p.Rounds, Lacks: p.Lacks, Done: p.Idle, Resumed: p.Resumed, Asked: []Asked{}, Held: []uint16{}}
	for id, n := range p.Asked {
		st.Asked = append(st.Asked, Asked{Drone: id, Symbols: n})
	}
	slices.SortFunc(st.Asked, func(a, b Asked) int {
		return cmp.Or(cmp.Compare(b.Symbols, a.Symbols), cmp.Compare(a.Drone, b.Drone))
	})
	return st
}

// held returns the live drones of sn whose status reports holding the
// show of hash h, those whose status does not, and how many are live.
func held(sn station.Snapshot, h show.Hash) (holding, missing []uint16, live int) {
	holding, missing = []uint16{}, []uint16{}
	for _, d := range sn.Drones {
		if !d.Live {
			continue
		}
		live++
		if d.Show == h.Digest() {
			holding = append(holding, d.ID)
		} else {
			missing = append(missing, d.ID)
		}
	}
	return holding, missing, live
}
