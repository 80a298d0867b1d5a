package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// Store is what the job reads and writes.
type Store interface {
	AlertCandidates(ctx context.Context, maxScore float64) ([]store.AlertCandidate, error)
	SaveAlertState(ctx context.Context, a store.AlertState) error
	UsersByAccount(ctx context.Context, accountID int64) ([]store.User, error)
	SetServerDeletion(ctx context.Context, accountID, id int64, on time.Time) error
}

// JobConfig is the job's configuration.
type JobConfig struct {
	Rules    Config
	SiteName string // in subjects: "NTP Pool"
	BaseURL  string // for links in the emails
}

// Job applies the rules on a schedule: Check every Rules.CheckEvery sends
// and clears alerts, Remove every Rules.RemoveEvery schedules automatic
// removals. It keeps its state in the store, so a restart forgets nothing.
type Job struct {
	cfg     JobConfig
	st      Store
	mail    mail.Sender
	log     *slog.Logger
	now     func() time.Time
	changed func()
}

// NewJob returns a job; now and changed may be nil (time.Now, no-op).
func NewJob(cfg JobConfig, st Store, m mail.Sender, log *slog.Logger, now func() time.Time, changed func()) *Job {
	if now == nil {
		now = time.Now
	}
	if changed == nil {
		changed = func() {}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Job{cfg: cfg, st: st, mail: m, log: log, now: now, changed: changed}
}

// Run checks and removes on their schedules until ctx ends.
func (j *Job) Run(ctx context.Context) {
	check := time.NewTicker(j.cfg.Rules.CheckEvery)
	defer check.Stop()
	remove := time.NewTicker(j.cfg.Rules.RemoveEvery)
	defer remove.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-check.C:
			if err := j.Check(ctx); err != nil && ctx.Err() == nil {
				j.log.Error("alert: check failed", "err", err)
			}
		case <-remove.C:
			if err := j.Remove(ctx); err != nil && ctx.Err() == nil {
				j.log.Error("alert: automatic removal failed", "err", err)
			}
		}
	}
}

func ruleServer(c store.AlertCandidate) Server {
	return Server{InPool: c.Server.InPool && c.Server.DeletedAt.IsZero(), Score: c.Server.Score,
		Deletion: c.Server.DeletionOn, Alert: State{First: c.Alert.First, Last: c.Alert.Last, LastScore: c.Alert.LastScore}}
}

// byAccount groups candidates by owning account, keeping order.
func byAccount(cands []store.AlertCandidate) ([]int64, map[int64][]store.AlertCandidate) {
	var order []int64
	m := map[int64][]store.AlertCandidate{}
	for _, c := range cands {
		if _, ok := m[c.Server.AccountID]; !ok {
			order = append(order, c.Server.AccountID)
		}
		m[c.Server.AccountID] = append(m[c.Server.AccountID], c)
	}
	return order, m
}

// Check emails each account with a server due an alert, listing all its
// failing servers, and records the alert on the servers that were due;
// it clears the alerts of servers that recovered.
func (j *Job) Check(ctx context.Context) error {
	now := j.now()
	cands, err := j.st.AlertCandidates(ctx, j.cfg.Rules.Score)
	if err != nil {
		return fmt.Errorf("alert: check: %w", err)
	}
	accounts, groups := byAccount(cands)
	var errs []error
	for _, acct := range accounts {
		var due, failing []store.AlertCandidate
		for _, c := range groups[acct] {
			rs := ruleServer(c)
			switch j.cfg.Rules.Check(now, rs) {
			case Send:
				due = append(due, c)
			case Clear:
				if err := j.st.SaveAlertState(ctx, store.AlertState{ServerID: c.Server.ID}); err != nil {
					return fmt.Errorf("alert: clear: %w", err)
				}
			}
			if j.cfg.Rules.Failing(now, rs) {
				failing = append(failing, c)
			}
		}
		if len(due) == 0 {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Hello,\n\nthese servers of your account in the %s score %s or below, so they are not in the DNS:\n\n",
			j.cfg.SiteName, fmtScore(j.cfg.Rules.Score))
		for _, c := range failing {
			fmt.Fprintf(&b, "  %s  score %s  %s/scores/%s\n", c.Server.IP, fmtScore(c.Server.Score), j.cfg.BaseURL, c.Server.IP)
		}
		fmt.Fprintf(&b, "\nPlease check that the servers answer NTP queries from the internet and keep good time.\nManage your servers: %s/manage\n", j.cfg.BaseURL)
		subject := fmt.Sprintf("%s: %d of your servers score low", j.cfg.SiteName, len(failing))
		if err := j.send(ctx, acct, subject, b.String()); err != nil {
			// One account's bad address must not hold up the others;
			// its alert is tried again on the next run.
			errs = append(errs, err)
			continue
		}
		for _, c := range due {
			st := ruleServer(c).Alert.Sent(now, c.Server.Score)
			if err := j.st.SaveAlertState(ctx, store.AlertState{ServerID: c.Server.ID, First: st.First, Last: st.Last, LastScore: st.LastScore}); err != nil {
				return fmt.Errorf("alert: record alert: %w", err)
			}
		}
	}
	return errors.Join(errs...)
}

// Remove schedules the automatic removal of servers that kept failing
// after their alerts, and tells their accounts.
func (j *Job) Remove(ctx context.Context) error {
	now := j.now()
	cands, err := j.st.AlertCandidates(ctx, j.cfg.Rules.Score)
	if err != nil {
		return fmt.Errorf("alert: removal: %w", err)
	}
	removed := false
	var errs []error
	for _, c := range cands {
		when, ok := j.cfg.Rules.Removal(now, ruleServer(c))
		if !ok {
			continue
		}
		if err := j.st.SetServerDeletion(ctx, 0, c.Server.ID, when); err != nil {
			return fmt.Errorf("alert: schedule removal of %s: %w", c.Server.IP, err)
		}
		removed = true
		body := fmt.Sprintf("Hello,\n\nyour server %s has scored badly for a long time despite our alerts, so it was removed from the DNS of the %s and will be deleted on %s.\n\nIf you have fixed it, you can cancel the deletion: %s/manage\nIts scores: %s/scores/%s\n",
			c.Server.IP, j.cfg.SiteName, when.UTC().Format("2006-01-02"), j.cfg.BaseURL, j.cfg.BaseURL, c.Server.IP)
		if err := j.send(ctx, c.Server.AccountID, fmt.Sprintf("%s: server %s removed", j.cfg.SiteName, c.Server.IP), body); err != nil {
			errs = append(errs, err)
		}
	}
	if removed {
		j.changed()
	}
	return errors.Join(errs...)
}

// send mails the account's confirmed users (all users if none confirmed).
func (j *Job) send(ctx context.Context, accountID int64, subject, body string) error {
	users, err := j.st.UsersByAccount(ctx, accountID)
	if err != nil {
		return fmt.Errorf("alert: users of account %d: %w", accountID, err)
	}
	var to, all []string
	for _, u := range users {
		all = append(all, u.Email)
		if !u.EmailConfirmedAt.IsZero() {
			to = append(to, u.Email)
		}
	}
	if len(to) == 0 {
		to = all
	}
	if len(to) == 0 {
		return nil
	}
	if err := j.mail.Send(ctx, mail.Message{To: to, Subject: subject, Body: body}); err != nil {
		return fmt.Errorf("alert: mail account %d: %w", accountID, err)
	}
	return nil
}

func fmtScore(v float64) string { return fmt.Sprintf("%.1f", v) }
