-- 0009: sign-in throttling (a wait that grows per client and per email, never a lock), and sign-in attempts
-- counted apart from the change history: a sign-in is not a change to anyone's data, and an anonymous visitor
-- must not be able to push real changes out of the history or leave typed text (a password typed into the Email
-- box) in the store.

-- The key of the keyed hash (HMAC-SHA256) that names a client address or an email in signin_failures: one row,
-- made from Python's `secrets` at the first sign-in, so no address or typed email is stored, and an unknown
-- email is keyed exactly like a known one.
CREATE TABLE signin_key (secret VARCHAR NOT NULL);

-- One row per failed sign-in and key ('client:...' or 'email:...', both hashed): counted over a sliding window,
-- pruned once older than it.
CREATE TABLE signin_failures (
    key VARCHAR NOT NULL,
    at_time TIMESTAMP NOT NULL
);

-- How many sign-ins ended how, per account and hour. `who` is the account's email only when the typed email is
-- an existing account; anything else is counted under '(no account)' and its text is not kept.
CREATE TABLE sign_in_counts (
    who VARCHAR NOT NULL,
    hour TIMESTAMP NOT NULL,
    outcome VARCHAR NOT NULL,
    attempts INTEGER NOT NULL CHECK (attempts > 0),
    PRIMARY KEY (who, hour, outcome)
);

-- Sign-in lines written before this migration: counted (under the account when it still exists), then taken
-- out of the change history, with whatever text was typed for an email that has no account.
INSERT INTO sign_in_counts
SELECT coalesce(acc.email, '(no account)'), date_trunc('hour', coalesce(a.at_time, TIMESTAMP '1970-01-01')),
       CASE a.action WHEN 'sign_in' THEN 'signed in' WHEN 'locked' THEN 'locked' ELSE 'failed' END, count(*)
FROM audit_log a LEFT JOIN accounts acc ON acc.email = a.entity_id
WHERE a.entity = 'account' AND a.action IN ('sign_in', 'sign_in_failed', 'locked')
GROUP BY ALL;
DELETE FROM audit_log WHERE entity = 'account' AND action IN ('sign_in', 'sign_in_failed', 'locked');

-- The old lock is gone: its columns stay (older code may read them) but nothing sets them any more.
UPDATE accounts SET failed_attempts = 0, locked_until = NULL WHERE failed_attempts <> 0 OR locked_until IS NOT NULL;
