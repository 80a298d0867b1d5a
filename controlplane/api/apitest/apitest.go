// Package apitest is a minimal monitor for tests of the control plane: it
// fetches work from the monitor API, probes each server with the monitor's
// own probe package and posts the results, until its context ends.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ntppool-ng/ntppool/monitorapi"
	"github.com/ntppool-ng/ntppool/probe"
)

// Monitor talks to the API at URL ("http://127.0.0.1:8080") with Token.
type Monitor struct {
	URL, Token string
	Probe      *probe.Prober // nil: Run cannot probe (Post still works)
}

// Call posts in as JSON to path and decodes the 200 answer into out; any
// other status is an error carrying the API's message.
func (m *Monitor) Call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", m.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+m.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e monitorapi.Error
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, e.Error)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Run probes what the API hands out until ctx ends. It returns nil when
// ctx ended and the first API error otherwise.
func (m *Monitor) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		var w monitorapi.Work
		if err := m.Call(ctx, monitorapi.PathWork, nil, &w); err != nil {
			return ignoreDone(ctx, err)
		}
		res := monitorapi.Results{BatchID: w.BatchID}
		for _, a := range w.Servers {
			r, _, err := m.Probe.Probe(ctx, a.IP)
			if err != nil {
				return ignoreDone(ctx, err)
			}
			r.Ticket = a.Ticket
			res.Results = append(res.Results, r)
		}
		if len(res.Results) > 0 {
			var ack monitorapi.Ack
			if err := m.Call(ctx, monitorapi.PathResults, res, &ack); err != nil {
				return ignoreDone(ctx, err)
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.NextPoll.D()):
		}
	}
	return nil
}

func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
