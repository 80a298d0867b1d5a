package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// accountExport is everything the site keeps about an account, minus
// secrets (password hashes, tokens).
type accountExport struct {
	Account     exportAccount      `json:"account"`
	Users       []exportUser       `json:"users"`
	Servers     []exportServer     `json:"servers"`
	Claims      []exportClaim      `json:"claims"`
	VendorZones []exportVendorZone `json:"vendor_zones"`
	Invitations []store.Invitation `json:"invitations"`
}

type exportAccount struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type exportUser struct {
	Email     string     `json:"email"`
	Admin     bool       `json:"admin"`
	Confirmed *time.Time `json:"email_confirmed_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

type exportServer struct {
	IP              string     `json:"ip"`
	Netspeed        int64      `json:"netspeed_kbps"`
	Country         string     `json:"country"`
	CountryOverride string     `json:"country_override,omitempty"`
	Score           float64    `json:"score"`
	CreatedAt       time.Time  `json:"created_at"`
	DeletionOn      *time.Time `json:"deletion_on,omitempty"`
	VerifiedAt      *time.Time `json:"verified_at,omitempty"`
}

// exportClaim is a pending claim on an address another account holds.
type exportClaim struct {
	IP        string    `json:"ip"`
	CreatedAt time.Time `json:"created_at"`
}

type exportVendorZone struct {
	Name            string    `json:"name"`
	Description     string    `json:"description"`
	ExpectedClients int64     `json:"expected_clients"`
	ClientType      string    `json:"client_type"`
	Status          string    `json:"status"`
	CreatedAt       time.Time `json:"created_at"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// downloadAccount sends the account's data as a JSON file.
func (s *Server) downloadAccount(w http.ResponseWriter, r *http.Request, u *store.User) {
	out, err := s.exportAccount(r, u.AccountID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="ntppool-account.json"`)
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) exportAccount(r *http.Request, accountID int64) (accountExport, error) {
	ctx := r.Context()
	var out accountExport
	a, err := s.st.Account(ctx, accountID)
	if err != nil {
		return out, err
	}
	out.Account = exportAccount{a.ID, a.Name, a.CreatedAt}
	users, err := s.st.UsersByAccount(ctx, accountID)
	if err != nil {
		return out, err
	}
	for _, x := range users {
		out.Users = append(out.Users, exportUser{x.Email, x.IsAdmin, timePtr(x.EmailConfirmedAt), x.CreatedAt})
	}
	srvs, err := s.st.ServersByAccount(ctx, accountID)
	if err != nil {
		return out, err
	}
	for _, x := range srvs {
		out.Servers = append(out.Servers, exportServer{x.IP.String(), x.Netspeed, x.Country, x.CountryOverride, x.Score, x.CreatedAt, timePtr(x.DeletionOn), timePtr(x.VerifiedAt)})
	}
	claims, err := s.st.AccountClaims(ctx, accountID)
	if err != nil {
		return out, err
	}
	for _, x := range claims {
		out.Claims = append(out.Claims, exportClaim{x.IP.String(), x.CreatedAt})
	}
	vzs, err := s.st.VendorZonesByAccount(ctx, accountID)
	if err != nil {
		return out, err
	}
	for _, v := range vzs {
		out.VendorZones = append(out.VendorZones, exportVendorZone{v.Name, v.Description, v.ExpectedClients, v.ClientType, v.Status, v.CreatedAt})
	}
	out.Invitations, err = s.st.InvitationsByAccount(ctx, accountID, s.now())
	return out, err
}
