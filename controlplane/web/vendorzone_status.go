package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// updateVendorZoneStatus approves or rejects a vendor zone; an approved
// zone is published by the publisher, which Changed wakes.
func (s *Server) updateVendorZoneStatus(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	status := r.PostFormValue("status")
	if status != store.VendorApproved && status != store.VendorRejected {
		s.errorPage(w, r, http.StatusBadRequest, "Unknown vendor zone status.")
		return
	}
	err := s.st.SetVendorZoneStatus(r.Context(), r.PathValue("name"), status, s.now())
	if s.storeFailed(w, r, err) {
		return
	}
	s.changed()
	http.Redirect(w, r, "/admin/vendors", http.StatusSeeOther)
}
