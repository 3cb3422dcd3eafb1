-- Fencing epochs of the lock managers (Locks/FencingEpochStore.cs). {schema} is replaced by the configured schema name.
-- One row per life of a Redis server (its run id, which changes on every restart and differs between servers): the
-- epoch is the high part of every fencing token issued on that server life (epoch * 2^40 + counter), so tokens issued
-- after a restart or failover are above every token issued before, whatever Redis lost. Epochs come from a sequence:
-- a run id seen later always has a larger epoch than every run id seen before it.
CREATE SEQUENCE IF NOT EXISTS {schema}.fencing_epoch_seq START WITH 1;

CREATE TABLE IF NOT EXISTS {schema}.fencing_epochs (
    run_id     text        PRIMARY KEY,
    epoch      bigint      NOT NULL DEFAULT nextval('{schema}.fencing_epoch_seq'),
    created_at timestamptz NOT NULL DEFAULT now()
);
