package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func timeNow() time.Time { return time.Now() }

// corefileBlocks returns the ~~~ corefile blocks of a Markdown file.
func corefileBlocks(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "~~~ corefile"):
			cur = new(strings.Builder)
		case cur != nil && strings.HasPrefix(line, "~~~"):
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// TestReadmeExamplesStart starts every corefile block of plugin/README.md.
func TestReadmeExamplesStart(t *testing.T) {
	e, _ := startPoolEtcd(t)
	_, base := writeKey(t, "pool.ntp.test.", filepath.Join(t.TempDir(), "Kpool.ntp.test"))
	zoneFile := writeZoneFile(t)
	blocks := corefileBlocks(t, "../README.md")
	if len(blocks) < 2 {
		t.Fatalf("%d corefile blocks in the README", len(blocks))
	}
	for i, b := range blocks {
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			b = strings.ReplaceAll(b, "/etc/coredns/Kpool.ntp.test", base)
			b = strings.ReplaceAll(b, "/etc/coredns/db.pool.ntp.test", zoneFile)
			startCorefile(t, b, e.Endpoint())
		})
	}
}

// TestReadmeSections checks plugin/README.md has CoreDNS's sections in order.
func TestReadmeSections(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	at := 0
	for _, h := range []string{"# ntppool", "## Name", "## Description", "## Syntax", "## Compilation", "## Metrics", "## Ready", "## Startup", "## Record format", "## Examples", "## See Also"} {
		i := strings.Index(text[at:], "\n"+h+"\n")
		if h == "# ntppool" {
			i = strings.Index(text, h+"\n")
		}
		if i < 0 {
			t.Fatalf("section %q missing or out of order", h)
		}
		at += i
	}
	if !strings.Contains(text, "ntppool:github.com/ntppool-ng/ntppool/plugin") {
		t.Error("the plugin.cfg line is missing")
	}
}
