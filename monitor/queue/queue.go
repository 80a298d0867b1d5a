// Package queue is the monitor's bounded on-disk FIFO of result batches: one
// fsynced JSON file per batch in a state directory, so results survive a
// crash or restart and are deleted only once the control plane acknowledged
// them.
//
// # Order
//
// The control plane refuses a batch older than the newest one it accepted, so
// batches must be sent in the order they were fetched, not the order their
// probes finished. A caller therefore Reserves a sequence number when it
// fetches a batch and Puts the results under it later; Head offers the oldest
// stored batch only when no older reservation is still open. Reservations
// live in memory: after a restart everything on disk is sendable, in order.
package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ntppool-ng/ntppool/monitorapi"
)

// ErrFull is returned by Reserve when stored batches and open reservations
// reach the queue's bound.
var ErrFull = errors.New("queue: full")

const suffix = ".json"

// Item is one stored batch.
type Item struct {
	Seq     uint64
	Results monitorapi.Results
}

// Queue is safe for concurrent use.
type Queue struct {
	dir string
	max int
	log *slog.Logger

	mu       sync.Mutex
	stored   []uint64 // sorted sequence numbers of files on disk
	reserved map[uint64]struct{}
	next     uint64
	changed  chan struct{} // closed and replaced on every change
}

// Open loads the queue kept in dir (created if missing), holding at most bound
// batches. Leftover temporary files of an interrupted write are removed.
func Open(dir string, bound int, log *slog.Logger) (*Queue, error) {
	if bound < 1 {
		return nil, fmt.Errorf("queue: bound %d must be at least 1", bound)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", dir, err)
	}
	q := &Queue{dir: dir, max: bound, log: log, reserved: map[uint64]struct{}{}, next: 1, changed: make(chan struct{})}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		seq, ok := parseName(name)
		if !ok {
			continue
		}
		q.stored = append(q.stored, seq)
		q.next = max(q.next, seq+1)
	}
	slices.Sort(q.stored)
	return q, nil
}

func parseName(name string) (uint64, bool) {
	s, ok := strings.CutSuffix(name, suffix)
	if !ok || len(s) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	return seq, err == nil
}

func (q *Queue) path(seq uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%020d%s", seq, suffix))
}

// Reserve takes the next sequence number for a batch about to be probed.
func (q *Queue) Reserve() (uint64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.stored)+len(q.reserved) >= q.max {
		return 0, ErrFull
	}
	seq := q.next
	q.next++
	q.reserved[seq] = struct{}{}
	return seq, nil
}

// Release gives up a reservation whose batch will never be stored.
func (q *Queue) Release(seq uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.reserved, seq)
	q.signal()
}

// Put stores the results of reserved batch seq durably (written, fsynced,
// renamed into place, directory fsynced) and ends the reservation.
func (q *Queue) Put(seq uint64, r monitorapi.Results) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("queue: put %d: %w", seq, err)
	}
	final := q.path(seq)
	tmp := final + ".tmp"
	if err := writeSync(tmp, b); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("queue: put %d: %w", seq, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("queue: put %d: %w", seq, err)
	}
	if d, err := os.Open(q.dir); err == nil {
		d.Sync()
		d.Close()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.reserved, seq)
	i, _ := slices.BinarySearch(q.stored, seq)
	q.stored = slices.Insert(q.stored, i, seq)
	q.signal()
	return nil
}

func writeSync(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Head returns the oldest stored batch, or false when there is none or an
// older reservation is still open. A file that cannot be read back is
// renamed to *.bad (kept for the operator, never sent) and skipped.
func (q *Queue) Head() (Item, bool) {
	for {
		q.mu.Lock()
		if len(q.stored) == 0 {
			q.mu.Unlock()
			return Item{}, false
		}
		seq := q.stored[0]
		for r := range q.reserved {
			if r < seq {
				q.mu.Unlock()
				return Item{}, false
			}
		}
		q.mu.Unlock()
		it := Item{Seq: seq}
		b, err := os.ReadFile(q.path(seq))
		if err == nil {
			err = json.Unmarshal(b, &it.Results)
		}
		if err == nil {
			return it, true
		}
		q.log.Error("queue: unreadable batch set aside", "file", q.path(seq), "err", err)
		os.Rename(q.path(seq), q.path(seq)+".bad")
		q.drop(seq)
	}
}

// Delete removes a batch once it is acknowledged (or refused for good).
func (q *Queue) Delete(seq uint64) error {
	if err := os.Remove(q.path(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("queue: delete %d: %w", seq, err)
	}
	q.drop(seq)
	return nil
}

func (q *Queue) drop(seq uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i, ok := slices.BinarySearch(q.stored, seq); ok {
		q.stored = slices.Delete(q.stored, i, i+1)
	}
	q.signal()
}

// Len is the number of stored batches.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.stored)
}

// Reserved is the number of open reservations.
func (q *Queue) Reserved() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.reserved)
}

// Changed returns a channel closed at the next change (put, delete,
// release): wait on it, then look again.
func (q *Queue) Changed() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.changed
}

func (q *Queue) signal() {
	close(q.changed)
	q.changed = make(chan struct{})
}
