package store

import (
	"context"
	"fmt"
	"time"
)

// Daily zone counts, the history behind the zone pages' graphs and
// /zone/<name>.json: one row per zone, IP version and UTC day, rewritten
// each time the counts are taken that day.

// ZoneCount is one zone's servers on one day.
type ZoneCount struct {
	Zone       string // "@" for the global zone, else a continent or country label
	IPVersion  int
	Day        string // YYYY-MM-DD, UTC
	TS         time.Time
	Registered int
	Active     int
	Netspeed   int64 // sum of the active servers' weights
}

// SaveZoneCounts upserts the counts taken at one time, in one transaction
// when q is a Tx.
func (q q) SaveZoneCounts(ctx context.Context, counts []ZoneCount) error {
	for _, c := range counts {
		_, err := q.x.ExecContext(ctx, `INSERT INTO zone_counts (zone, ip_version, day, ts, registered, active, netspeed)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (zone, ip_version, day) DO UPDATE SET ts = excluded.ts, registered = excluded.registered,
				active = excluded.active, netspeed = excluded.netspeed`,
			c.Zone, c.IPVersion, c.Day, c.TS.UnixMilli(), c.Registered, c.Active, c.Netspeed)
		if err != nil {
			return fmt.Errorf("store: save zone count %s v%d %s: %w", c.Zone, c.IPVersion, c.Day, err)
		}
	}
	return nil
}

// ZoneCounts returns a zone's daily rows in date order (IPv4 before IPv6
// within a day).
func (q q) ZoneCounts(ctx context.Context, zone string) ([]ZoneCount, error) {
	rows, err := q.x.QueryContext(ctx, `SELECT zone, ip_version, day, ts, registered, active, netspeed
		FROM zone_counts WHERE zone = ? ORDER BY day, ip_version`, zone)
	if err != nil {
		return nil, fmt.Errorf("store: zone counts of %s: %w", zone, err)
	}
	defer rows.Close()
	var out []ZoneCount
	for rows.Next() {
		var c ZoneCount
		var ts int64
		if err := rows.Scan(&c.Zone, &c.IPVersion, &c.Day, &ts, &c.Registered, &c.Active, &c.Netspeed); err != nil {
			return nil, fmt.Errorf("store: zone counts of %s: %w", zone, err)
		}
		c.TS = time.UnixMilli(ts).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
