package queue

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ntppool-ng/ntppool/monitorapi"
)

func batch(id string) monitorapi.Results {
	return monitorapi.Results{BatchID: id, Results: []monitorapi.Result{{IP: netip.MustParseAddr("192.0.2.1"), Ticket: "t-" + id}}}
}

func open(t *testing.T, dir string, max int) *Queue {
	t.Helper()
	q, err := Open(dir, max, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestHeadWaitsForOlderReservations(t *testing.T) {
	q := open(t, t.TempDir(), 10)
	a, _ := q.Reserve()
	b, _ := q.Reserve()
	if err := q.Put(b, batch("B")); err != nil {
		t.Fatal(err)
	}
	if _, ok := q.Head(); ok {
		t.Fatal("head offered B while the older A is still being probed")
	}
	ch := q.Changed()
	if err := q.Put(a, batch("A")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("Put did not signal a change")
	}
	for _, want := range []string{"A", "B"} {
		it, ok := q.Head()
		if !ok || it.Results.BatchID != want {
			t.Fatalf("head %+v %v, want %s", it, ok, want)
		}
		if err := q.Delete(it.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := q.Head(); ok || q.Len() != 0 {
		t.Fatal("queue not empty")
	}
}

func TestReleaseUnblocksHead(t *testing.T) {
	q := open(t, t.TempDir(), 10)
	a, _ := q.Reserve()
	b, _ := q.Reserve()
	q.Put(b, batch("B"))
	q.Release(a)
	if it, ok := q.Head(); !ok || it.Results.BatchID != "B" {
		t.Fatalf("head %+v %v", it, ok)
	}
}

func TestResumesAfterRestartInOrder(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, 100)
	for i := range 5 {
		s, _ := q.Reserve()
		q.Put(s, batch(fmt.Sprint(i)))
	}
	open1, _ := q.Reserve() // reserved, never stored: the crash loses it
	_ = open1
	it, _ := q.Head()
	q.Delete(it.Seq)
	os.WriteFile(filepath.Join(dir, "00000000000000000099.json.tmp"), []byte("half"), 0o600)

	q2 := open(t, dir, 100)
	if q2.Len() != 4 {
		t.Fatalf("len %d after restart, want 4", q2.Len())
	}
	if _, err := os.Stat(filepath.Join(dir, "00000000000000000099.json.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Error("leftover temporary file kept")
	}
	s, _ := q2.Reserve()
	if s <= 5 {
		t.Errorf("new sequence %d reuses an old one", s)
	}
	q2.Release(s)
	for i := 1; i < 5; i++ {
		it, ok := q2.Head()
		if !ok || it.Results.BatchID != fmt.Sprint(i) || it.Results.Results[0].Ticket != "t-"+fmt.Sprint(i) {
			t.Fatalf("head %+v %v, want batch %d", it, ok, i)
		}
		q2.Delete(it.Seq)
	}
}

func TestBoundCountsStoredAndReserved(t *testing.T) {
	q := open(t, t.TempDir(), 2)
	a, _ := q.Reserve()
	q.Reserve()
	if _, err := q.Reserve(); !errors.Is(err, ErrFull) {
		t.Fatalf("err %v, want ErrFull", err)
	}
	q.Put(a, batch("A"))
	if _, err := q.Reserve(); !errors.Is(err, ErrFull) {
		t.Fatalf("err %v, want ErrFull", err)
	}
	it, _ := q.Head()
	_ = it
	q.Delete(a)
	if _, err := q.Reserve(); err != nil {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := Open(t.TempDir(), 0, nil); err == nil {
		t.Error("bound 0 accepted")
	}
}

func TestCorruptFileSetAsideNotLost(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, 10)
	for _, id := range []string{"A", "B"} {
		s, _ := q.Reserve()
		q.Put(s, batch(id))
	}
	bad := filepath.Join(dir, "00000000000000000001.json")
	os.WriteFile(bad, []byte("{not json"), 0o600)
	q = open(t, dir, 10)
	it, ok := q.Head()
	if !ok || it.Results.BatchID != "B" {
		t.Fatalf("head %+v %v, want B", it, ok)
	}
	if _, err := os.Stat(bad + ".bad"); err != nil {
		t.Errorf("corrupt file not kept aside: %v", err)
	}
}

func TestConcurrentPutsKeepOrder(t *testing.T) {
	q := open(t, t.TempDir(), 1000)
	seqs := make([]uint64, 200)
	for i := range seqs {
		seqs[i], _ = q.Reserve()
	}
	var wg sync.WaitGroup
	for i := len(seqs) - 1; i >= 0; i-- {
		wg.Go(func() { q.Put(seqs[i], batch(fmt.Sprint(i))) })
	}
	wg.Wait()
	for i := range seqs {
		it, ok := q.Head()
		if !ok || it.Results.BatchID != fmt.Sprint(i) {
			t.Fatalf("head %+v %v, want %d", it, ok, i)
		}
		q.Delete(it.Seq)
	}
}
