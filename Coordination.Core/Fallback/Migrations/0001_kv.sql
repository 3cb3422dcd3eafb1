-- Key/value fallback store. {schema} is replaced by the configured schema name (a validated identifier).
-- A row mirrors one Redis key. pending marks a write made while Redis was unavailable that must still be
-- replayed to Redis; a pending row with a NULL value is a delete to replay.
CREATE TABLE IF NOT EXISTS {schema}.kv (
    redis_key  text        PRIMARY KEY,
    value      bytea       NULL,
    expires_at timestamptz NULL,
    pending    boolean     NOT NULL DEFAULT false,
    version    bigint      NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS kv_pending_idx ON {schema}.kv (updated_at) WHERE pending;
CREATE INDEX IF NOT EXISTS kv_expires_idx ON {schema}.kv (expires_at) WHERE expires_at IS NOT NULL;
