-- 0002: store-wide settings (e.g. whether this is the built-in synthetic demo).
CREATE TABLE settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
