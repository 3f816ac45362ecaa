-- jeton schema version 1: clients with their secrets, opaque tokens by digest, revoked JWT ids.
-- Instants are BIGINT microseconds since the Unix epoch (see jeton-sql).

-- COLLATE "C": ids compare byte by byte, as ClientId does, so listing pages in the same order
-- in every store and the primary-key index serves the ordering.
CREATE TABLE jeton_clients (
    id       TEXT COLLATE "C" PRIMARY KEY,
    enabled  BOOLEAN NOT NULL,
    -- Every other setting, in jeton's own JSON form: read and replaced whole.
    settings JSONB NOT NULL
);

-- One row per secret, so adding or retiring one is a one-row write.
CREATE TABLE jeton_client_secrets (
    client_id     TEXT COLLATE "C" NOT NULL REFERENCES jeton_clients (id) ON DELETE CASCADE,
    secret_id     TEXT NOT NULL,
    position      BIGINT NOT NULL,
    verifier      TEXT NOT NULL,
    expires_at_us BIGINT,
    PRIMARY KEY (client_id, secret_id)
);

-- Opaque tokens, only as SHA-256 digests of their values.
CREATE TABLE jeton_tokens (
    digest        BYTEA PRIMARY KEY CHECK (octet_length(digest) = 32),
    client_id     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    scope         TEXT NOT NULL,
    audience      TEXT NOT NULL,
    issued_at_us  BIGINT NOT NULL,
    expires_at_us BIGINT NOT NULL,
    jti           TEXT
);
-- The purge walks expired rows oldest first.
CREATE INDEX jeton_tokens_expires_at ON jeton_tokens (expires_at_us);

-- Revoked JWT ids, kept until the JWT they name expires.
CREATE TABLE jeton_revoked_jtis (
    jti           TEXT PRIMARY KEY,
    expires_at_us BIGINT NOT NULL
);
CREATE INDEX jeton_revoked_jtis_expires_at ON jeton_revoked_jtis (expires_at_us);
