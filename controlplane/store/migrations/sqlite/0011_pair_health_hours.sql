-- Exact per-pair health: one row per (monitor, server, hour) with the
-- hour's probe count, sum of steps and sum of RTTs (rtt_n: probes that had
-- one). Selection reads the sum of the last buckets; retention drops old
-- ones. Replaces the two running buckets of step 3 (their columns stay,
-- unused). `hour` is the bucket's start, Unix ms. WITHOUT ROWID: rows
-- are kept in key order, so an upsert is one B-tree step and selection's
-- sum per pair reads them in order.
CREATE TABLE pair_health_hours (
	monitor_id INTEGER NOT NULL,
	server_id  INTEGER NOT NULL,
	hour       INTEGER NOT NULL,
	points     INTEGER NOT NULL,
	step_sum   REAL NOT NULL,
	rtt_sum    REAL NOT NULL,
	rtt_n      INTEGER NOT NULL,
	PRIMARY KEY (server_id, monitor_id, hour), -- by server: selection reads ranges of servers
	FOREIGN KEY (monitor_id, server_id) REFERENCES monitor_servers (monitor_id, server_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX pair_health_hours_hour ON pair_health_hours (hour);

-- Selection reads every pair's state by server: an index that holds it
-- spares a table lookup per pair (the old one, on server_id alone, is its
-- prefix).
CREATE INDEX monitor_servers_server_state ON monitor_servers (server_id, monitor_id, state);
DROP INDEX IF EXISTS monitor_servers_server;

-- The step of the pair's newest result: an overall-score row records the
-- chosen monitor row's step.
ALTER TABLE monitor_servers ADD COLUMN last_step REAL;

-- The last day of history seeds the buckets, so selection keeps its data
-- across the upgrade.
INSERT INTO pair_health_hours (monitor_id, server_id, hour, points, step_sum, rtt_sum, rtt_n)
SELECT l.monitor_id, l.server_id, (l.ts / 3600000) * 3600000, COUNT(*), SUM(l.step), COALESCE(SUM(l.rtt), 0), COUNT(l.rtt)
FROM log_scores l JOIN monitor_servers ms ON ms.monitor_id = l.monitor_id AND ms.server_id = l.server_id
WHERE l.monitor_id IS NOT NULL AND l.ts >= (CAST(strftime('%s', 'now') AS INTEGER) - 26 * 3600) * 1000
GROUP BY l.monitor_id, l.server_id, (l.ts / 3600000) * 3600000;
