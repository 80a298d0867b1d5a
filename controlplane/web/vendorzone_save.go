package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// saveVendorRequest records a vendor zone request for an admin to approve.
func (s *Server) saveVendorRequest(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	p, err := s.vendorRequestPage(ctx, u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.Name = strings.ToLower(strings.TrimSpace(r.PostFormValue("name")))
	p.Description = strings.TrimSpace(r.PostFormValue("description"))
	p.ExpectedClients = strings.TrimSpace(r.PostFormValue("expected_clients"))
	p.ClientType = r.PostFormValue("client_type")
	p.Errors = fieldErrors{}
	if !record.ValidVendorName(p.Name) {
		p.Errors["name"] = "Use 4 to 63 letters, digits or dashes; country, continent and pool words are reserved."
	}
	if n := utf8.RuneCountInString(p.Description); n < 10 || n > 2000 {
		p.Errors["description"] = "Describe the product and its use in 10 to 2000 characters."
	}
	clients, err := strconv.ParseInt(p.ExpectedClients, 10, 64)
	if err != nil || clients < 1 {
		p.Errors["expected_clients"] = "Enter the number of devices you expect, e.g. 50000."
	}
	switch record.ClientType(p.ClientType) {
	case record.ClientSNTP, record.ClientNTP, record.ClientLegacy:
	default:
		p.Errors["client_type"] = "Choose the kind of client."
	}
	if len(p.Errors) == 0 {
		_, err := s.st.CreateVendorZone(ctx, store.VendorZone{Name: p.Name, AccountID: u.AccountID, Description: p.Description,
			ExpectedClients: clients, ClientType: p.ClientType})
		if errors.Is(err, store.ErrConflict) {
			p.Errors["name"] = "This name is taken."
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if len(p.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "vendor_request", p)
		return
	}
	http.Redirect(w, r, "/manage/vendors?done=requested", http.StatusSeeOther)
}
