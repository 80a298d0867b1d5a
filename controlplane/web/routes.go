package web

import (
	"io/fs"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// routes is every route of the site. Middleware is composed once, at the
// end: security headers on every response, then cross-origin protection
// that refuses state-changing requests sent from another site.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Public pages: no session is read and no cookie is set.
	mux.HandleFunc("GET /{$}", s.showHome)
	mux.HandleFunc("GET /zone/{name}", s.showZone) // and /zone/<name>.json
	mux.HandleFunc("GET /use", s.showUse)
	mux.HandleFunc("GET /join", s.showJoin)
	mux.HandleFunc("GET /vendors", s.showVendors)
	mux.HandleFunc("GET /scores", s.lookupScores)
	mux.HandleFunc("GET /scores/{ip}", s.showScores)
	mux.HandleFunc("GET /scores/{ip}/json", s.scoresJSON)
	mux.HandleFunc("GET /scores/{ip}/log", s.scoresLog)
	mux.HandleFunc("GET /news", s.listNews)
	mux.HandleFunc("GET /news/{slug}", s.showNews)
	mux.HandleFunc("GET /terms", s.showTerms)
	mux.HandleFunc("GET /privacy", s.showPrivacy)
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))

	// Accounts.
	mux.HandleFunc("GET /signup", s.showSignup)
	mux.HandleFunc("POST /signup", s.saveSignup)
	mux.HandleFunc("GET /confirm/{token}", s.confirmEmail)
	mux.HandleFunc("GET /login", s.showLogin)
	mux.HandleFunc("POST /login", s.saveLogin)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /reset", s.showResetRequest)
	mux.HandleFunc("POST /reset", s.saveResetRequest)
	mux.HandleFunc("GET /reset/{token}", s.showResetForm)
	mux.HandleFunc("POST /reset/{token}", s.saveReset)
	mux.HandleFunc("GET /invite/{token}", s.showInvite)
	mux.HandleFunc("POST /invite/{token}", s.acceptInvite)
	// Run by the owner on the server itself (curl): no session.
	mux.HandleFunc("GET /verify/{token}", s.verify)
	mux.HandleFunc("POST /verify/{token}", s.verify)

	// Manage site: a logged-in user, acting on their own account only.
	mux.HandleFunc("GET /manage", s.auth(s.listServers))
	mux.HandleFunc("POST /manage/servers", s.auth(s.addServer))
	mux.HandleFunc("GET /manage/servers/{id}", s.auth(s.showServer))
	mux.HandleFunc("POST /manage/servers/{id}/netspeed", s.auth(s.updateServerNetspeed))
	mux.HandleFunc("POST /manage/servers/{id}/country", s.auth(s.updateServerCountry))
	mux.HandleFunc("POST /manage/servers/{id}/delete", s.auth(s.deleteServer))
	mux.HandleFunc("POST /manage/servers/{id}/undelete", s.auth(s.undeleteServer))
	mux.HandleFunc("POST /manage/servers/{id}/token", s.auth(s.newServerToken))
	mux.HandleFunc("POST /manage/claims/{id}/token", s.auth(s.newClaimToken))
	mux.HandleFunc("POST /manage/claims/{id}/withdraw", s.auth(s.cancelClaim))
	mux.HandleFunc("GET /manage/account", s.auth(s.showAccount))
	mux.HandleFunc("POST /manage/account/invite", s.auth(s.inviteUser))
	mux.HandleFunc("POST /manage/account/invitations/cancel", s.auth(s.cancelInvitation))
	mux.HandleFunc("POST /manage/account/users/{id}/remove", s.auth(s.removeUser))
	mux.HandleFunc("GET /manage/account/download", s.auth(s.downloadAccount))
	mux.HandleFunc("POST /manage/account/delete", s.auth(s.deleteAccount))
	mux.HandleFunc("GET /manage/monitors", s.auth(s.listOwnMonitors))
	mux.HandleFunc("POST /manage/monitors", s.auth(s.registerMonitor))
	mux.HandleFunc("POST /manage/monitors/{id}/token", s.auth(s.rotateOwnMonitorToken))
	mux.HandleFunc("GET /manage/vendors", s.auth(s.showVendorRequest))
	mux.HandleFunc("POST /manage/vendors", s.auth(s.saveVendorRequest))

	// Admin pages.
	// Admin pages: each for one role (admins hold them all).
	mux.HandleFunc("GET /admin", s.staff(s.showAdminHome))
	mux.HandleFunc("GET /admin/audit", s.staff(s.listAudit))
	mux.HandleFunc("GET /admin/monitors", s.role(store.RoleMonitorAdmin, s.listMonitors))
	mux.HandleFunc("POST /admin/monitors", s.role(store.RoleMonitorAdmin, s.createMonitor))
	mux.HandleFunc("POST /admin/monitors/{id}/token", s.role(store.RoleMonitorAdmin, s.issueMonitorToken))
	mux.HandleFunc("POST /admin/monitors/{id}/state", s.role(store.RoleMonitorAdmin, s.updateMonitorState))
	mux.HandleFunc("POST /admin/monitors/{id}/nat", s.role(store.RoleMonitorAdmin, s.updateMonitorNAT))
	mux.HandleFunc("GET /admin/servers", s.role(store.RoleSupport, s.listAllServers))
	mux.HandleFunc("POST /admin/servers/{id}/pool", s.role(store.RoleSupport, s.updateServerInPool))
	mux.HandleFunc("POST /admin/servers/{id}/zone", s.role(store.RoleSupport, s.updateServerZone))
	mux.HandleFunc("POST /admin/users/{id}/role", s.admin(s.updateUserRole))
	mux.HandleFunc("GET /admin/vendors", s.admin(s.listVendorZones))
	mux.HandleFunc("POST /admin/vendors/{name}/status", s.admin(s.updateVendorZoneStatus))
	mux.HandleFunc("GET /admin/users", s.admin(s.listUsers))
	mux.HandleFunc("POST /admin/servers/{id}/verify", s.admin(s.adminVerify))

	mux.HandleFunc("/", s.notFound)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusForbidden, "This form was sent from another site and was refused.")
	}))
	return s.withSecurityHeaders(cop.Handler(mux))
}

func (s *Server) withSecurityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		if s.cfg.HSTS || r.TLS != nil {
			// A year, as browsers' preload lists ask; subdomains are not
			// ours to promise for.
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}
