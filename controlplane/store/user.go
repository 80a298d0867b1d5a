package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// User is a person who logs in; it belongs to one account.
type User struct {
	ID               int64
	AccountID        int64
	Email            string
	PasswordHash     string    // bcrypt
	IsAdmin          bool      // the admin role: every role
	Roles            []string  // RoleMonitorAdmin, RoleSupport
	EmailConfirmedAt time.Time // zero: not confirmed
	CreatedAt        time.Time
}

// HashPassword returns the bcrypt hash of password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("store: hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether password matches u's hash.
func (u User) CheckPassword(password string) bool {
	return u.PasswordHash != "" && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil
}

// CreateUser adds a user (e-mail lower-cased) and returns its id; an e-mail
// already in use gives ErrConflict. PasswordHash is stored as given.
func (q q) CreateUser(ctx context.Context, u User) (int64, error) {
	var id int64
	err := q.x.QueryRowContext(ctx, `INSERT INTO users
		(account_id, email, password_hash, is_admin, roles, email_confirmed_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.AccountID, normEmail(u.Email), u.PasswordHash, b2i(u.IsAdmin), strings.Join(u.Roles, ","), ms(u.EmailConfirmedAt),
		time.Now().UnixMilli()).Scan(&id)
	if isUnique(err) {
		return 0, fmt.Errorf("store: create user %s: %w", u.Email, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create user %s: %w", u.Email, err)
	}
	return id, nil
}

const userCols = `id, account_id, email, password_hash, is_admin, roles, email_confirmed_at, created_at`

func scanUser(row rowScanner) (User, error) {
	var u User
	var confirmed, created sql.NullInt64
	var admin int
	var roles string
	if err := row.Scan(&u.ID, &u.AccountID, &u.Email, &u.PasswordHash, &admin, &roles, &confirmed, &created); err != nil {
		return User{}, err
	}
	if roles != "" {
		u.Roles = strings.Split(roles, ",")
	}
	u.IsAdmin = admin != 0
	u.EmailConfirmedAt, u.CreatedAt = fromMS(confirmed), fromMS(created)
	return u, nil
}

// User returns the user with id.
func (q q) User(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(q.x.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return User{}, notFound(fmt.Sprintf("user %d", id), err)
	}
	return u, nil
}

// UserByEmail returns the user with that e-mail address (case-insensitive).
func (q q) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(q.x.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, normEmail(email)))
	if err != nil {
		return User{}, notFound("user "+email, err)
	}
	return u, nil
}

// UsersByAccount lists the users of an account.
func (q q) UsersByAccount(ctx context.Context, accountID int64) ([]User, error) {
	return queryAll(ctx, q, fmt.Sprintf("users of account %d", accountID), scanUser,
		`SELECT `+userCols+` FROM users WHERE account_id = ? ORDER BY id`, accountID)
}

// SetUserPassword replaces a user's password hash and voids every reset
// link the user still holds: a new password ends the old ones' power. Run
// it in a transaction so both happen or neither.
func (q q) SetUserPassword(ctx context.Context, id int64, hash string) error {
	if _, err := q.x.ExecContext(ctx, `DELETE FROM email_tokens WHERE user_id = ? AND purpose = ?`, id, TokenReset); err != nil {
		return fmt.Errorf("store: void reset links of user %d: %w", id, err)
	}
	return q.execOne(ctx, fmt.Sprintf("set password of user %d", id),
		`UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
}

// ConfirmUserEmail records that the user proved their address at t.
func (q q) ConfirmUserEmail(ctx context.Context, id int64, t time.Time) error {
	return q.execOne(ctx, fmt.Sprintf("confirm user %d", id),
		`UPDATE users SET email_confirmed_at = ? WHERE id = ?`, ms(t), id)
}

// SetUserAdmin grants or revokes admin rights.
func (q q) SetUserAdmin(ctx context.Context, id int64, admin bool) error {
	return q.execOne(ctx, fmt.Sprintf("set admin of user %d", id),
		`UPDATE users SET is_admin = ? WHERE id = ?`, b2i(admin), id)
}

// Roles a user may hold besides admin, which holds them all.
const (
	RoleAdmin        = "admin"         // is_admin: everything
	RoleMonitorAdmin = "monitor-admin" // approves, pauses and deletes monitors
	RoleSupport      = "support"       // takes servers out of the pool, edits their zones
)

// ParseRole checks a role name.
func ParseRole(s string) (string, error) {
	switch s {
	case RoleAdmin, RoleMonitorAdmin, RoleSupport:
		return s, nil
	}
	return "", fmt.Errorf("store: unknown role %q (admin, monitor-admin, support)", s)
}

// Has reports whether u holds role; an admin holds every role.
func (u User) Has(role string) bool {
	return u.IsAdmin || slices.Contains(u.Roles, role)
}

// SetUserRole grants (on) or revokes role; admin is the is_admin flag.
func (q q) SetUserRole(ctx context.Context, id int64, role string, on bool) error {
	if _, err := ParseRole(role); err != nil {
		return err
	}
	if role == RoleAdmin {
		return q.SetUserAdmin(ctx, id, on)
	}
	u, err := q.User(ctx, id)
	if err != nil {
		return err
	}
	roles := slices.DeleteFunc(slices.Clone(u.Roles), func(r string) bool { return r == role })
	if on {
		roles = append(roles, role)
		slices.Sort(roles)
	}
	return q.execOne(ctx, fmt.Sprintf("set roles of user %d", id),
		`UPDATE users SET roles = ? WHERE id = ?`, strings.Join(roles, ","), id)
}

// StaffUsers lists the users holding any role, by e-mail.
func (q q) StaffUsers(ctx context.Context) ([]User, error) {
	return queryAll(ctx, q, "staff users", scanUser,
		`SELECT `+userCols+` FROM users WHERE is_admin <> 0 OR roles <> '' ORDER BY email`)
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// Staff reports whether u holds any role (sees the admin pages).
func (u User) Staff() bool { return u.IsAdmin || len(u.Roles) > 0 }
