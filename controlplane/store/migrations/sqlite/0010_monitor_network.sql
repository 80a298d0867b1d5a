-- A monitor has an IPv4 and/or an IPv6 address and watches the servers of
-- each family it has (v4, v6); one token covers both. behind_nat: the API
-- accepts it from any address. seen_ip: where it last called from.
ALTER TABLE monitors ADD COLUMN ip4 TEXT NOT NULL DEFAULT '';
ALTER TABLE monitors ADD COLUMN ip6 TEXT NOT NULL DEFAULT '';
ALTER TABLE monitors ADD COLUMN v4 INTEGER NOT NULL DEFAULT 1;
ALTER TABLE monitors ADD COLUMN v6 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monitors ADD COLUMN behind_nat INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monitors ADD COLUMN seen_ip TEXT NOT NULL DEFAULT '';
UPDATE monitors SET ip4 = ip WHERE ip_version = 4;
UPDATE monitors SET ip6 = ip, v4 = 0, v6 = 1 WHERE ip_version = 6;
ALTER TABLE monitors DROP COLUMN ip;
ALTER TABLE monitors DROP COLUMN ip_version;
CREATE INDEX monitors_account ON monitors(account_id);

-- Roles besides is_admin (which has them all): comma-separated,
-- "monitor-admin" and "support".
ALTER TABLE users ADD COLUMN roles TEXT NOT NULL DEFAULT '';

-- Who did what when, for the actions of admins, monitor admins and support.
CREATE TABLE audit_log (
	id      INTEGER PRIMARY KEY,
	at      INTEGER NOT NULL,
	user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
	actor   TEXT NOT NULL,
	action  TEXT NOT NULL,
	subject TEXT NOT NULL,
	detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);
