-- Sessions' durable copy (Sessions/PostgresSessionStore.cs). {schema} is replaced by the configured schema name.
-- A row is one session, keyed by its Redis key (which holds the tenant and the id); user_key groups a tenant's user's
-- sessions. data is the session's fields as one JSON object. version only grows, so a late write-through of an older
-- state never overwrites a newer one. expires_at is the idle expiry as last persisted, capped by absolute_at.
CREATE TABLE IF NOT EXISTS {schema}.sessions (
    session_key    text        PRIMARY KEY,
    user_key       text        NOT NULL,
    user_id        text        NOT NULL,
    data           jsonb       NOT NULL,
    version        bigint      NOT NULL,
    created_at     timestamptz NOT NULL,
    last_access_at timestamptz NOT NULL,
    idle_ms        bigint      NOT NULL,
    absolute_at    timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    schema_version integer     NOT NULL DEFAULT 1
);

CREATE INDEX IF NOT EXISTS sessions_user_idx ON {schema}.sessions (user_key, expires_at);
CREATE INDEX IF NOT EXISTS sessions_expires_idx ON {schema}.sessions (expires_at);
