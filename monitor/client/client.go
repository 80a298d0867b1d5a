// Package client speaks the control plane's monitor API (package
// monitorapi) for the monitor agent. Every call retries with exponential
// back-off on network errors and 5xx answers until it succeeds or its context
// ends; a 4xx answer means the request will never succeed as is, so it is
// logged clearly and returned at once as a *StatusError.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/ntppool-ng/ntppool/monitorapi"
)

// Options configure a Client.
type Options struct {
	// BaseURL of the control plane, e.g. "https://pool.example/".
	BaseURL string
	// Token is the monitor's bearer token.
	Token string
	// HTTP is the client used; nil means one with a 30 s request timeout.
	HTTP *http.Client
	Log  *slog.Logger
	// Back-off between retries: starts at MinBackoff (1 s when 0), doubles,
	// stays below MaxBackoff (2 min when 0), with ±20% jitter.
	MinBackoff, MaxBackoff time.Duration
	// UserAgent sent with every request.
	UserAgent string
}

// Client is safe for concurrent use.
type Client struct {
	base *url.URL
	opt  Options
}

// New checks the options and returns a Client.
func New(opt Options) (*Client, error) {
	u, err := url.Parse(opt.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: control plane URL %q must be http(s)://host[:port]/", opt.BaseURL)
	}
	if opt.Token == "" {
		return nil, errors.New("client: no token (create one with `controlplane monitor create`)")
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 2 * time.Minute
	}
	if opt.UserAgent == "" {
		opt.UserAgent = "ntppool-monitor"
	}
	return &Client{base: u, opt: opt}, nil
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Op      string
	Status  int
	Message string // the Error body, or the start of the body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("client: %s: %d %s: %s", e.Op, e.Status, http.StatusText(e.Status), e.Message)
}

// Retryable tells whether the request may succeed later unchanged: 5xx, 408
// and 429 may, other 4xx never do.
func (e *StatusError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests
}

// Config fetches the monitor's configuration.
func (c *Client) Config(ctx context.Context) (monitorapi.Config, error) {
	var cfg monitorapi.Config
	err := c.do(ctx, "config", http.MethodGet, monitorapi.PathConfig, nil, &cfg)
	return cfg, err
}

// Work fetches the next batch of servers due.
func (c *Client) Work(ctx context.Context) (monitorapi.Work, error) {
	var w monitorapi.Work
	err := c.do(ctx, "work", http.MethodPost, monitorapi.PathWork, struct{}{}, &w)
	return w, err
}

// Submit posts a batch's results and returns the acknowledgement.
func (c *Client) Submit(ctx context.Context, r monitorapi.Results) (monitorapi.Ack, error) {
	var ack monitorapi.Ack
	err := c.do(ctx, "submit "+r.BatchID, http.MethodPost, monitorapi.PathResults, r, &ack)
	return ack, err
}

func (c *Client) do(ctx context.Context, op, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("client: %s: %w", op, err)
		}
		if len(body) > monitorapi.MaxBodyBytes {
			return fmt.Errorf("client: %s: request of %d bytes exceeds the API's %d", op, len(body), monitorapi.MaxBodyBytes)
		}
	}
	target := c.base.JoinPath(path).String()
	bo := &backoff.ExponentialBackOff{
		InitialInterval: c.opt.MinBackoff, RandomizationFactor: 0.2,
		Multiplier: 2, MaxInterval: c.opt.MaxBackoff,
	}
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := c.once(ctx, op, method, target, body, out)
		if se, ok := errors.AsType[*StatusError](err); ok && !se.Retryable() {
			c.refused(se)
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(bo), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
		c.opt.Log.Warn("monitor API unavailable, will retry", "op", op, "err", err, "retry_in", next.Round(time.Millisecond))
	}))
	return err
}

// refused logs a 4xx so an operator sees what to fix.
func (c *Client) refused(e *StatusError) {
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = "the token is wrong or revoked: ask the pool's admin for a new one"
	case http.StatusForbidden:
		hint = "this monitor may not do this (paused, or a ticket did not match)"
	case http.StatusConflict:
		hint = "the batch is older than one already accepted; dropped"
	}
	c.opt.Log.Error("monitor API refused the request", "op", e.Op, "status", e.Status, "message", e.Message, "hint", hint)
}

func (c *Client) once(ctx context.Context, op, method, target string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return backoff.Permanent(fmt.Errorf("client: %s: %w", op, err))
	}
	req.Header.Set("Authorization", "Bearer "+c.opt.Token)
	req.Header.Set("User-Agent", c.opt.UserAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.opt.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, monitorapi.MaxBodyBytes))
	if err != nil {
		return fmt.Errorf("client: %s: read answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e monitorapi.Error
		msg := strings.TrimSpace(string(b[:min(len(b), 200)]))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &StatusError{Op: op, Status: resp.StatusCode, Message: msg}
	}
	if err := json.Unmarshal(b, out); err != nil {
		// A 2xx we cannot read is a broken proxy or server: worth a retry.
		return fmt.Errorf("client: %s: decode answer: %w", op, err)
	}
	return nil
}
