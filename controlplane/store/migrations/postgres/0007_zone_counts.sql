CREATE TABLE zone_counts (
	zone       TEXT NOT NULL,
	ip_version BIGINT NOT NULL,
	day        TEXT NOT NULL,
	ts         BIGINT NOT NULL,
	registered BIGINT NOT NULL,
	active     BIGINT NOT NULL,
	netspeed   BIGINT NOT NULL,
	PRIMARY KEY (zone, ip_version, day)
);
