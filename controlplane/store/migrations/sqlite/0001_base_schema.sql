CREATE TABLE accounts (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);

CREATE TABLE users (
	id                 INTEGER PRIMARY KEY,
	account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	email              TEXT NOT NULL UNIQUE,
	password_hash      TEXT NOT NULL DEFAULT '',
	is_admin           INTEGER NOT NULL DEFAULT 0,
	email_confirmed_at INTEGER,
	created_at         INTEGER NOT NULL
);
CREATE INDEX users_account ON users(account_id);

CREATE TABLE servers (
	id                INTEGER PRIMARY KEY,
	ip                TEXT NOT NULL,
	ip_version        INTEGER NOT NULL,
	account_id        INTEGER REFERENCES accounts(id),
	netspeed          INTEGER NOT NULL DEFAULT 10000,
	country           TEXT NOT NULL DEFAULT '',
	country_override  TEXT NOT NULL DEFAULT '',
	stratum           INTEGER NOT NULL DEFAULT 0,
	score             REAL NOT NULL DEFAULT 0,
	in_pool           INTEGER NOT NULL DEFAULT 1,
	created_at        INTEGER NOT NULL,
	deletion_on       INTEGER,
	deleted_at        INTEGER,
	last_score_update INTEGER
);
-- An address may come back after deletion, so uniqueness is among live rows.
CREATE UNIQUE INDEX servers_ip_live ON servers(ip) WHERE deleted_at IS NULL;
CREATE INDEX servers_account ON servers(account_id);

CREATE TABLE monitors (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	location      TEXT NOT NULL DEFAULT '',
	ip            TEXT NOT NULL DEFAULT '',
	ip_version    INTEGER NOT NULL DEFAULT 4,
	token_hash    TEXT NOT NULL UNIQUE,
	state         TEXT NOT NULL DEFAULT 'pending',
	account_id    INTEGER REFERENCES accounts(id),
	last_batch_id TEXT NOT NULL DEFAULT '',
	last_seen     INTEGER,
	created_at    INTEGER NOT NULL
);

CREATE TABLE monitor_servers (
	monitor_id      INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
	server_id       INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
	state           TEXT NOT NULL DEFAULT 'candidate',
	score           REAL NOT NULL DEFAULT 0,
	last_probe      INTEGER,
	last_handed_out INTEGER,
	last_rtt        REAL,
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (monitor_id, server_id)
);
CREATE INDEX monitor_servers_server ON monitor_servers(server_id);

-- Every probe (monitor_id set) and every overall score change (monitor_id NULL).
CREATE TABLE log_scores (
	id           INTEGER PRIMARY KEY,
	server_id    INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
	monitor_id   INTEGER REFERENCES monitors(id) ON DELETE CASCADE,
	ts           INTEGER NOT NULL,
	step         REAL NOT NULL DEFAULT 0,
	score        REAL NOT NULL,
	clock_offset REAL,
	rtt          REAL,
	leap         INTEGER,
	error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX log_scores_server_ts ON log_scores(server_id, ts);
CREATE INDEX log_scores_ts ON log_scores(ts);
CREATE INDEX log_scores_monitor_server_ts ON log_scores(monitor_id, server_id, ts);

CREATE TABLE vendor_zones (
	id               INTEGER PRIMARY KEY,
	name             TEXT NOT NULL UNIQUE,
	account_id       INTEGER REFERENCES accounts(id),
	description      TEXT NOT NULL DEFAULT '',
	expected_clients INTEGER NOT NULL DEFAULT 0,
	client_type      TEXT NOT NULL DEFAULT 'sntp',
	status           TEXT NOT NULL DEFAULT 'requested',
	created_at       INTEGER NOT NULL,
	approved_at      INTEGER
);

-- Submitted monitor batches, for idempotency.
CREATE TABLE batches (
	monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
	batch_id   TEXT NOT NULL,
	accepted   INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (monitor_id, batch_id)
);
CREATE INDEX batches_created ON batches(created_at);
