CREATE TABLE alert_state (
	server_id  INTEGER PRIMARY KEY REFERENCES servers(id) ON DELETE CASCADE,
	first_at   INTEGER NOT NULL,
	last_at    INTEGER NOT NULL,
	last_score REAL NOT NULL
);
