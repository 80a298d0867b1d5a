package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuditEntry is one staff action: who did what to which subject, when.
type AuditEntry struct {
	ID      int64
	At      time.Time
	UserID  int64  // 0: the user is gone, or a command-line action
	Actor   string // the user's e-mail at the time, or "cli"
	Action  string // e.g. "monitor.state", "server.remove", "server.country"
	Subject string // e.g. "monitor fra1", "server 192.0.2.1"
	Detail  string
}

// Audit records e.
func (q q) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if _, err := q.x.ExecContext(ctx, `INSERT INTO audit_log (at, user_id, actor, action, subject, detail)
		VALUES (?, ?, ?, ?, ?, ?)`, e.At.UnixMilli(), nullID(e.UserID), e.Actor, e.Action, e.Subject, e.Detail); err != nil {
		return fmt.Errorf("store: audit %s %s: %w", e.Action, e.Subject, err)
	}
	return nil
}

// AuditLog returns the newest limit entries, newest first.
func (q q) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	return queryAll(ctx, q, "audit log", func(r rowScanner) (AuditEntry, error) {
		var e AuditEntry
		var at int64
		var uid sql.NullInt64
		err := r.Scan(&e.ID, &at, &uid, &e.Actor, &e.Action, &e.Subject, &e.Detail)
		e.At, e.UserID = time.UnixMilli(at), uid.Int64
		return e, err
	}, `SELECT id, at, user_id, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?`, limit)
}
