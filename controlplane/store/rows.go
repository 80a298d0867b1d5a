package store

import "math/bits"

// Multi-row statements are built for their row count, and every distinct
// SQL text is a prepared statement in the cache (stmtcache.go). Sizes are
// therefore kept to powers of two: an IN list is padded with a value that
// matches nothing, and multi-row writes are cut into power-of-two chunks.
// A statement then has at most a dozen forms.

// maxPadded is the largest padded list or chunk (a power of two below
// maxRowsPerInsert).
const maxPadded = 512

// paddedLen is the power of two at or above n (n >= 1), at most maxPadded.
func paddedLen(n int) int {
	if n <= 1 {
		return 1
	}
	return min(1<<bits.Len(uint(n-1)), maxPadded)
}

// padRows cuts rows into chunks of at most maxPadded and calls fn with each
// chunk padded to a power of two with filler, a value that matches no row
// (an id of 0, an empty address).
func padRows[T any](rows []T, filler T, fn func(chunk []T) error) error {
	for len(rows) > 0 {
		n := min(len(rows), maxPadded)
		chunk := rows[:n:n]
		for len(chunk) < paddedLen(n) {
			chunk = append(chunk, filler)
		}
		if err := fn(chunk); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// powerChunks cuts rows into chunks whose lengths are powers of two,
// largest first, and calls fn with each: for statements where a repeated
// row would count twice.
func powerChunks[T any](rows []T, fn func(chunk []T) error) error {
	for len(rows) > 0 {
		n := min(maxPadded, 1<<(bits.Len(uint(len(rows)))-1))
		if err := fn(rows[:n:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
