package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Vendor zone statuses; only approved zones are published.
const (
	VendorRequested = "requested"
	VendorApproved  = "approved"
	VendorRejected  = "rejected"
)

// VendorZone is a vendor's own DNS name in the pool.
type VendorZone struct {
	ID              int64
	Name            string
	AccountID       int64
	Description     string
	ExpectedClients int64
	ClientType      string // sntp, ntp, legacy (record.ClientType)
	Status          string
	CreatedAt       time.Time
	ApprovedAt      time.Time
}

// CreateVendorZone adds a requested vendor zone; a taken name gives ErrConflict.
func (q q) CreateVendorZone(ctx context.Context, v VendorZone) (int64, error) {
	if v.ClientType == "" {
		v.ClientType = "sntp"
	}
	if v.Status == "" {
		v.Status = VendorRequested
	}
	var id int64
	err := q.x.QueryRowContext(ctx, `INSERT INTO vendor_zones
		(name, account_id, description, expected_clients, client_type, status, created_at, approved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		v.Name, nullID(v.AccountID), v.Description, v.ExpectedClients, v.ClientType, v.Status,
		time.Now().UnixMilli(), ms(v.ApprovedAt)).Scan(&id)
	if isUnique(err) {
		return 0, fmt.Errorf("store: create vendor zone %s: %w", v.Name, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create vendor zone %s: %w", v.Name, err)
	}
	return id, nil
}

const vendorCols = `id, name, account_id, description, expected_clients, client_type, status, created_at, approved_at`

func scanVendor(row rowScanner) (VendorZone, error) {
	var v VendorZone
	var acct, created, approved sql.NullInt64
	if err := row.Scan(&v.ID, &v.Name, &acct, &v.Description, &v.ExpectedClients, &v.ClientType, &v.Status,
		&created, &approved); err != nil {
		return VendorZone{}, err
	}
	v.AccountID = acct.Int64
	v.CreatedAt, v.ApprovedAt = fromMS(created), fromMS(approved)
	return v, nil
}

// VendorZoneByName returns the vendor zone called name.
func (q q) VendorZoneByName(ctx context.Context, name string) (VendorZone, error) {
	v, err := scanVendor(q.x.QueryRowContext(ctx, `SELECT `+vendorCols+` FROM vendor_zones WHERE name = ?`, name))
	if err != nil {
		return VendorZone{}, notFound("vendor zone "+name, err)
	}
	return v, nil
}

// VendorZones lists vendor zones with the given status ("" for all), by name.
func (q q) VendorZones(ctx context.Context, status string) ([]VendorZone, error) {
	return queryAll(ctx, q, "list vendor zones", scanVendor, `SELECT `+vendorCols+` FROM vendor_zones
		WHERE (? = '' OR status = ?) ORDER BY name`, status, status)
}

// VendorZonesByAccount lists an account's vendor zones, by name.
func (q q) VendorZonesByAccount(ctx context.Context, accountID int64) ([]VendorZone, error) {
	return queryAll(ctx, q, fmt.Sprintf("vendor zones of account %d", accountID), scanVendor,
		`SELECT `+vendorCols+` FROM vendor_zones WHERE account_id = ? ORDER BY name`, accountID)
}

// SetVendorZoneStatus approves or rejects a vendor zone by name; approval
// records the time.
func (q q) SetVendorZoneStatus(ctx context.Context, name, status string, t time.Time) error {
	var at any
	if status == VendorApproved {
		at = ms(t)
	}
	return q.execOne(ctx, "set status of vendor zone "+name,
		`UPDATE vendor_zones SET status = ?, approved_at = ? WHERE name = ?`, status, at, name)
}
