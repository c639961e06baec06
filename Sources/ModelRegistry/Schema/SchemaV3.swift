/// Schema version 3: tokens that expire, tokens scoped to a role ceiling and a set of models, when each token was
/// last used, per-token request quotas, and the audit log of mutating calls. Tokens of a schema-2 build never expire and are unscoped.
enum SchemaV3 {
    static let sql = """
        ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
        ALTER TABLE tokens ADD COLUMN role_ceiling INTEGER CHECK (role_ceiling IN (1, 2, 3));
        -- A JSON array of model names; empty = every model.
        ALTER TABLE tokens ADD COLUMN models TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
        -- Calls per second the token may make (a bucket of one second's worth); 0 = no limit.
        ALTER TABLE tokens ADD COLUMN requests_per_second INTEGER NOT NULL DEFAULT 0;

        CREATE TABLE audit_events (
            id          INTEGER PRIMARY KEY,
            at          INTEGER NOT NULL,
            user_name   TEXT    NOT NULL,
            token_id    INTEGER,
            method      TEXT    NOT NULL,
            target      TEXT    NOT NULL,
            code        INTEGER NOT NULL,
            message     TEXT    NOT NULL,
            peer        TEXT    NOT NULL
        ) STRICT;
        CREATE INDEX audit_events_by_user ON audit_events(user_name, id);
        """
}
