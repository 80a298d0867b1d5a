package main

import (
	"fmt"
	"strings"

	"github.com/ntppool-ng/ntppool/controlplane/web"
)

// mountWeb mounts the web UI (public and manage sites) at "/" of a.mux,
// beside the monitor API under /monitor/v1/. This is the one place that
// knows the web package; the site serves HTTP only (its periodic work is
// the leader's: app.leaderJobs).
func (a *app) mountWeb() error {
	site, err := web.New(web.Config{
		SiteName:       a.cfg.SiteName,
		BaseURL:        a.cfg.BaseURL,
		NewsDir:        a.cfg.NewsDir,
		TermsFile:      a.cfg.TermsFile,
		PrivacyFile:    a.cfg.PrivacyFile,
		Mail:           a.cfg.Mail,
		PoolZone:       a.cfg.PoolZone,
		SecureCookies:  a.cfg.SecureCookie,
		AllowPrivate:   a.cfg.AllowPrivate,
		Score:          a.cfg.Score,
		TrustedProxies: a.cfg.TrustedProxies,
		// Browsers keep to HTTPS once told so over HTTPS: when this
		// process serves TLS, or a proxy does for an https:// site.
		HSTS: a.cfg.TLSCert != "" || strings.HasPrefix(a.cfg.BaseURL, "https://"),
	}, web.Deps{
		Store:    a.st,
		Registry: a.reg,
		Logger:   a.log,
		Changed:  a.pub.ChangedAll,
	})
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	a.mux.Handle("/", site.Handler())
	a.web = site
	return nil
}
