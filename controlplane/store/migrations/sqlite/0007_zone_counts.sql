CREATE TABLE zone_counts (
	zone       TEXT NOT NULL,
	ip_version INTEGER NOT NULL,
	day        TEXT NOT NULL,
	ts         INTEGER NOT NULL,
	registered INTEGER NOT NULL,
	active     INTEGER NOT NULL,
	netspeed   INTEGER NOT NULL,
	PRIMARY KEY (zone, ip_version, day)
);
