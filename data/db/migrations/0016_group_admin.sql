-- 0016: groups made and kept in the app (data/group_admin.py).
--
-- A leader who adds a school to a partnership invites it: partnerships are voluntary, so the school is a member
-- only once its head (or a data manager) accepts. Invitations are kept, answered or not, as the group's record.
CREATE SEQUENCE group_invitations_seq START 1;
CREATE TABLE group_invitations (
    invitation_id INTEGER PRIMARY KEY DEFAULT nextval('group_invitations_seq'),
    group_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    joined DATE NOT NULL,            -- the date the school joins if it accepts
    invited_by VARCHAR NOT NULL,
    invited_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    answer VARCHAR CHECK (answer IN ('accepted', 'declined', 'withdrawn')),  -- NULL: not answered yet
    answered_by VARCHAR,
    answered_at TIMESTAMP
);

-- closing a group ends its open memberships on the closing date; these are the ones reopening it gives back
-- (a school that left on that same day of its own accord stays left)
ALTER TABLE memberships ADD COLUMN ended_with_group BOOLEAN DEFAULT false;
