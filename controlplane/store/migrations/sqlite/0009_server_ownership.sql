-- Server ownership: a server is verified once a request from its own
-- address presented its token. Servers that exist at this upgrade are taken
-- as verified: they were added before the pool asked for proof.
ALTER TABLE servers ADD COLUMN verified_at INTEGER;
UPDATE servers SET verified_at = created_at;
-- The current verification token of an unverified server (SHA-256, hex)
-- and when it expires; one at a time, a new one replaces it.
ALTER TABLE servers ADD COLUMN verify_token_hash TEXT;
ALTER TABLE servers ADD COLUMN verify_expires_at INTEGER;
CREATE UNIQUE INDEX servers_verify_token ON servers(verify_token_hash) WHERE verify_token_hash IS NOT NULL;

-- An account's claim on an address another account holds: it becomes that
-- account's server only when verified from the address.
CREATE TABLE server_claims (
	id                INTEGER PRIMARY KEY,
	ip                TEXT NOT NULL,
	account_id        INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	country_override  TEXT NOT NULL DEFAULT '',
	stratum           INTEGER NOT NULL DEFAULT 0,
	created_at        INTEGER NOT NULL,
	verify_token_hash TEXT,
	verify_expires_at INTEGER,
	UNIQUE (ip, account_id)
);
CREATE INDEX server_claims_account ON server_claims(account_id);
CREATE UNIQUE INDEX server_claims_verify_token ON server_claims(verify_token_hash) WHERE verify_token_hash IS NOT NULL;
