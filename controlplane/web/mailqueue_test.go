package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/testlog"
	"github.com/ntppool-ng/ntppool/internal/wait"
)

// heldMailer holds every message until released, as a stuck relay would.
type heldMailer struct {
	release chan struct{}
	mu      sync.Mutex
	sent    []mail.Message
}

func (h *heldMailer) Send(ctx context.Context, m mail.Message) error {
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent = append(h.sent, m)
	return nil
}

func (h *heldMailer) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sent)
}

// addUser stores a confirmed user with the password "correct horse battery".
func addUser(t *testing.T, st *store.Store, email string) store.User {
	t.Helper()
	ctx := context.Background()
	hash, _ := store.HashPassword("correct horse battery")
	acct, _ := st.CreateAccount(ctx, email)
	u := store.User{AccountID: acct, Email: email, PasswordHash: hash, EmailConfirmedAt: time.Now()}
	var err error
	if u.ID, err = st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAnswersDoNotTellWhoHasAnAccount: sign-up, reset and invitation answer
// the same for an address with an account and one without, and answer
// while the relay is stuck: the lookup and the mail happen off the request
// path.
func TestAnswersDoNotTellWhoHasAnAccount(t *testing.T) {
	t.Parallel()
	held := &heldMailer{release: make(chan struct{})}
	s := newSiteWith(t, nil, siteOptions{mailer: held})
	t.Cleanup(func() { close(held.release) }) // runs before the site's own cleanups
	addUser(t, s.st, "known@example.test")
	addUser(t, s.st, "inviter@example.test")
	same := func(path string, form func(email string) url.Values) {
		t.Helper()
		a := s.client().post(path, form("known@example.test"))
		b := s.client().post(path, form("unknown@example.test"))
		if a.StatusCode != b.StatusCode || a.Header.Get("Location") != b.Header.Get("Location") ||
			strings.ReplaceAll(a.body, "known@", "X@") != strings.ReplaceAll(b.body, "unknown@", "X@") {
			t.Errorf("%s answers differ: %d %q / %d %q", path, a.StatusCode, a.Header.Get("Location"), b.StatusCode, b.Header.Get("Location"))
		}
	}
	same("/reset", func(e string) url.Values { return url.Values{"email": {e}} })
	same("/signup", func(e string) url.Values { return url.Values{"email": {e}, "password": {"long enough password"}} })
	c := s.client()
	c.post("/login", url.Values{"email": {"inviter@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusSeeOther)
	a := c.post("/manage/account/invite", url.Values{"email": {"known@example.test"}})
	b := c.post("/manage/account/invite", url.Values{"email": {"unknown@example.test"}})
	if a.StatusCode != http.StatusSeeOther || a.StatusCode != b.StatusCode || a.Header.Get("Location") != b.Header.Get("Location") {
		t.Errorf("invitation answers differ: %d / %d", a.StatusCode, b.StatusCode)
	}
	if n := held.count(); n != 0 {
		t.Fatalf("%d mails went out while the relay was stuck", n)
	}
}

// TestNoSecretsInTheLog: with no relay, sign-up, reset and invitation log
// (at debug level too) that a mail was not sent, never the link.
func TestNoSecretsInTheLog(t *testing.T) {
	t.Parallel()
	var logs testlog.Buffer
	s := newSiteWith(t, nil, siteOptions{noSMTP: true, log: &logs})
	addUser(t, s.st, "inviter@example.test")
	c := s.client()
	c.post("/signup", url.Values{"email": {"new@example.test"}, "password": {"long enough password"}}).want(t, http.StatusOK)
	c.post("/reset", url.Values{"email": {"inviter@example.test"}}).want(t, http.StatusOK)
	c.post("/login", url.Values{"email": {"inviter@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusSeeOther)
	c.post("/manage/account/invite", url.Values{"email": {"friend@example.test"}}).want(t, http.StatusSeeOther)
	wait.For(t, 10*time.Second, "three mails logged as not sent", func() bool {
		return strings.Count(logs.String(), "mail not sent") == 3
	})
	for _, secret := range []string{"/confirm/", "/reset/", "/invite/", "body="} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs.String())
		}
	}
}
