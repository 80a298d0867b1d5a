package api

import (
	"testing"

	"github.com/ntppool-ng/ntppool/monitorapi"
)

func TestResultErrorKeepsPrintableText(t *testing.T) {
	for in, want := range map[string]string{
		"no response: i/o timeout":       "no response: i/o timeout",
		"a\nb\r\tc\x00d\x1b[31m":         "abcd[31m",
		"bad \xff utf-8 ünïcode":         "bad  utf-8 ünïcode",
		"=HYPERLINK(\"http://x\")\u202e": "=HYPERLINK(\"http://x\")",
	} {
		if got := resultError(monitorapi.Result{Error: in}); got != want {
			t.Errorf("resultError(%q) = %q, want %q", in, got, want)
		}
	}
}
