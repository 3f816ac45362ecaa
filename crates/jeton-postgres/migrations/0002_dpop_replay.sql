-- jeton schema version 2: the DPoP binding of opaque tokens, and the shared single-use store.

-- RFC 9449 §6: the SHA-256 JWK thumbprint an opaque token is bound to (cnf.jkt); NULL for a
-- Bearer token.
ALTER TABLE jeton_tokens ADD COLUMN cnf_jkt TEXT;

-- Single-use values (client-assertion jtis, DPoP proof jtis) as ReplayKey digests, kept until
-- they could no longer be accepted, so that every node sharing the database refuses a replay.
CREATE TABLE jeton_replay (
    key           BYTEA PRIMARY KEY CHECK (octet_length(key) = 32),
    expires_at_us BIGINT NOT NULL
);
CREATE INDEX jeton_replay_expires_at ON jeton_replay (expires_at_us);
