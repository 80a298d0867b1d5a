package web

import (
	"context"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type vendorRequestPage struct {
	Page
	Zones           []store.VendorZone
	Name            string
	Description     string
	ExpectedClients string
	ClientType      string
	Errors          fieldErrors
}

// showVendorRequest lists the account's vendor zones and the form to ask
// for one.
func (s *Server) showVendorRequest(w http.ResponseWriter, r *http.Request, u *store.User) {
	p, err := s.vendorRequestPage(r.Context(), u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.Notice = serverNotices[r.URL.Query().Get("done")]
	s.render(w, r, http.StatusOK, "vendor_request", p)
}

func (s *Server) vendorRequestPage(ctx context.Context, u *store.User) (vendorRequestPage, error) {
	p := vendorRequestPage{Page: s.page("Vendor zones", "vendor", u), ClientType: "sntp"}
	var err error
	p.Zones, err = s.st.VendorZonesByAccount(ctx, u.AccountID)
	return p, err
}
