/// Schema version 5: `permissions` gets a primary key (`id`), so that every table has one. SQLite's session
/// extension, which records each write transaction's rows for replication (``RegistryReplication``), ignores tables
/// without a declared primary key. Rows keep their order; the indexes are the same.
enum SchemaV5 {
    static let sql = """
        CREATE TABLE permissions_v5 (
            id          INTEGER PRIMARY KEY,
            model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
            group_id    INTEGER REFERENCES groups(id) ON DELETE CASCADE,
            role        INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),
            granted_at  INTEGER NOT NULL,
            granted_by  TEXT    NOT NULL,
            CHECK ((user_id IS NULL) <> (group_id IS NULL))
        ) STRICT;
        INSERT INTO permissions_v5 (model_id, user_id, group_id, role, granted_at, granted_by)
            SELECT model_id, user_id, group_id, role, granted_at, granted_by FROM permissions ORDER BY rowid;
        DROP TABLE permissions;
        ALTER TABLE permissions_v5 RENAME TO permissions;
        CREATE UNIQUE INDEX permissions_user ON permissions(model_id, user_id) WHERE user_id IS NOT NULL;
        CREATE UNIQUE INDEX permissions_group ON permissions(model_id, group_id) WHERE group_id IS NOT NULL;
        CREATE INDEX permissions_by_user ON permissions(user_id) WHERE user_id IS NOT NULL;
        CREATE INDEX permissions_by_group ON permissions(group_id) WHERE group_id IS NOT NULL;
        """
}
