package api

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

func (s *Server) handOutWork(w http.ResponseWriter, r *http.Request, m store.Monitor) {
	work, err := s.Work(r.Context(), m)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, work)
}

// Work picks the monitor's due servers (assign rules), at most BatchMax,
// least recently handed out first, marks them handed out and signs them
// into one batch.
func (s *Server) Work(ctx context.Context, m store.Monitor) (monitorapi.Work, error) {
	g, err := assign.ParseGlobalState(m.State)
	if err != nil {
		return monitorapi.Work{}, err
	}
	now := s.cfg.Now()
	work := monitorapi.Work{BatchID: newBatchID(now), Servers: []monitorapi.Assignment{}}
	next := now.Add(s.cfg.IdlePoll)
	ac := s.cfg.Assign
	f := store.WorkFilter{Now: now, Active: ac.ActiveInterval, Testing: ac.TestingInterval, Slow: ac.SlowInterval,
		SlowScore: ac.SlowScore, MinRescore: ac.MinRescore, Limit: 4 * s.cfg.BatchMax}
	if g == assign.GlobalTesting {
		f.Active = ac.ActiveTestingInterval
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		cands, err := tx.MonitorWork(ctx, m.ID, f)
		if err != nil {
			return err
		}
		var ids []int64
		for _, c := range cands {
			st, err := score.ParseState(c.State)
			if err != nil {
				continue
			}
			p := assign.Pair{State: st, Global: g, Score: c.Score, Handed: c.LastHandedOut,
				Scored: c.LastScoreUpdate, Deletion: c.DeletionOn}
			if !m.Watches(ipVersion(c.IP)) {
				continue // a family the monitor no longer watches
			}
			if len(ids) < s.cfg.BatchMax && ac.Due(now, p) {
				ids = append(ids, c.ServerID)
				work.Servers = append(work.Servers, monitorapi.Assignment{
					IP: c.IP, Ticket: ticket(s.cfg.TicketKey, m.ID, work.BatchID, c.IP)})
			}
		}
		if len(ids) == 0 {
			// Nothing due: hint when the next pair's interval ends.
			at, err := tx.NextWork(ctx, m.ID, f)
			if err == nil && !at.IsZero() && at.Before(next) {
				next = at
			}
			return err
		}
		return tx.MarkHandedOut(ctx, m.ID, ids, now)
	})
	if err != nil {
		return monitorapi.Work{}, err
	}
	if len(work.Servers) == 0 {
		work.NextPoll = monitorapi.Duration(max(next.Sub(now), 100*time.Millisecond))
	}
	return work, nil
}

func ipVersion(ip netip.Addr) int {
	if ip.Unmap().Is4() {
		return 4
	}
	return 6
}
