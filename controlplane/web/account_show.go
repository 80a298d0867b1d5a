package web

import (
	"context"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type accountPage struct {
	Page
	Users       []store.User
	Invitations []store.Invitation
	InviteEmail string
	Errors      fieldErrors
}

// showAccount lists the account's users and invitations, with the forms
// to invite, remove, download and delete.
func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, u *store.User) {
	p, err := s.accountPage(r.Context(), u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.Notice = serverNotices[r.URL.Query().Get("done")]
	s.render(w, r, http.StatusOK, "account", p)
}

func (s *Server) accountPage(ctx context.Context, u *store.User) (accountPage, error) {
	p := accountPage{Page: s.page("Account", "account", u)}
	var err error
	if p.Users, err = s.st.UsersByAccount(ctx, u.AccountID); err != nil {
		return p, err
	}
	p.Invitations, err = s.st.InvitationsByAccount(ctx, u.AccountID, s.now())
	return p, err
}
