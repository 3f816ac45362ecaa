-- jeton schema version 1: clients with their secrets, opaque tokens by digest, revoked JWT ids.
-- Instants are INTEGER microseconds since the Unix epoch (see jeton-sql).

-- SQLite's default BINARY collation compares ids byte by byte, as ClientId does.
CREATE TABLE jeton_clients (
    id       TEXT PRIMARY KEY,
    enabled  INTEGER NOT NULL,
    -- Every other setting, in jeton's own JSON form: read and replaced whole.
    settings TEXT NOT NULL CHECK (json_valid(settings))
);

-- One row per secret, so adding or retiring one is a one-row write.
CREATE TABLE jeton_client_secrets (
    client_id     TEXT NOT NULL REFERENCES jeton_clients (id) ON DELETE CASCADE,
    secret_id     TEXT NOT NULL,
    position      INTEGER NOT NULL,
    verifier      TEXT NOT NULL,
    expires_at_us INTEGER,
    PRIMARY KEY (client_id, secret_id)
);

-- Opaque tokens, only as SHA-256 digests of their values.
CREATE TABLE jeton_tokens (
    digest        BLOB PRIMARY KEY CHECK (length(digest) = 32),
    client_id     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    scope         TEXT NOT NULL,
    audience      TEXT NOT NULL,
    issued_at_us  INTEGER NOT NULL,
    expires_at_us INTEGER NOT NULL,
    jti           TEXT
) WITHOUT ROWID; -- one B-tree lookup by digest
-- The purge walks expired rows oldest first.
CREATE INDEX jeton_tokens_expires_at ON jeton_tokens (expires_at_us);

-- Revoked JWT ids, kept until the JWT they name expires.
CREATE TABLE jeton_revoked_jtis (
    jti           TEXT PRIMARY KEY,
    expires_at_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX jeton_revoked_jtis_expires_at ON jeton_revoked_jtis (expires_at_us);
