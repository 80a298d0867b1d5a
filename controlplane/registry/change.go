package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// DeletionMinAhead is the soonest a deletion may be scheduled: the pool's
// form offers 3 to 22 days ahead; any later date is accepted.
const DeletionMinAhead = 24 * time.Hour

// SetNetspeed changes an account's server's net speed. An unverified
// server's can only be lowered: whoever added it may not own it.
func (r *Registry) SetNetspeed(ctx context.Context, accountID, serverID, speed int64) error {
	if !ValidNetspeed(speed) {
		return fieldErr(FieldNetspeed, CodeInvalid, "%d kbit/s is not one of the offered net speeds", speed)
	}
	s, err := r.server(ctx, accountID, serverID)
	if err != nil {
		return err
	}
	if s.VerifiedAt.IsZero() && speed > s.Netspeed {
		return fieldErr(FieldNetspeed, CodeUnverified,
			"this server is not verified yet, so its net speed can only be lowered (now %s); verify it to raise it", netspeedText(s.Netspeed))
	}
	if err := r.st.SetServerNetspeed(ctx, accountID, serverID, speed); err != nil {
		return err
	}
	r.cfg.OnChange(serverID)
	return nil
}

// SetCountry sets or ("") clears the owner's country override.
func (r *Registry) SetCountry(ctx context.Context, accountID, serverID int64, cc string) error {
	cc, err := checkCountry(cc)
	if err != nil {
		return err
	}
	if err := r.st.SetServerCountryOverride(ctx, accountID, serverID, cc); err != nil {
		return err
	}
	r.cfg.OnChange(serverID)
	return nil
}

// ScheduleDeletion sets the deletion date. The server leaves the DNS once
// the date is no more than 14 days away (so at once for a date up to 13
// days ahead) and monitoring stops on the date itself.
func (r *Registry) ScheduleDeletion(ctx context.Context, accountID, serverID int64, on time.Time) error {
	if on.Before(r.cfg.Now().Add(DeletionMinAhead)) {
		return fieldErr(FieldDeletion, CodeInvalid, "the deletion date must be at least a day ahead")
	}
	if err := r.deletionNotPassed(ctx, accountID, serverID); err != nil {
		return err
	}
	if err := r.st.SetServerDeletion(ctx, accountID, serverID, on); err != nil {
		return err
	}
	r.cfg.OnChange(serverID)
	return nil
}

// CancelDeletion keeps the server, until its deletion date.
func (r *Registry) CancelDeletion(ctx context.Context, accountID, serverID int64) error {
	if err := r.deletionNotPassed(ctx, accountID, serverID); err != nil {
		return err
	}
	if err := r.st.SetServerDeletion(ctx, accountID, serverID, time.Time{}); err != nil {
		return err
	}
	r.cfg.OnChange(serverID)
	return nil
}

// deletionNotPassed refuses to change the deletion of a server whose date
// has passed: it only waits for the next cleanup to be deleted, and a new
// or cancelled date would bring it back.
func (r *Registry) deletionNotPassed(ctx context.Context, accountID, serverID int64) error {
	s, err := r.server(ctx, accountID, serverID)
	if err != nil {
		return err
	}
	if !s.DeletionOn.IsZero() && !s.DeletionOn.After(r.cfg.Now()) {
		return fieldErr(FieldDeletion, CodeInvalid, "the deletion date has passed; add the server again instead")
	}
	return nil
}

// server loads an account's live server; accountID 0 means any owner.
func (r *Registry) server(ctx context.Context, accountID, serverID int64) (store.Server, error) {
	if accountID == 0 {
		return r.st.Server(ctx, serverID)
	}
	return r.st.AccountServer(ctx, accountID, serverID)
}

// netspeedText writes kbit/s for people: "10 Mbit/s", "512 kbit/s".
func netspeedText(kbit int64) string {
	if kbit >= 1000 && kbit%1000 == 0 {
		return fmt.Sprintf("%d Mbit/s", kbit/1000)
	}
	return fmt.Sprintf("%d kbit/s", kbit)
}
