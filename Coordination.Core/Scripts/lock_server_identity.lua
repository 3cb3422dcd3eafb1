-- Returns the run id of the server it runs on, for the lock manager's primary watcher: it changes when the server
-- restarts, and is another one after a failover. (The client refuses INFO outside admin mode; a script may run it.)
-- KEYS[1]: none; the script reads no key. Run it on each primary.
-- Returns the run id (40 hex characters).
return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
