-- 0020 (issue 11, point 6): a signed-in person stays signed in across a reload, with a signed, expiring cookie
-- (data/accounts.py: session_cookie). Each cookie carries its account's generation here; a password change, the
-- account's removal or signing out moves the generation on, which revokes every cookie issued before. A row
-- outlives its account, so an account added again under the same email never accepts the old account's cookies.
CREATE TABLE signin_generations (
    email VARCHAR PRIMARY KEY,
    generation INTEGER NOT NULL CHECK (generation >= 0)
);
