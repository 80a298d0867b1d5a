package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type vendorZonesPage struct {
	Page
	Zones []store.VendorZone
}

// listVendorZones is the admin's list of vendor zones, requests first.
func (s *Server) listVendorZones(w http.ResponseWriter, r *http.Request, u *store.User) {
	zs, err := s.st.VendorZones(r.Context(), "")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := vendorZonesPage{Page: s.page("Vendor zones", "admin", u)}
	for _, want := range []string{store.VendorRequested, store.VendorApproved, store.VendorRejected} {
		for _, z := range zs {
			if z.Status == want {
				p.Zones = append(p.Zones, z)
			}
		}
	}
	s.render(w, r, http.StatusOK, "admin_vendors", p)
}
