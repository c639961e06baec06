/// Schema version 1. Times are integer milliseconds since 1970 (UTC). Maps and lists of free-form metadata are JSON
/// text with sorted keys; tags also live in `model_tags` so they can be filtered with an index.
enum SchemaV1 {
    static let sql = """
        CREATE TABLE users (
            id          INTEGER PRIMARY KEY,
            name        TEXT    NOT NULL UNIQUE,
            is_admin    INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
            created_at  INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE groups (
            id          INTEGER PRIMARY KEY,
            name        TEXT    NOT NULL UNIQUE,
            created_at  INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE group_members (
            group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
            user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            PRIMARY KEY (group_id, user_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX group_members_by_user ON group_members(user_id);

        -- Only the sha256 of a token is stored; the plaintext is shown once, when it is created.
        CREATE TABLE tokens (
            id          INTEGER PRIMARY KEY,
            user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            hash        TEXT    NOT NULL UNIQUE,
            label       TEXT    NOT NULL DEFAULT '',
            created_at  INTEGER NOT NULL,
            revoked_at  INTEGER
        ) STRICT;
        CREATE INDEX tokens_by_user ON tokens(user_id);

        CREATE TABLE models (
            id            INTEGER PRIMARY KEY,
            name          TEXT    NOT NULL UNIQUE,
            description   TEXT    NOT NULL,
            author        TEXT    NOT NULL,
            tags          TEXT    NOT NULL,
            input_schema  TEXT    NOT NULL,
            output_schema TEXT    NOT NULL,
            metrics       TEXT    NOT NULL,
            dependencies  TEXT    NOT NULL,
            intended_use  TEXT    NOT NULL,
            annotations   TEXT    NOT NULL,
            manifest      TEXT    NOT NULL,
            created_at    INTEGER NOT NULL,
            updated_at    INTEGER NOT NULL,
            created_by    TEXT    NOT NULL
        ) STRICT;
        CREATE INDEX models_by_author ON models(author, name);

        CREATE TABLE model_tags (
            model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            tag         TEXT    NOT NULL,
            PRIMARY KEY (model_id, tag)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX model_tags_by_tag ON model_tags(tag, model_id);

        -- Immutable once inserted, except metrics (recorded in metrics_history).
        CREATE TABLE versions (
            model_id            INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            number              INTEGER NOT NULL CHECK (number >= 1),
            description         TEXT    NOT NULL,
            author              TEXT    NOT NULL,
            input_schema        TEXT    NOT NULL,
            output_schema       TEXT    NOT NULL,
            metrics             TEXT    NOT NULL,
            dependencies        TEXT    NOT NULL,
            annotations         TEXT    NOT NULL,
            manifest            TEXT    NOT NULL,
            size_bytes          INTEGER NOT NULL CHECK (size_bytes >= 0),
            sha256              TEXT    NOT NULL,
            created_at          INTEGER NOT NULL,
            created_by          TEXT    NOT NULL,
            metrics_updated_at  INTEGER,
            metrics_updated_by  TEXT,
            PRIMARY KEY (model_id, number)
        ) STRICT;
        CREATE INDEX versions_by_sha256 ON versions(sha256);

        CREATE TABLE metrics_history (
            id          INTEGER PRIMARY KEY,
            model_id    INTEGER NOT NULL,
            version     INTEGER NOT NULL,
            metrics     TEXT    NOT NULL,
            at          INTEGER NOT NULL,
            by_user     TEXT    NOT NULL,
            FOREIGN KEY (model_id, version) REFERENCES versions(model_id, number) ON DELETE CASCADE
        ) STRICT;
        CREATE INDEX metrics_history_by_version ON metrics_history(model_id, version, id);

        CREATE TABLE aliases (
            model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            name        TEXT    NOT NULL,
            version     INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL,
            updated_by  TEXT    NOT NULL,
            PRIMARY KEY (model_id, name),
            FOREIGN KEY (model_id, version) REFERENCES versions(model_id, number) ON DELETE CASCADE
        ) STRICT;

        -- Every alias move: old_version NULL = created, new_version NULL = deleted.
        CREATE TABLE alias_history (
            id          INTEGER PRIMARY KEY,
            model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            alias       TEXT    NOT NULL,
            old_version INTEGER,
            new_version INTEGER,
            at          INTEGER NOT NULL,
            by_user     TEXT    NOT NULL
        ) STRICT;
        CREATE INDEX alias_history_by_alias ON alias_history(model_id, alias, id);

        -- Exactly one of user_id and group_id is set. role: 1 reader, 2 writer, 3 owner.
        CREATE TABLE permissions (
            model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
            group_id    INTEGER REFERENCES groups(id) ON DELETE CASCADE,
            role        INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),
            granted_at  INTEGER NOT NULL,
            granted_by  TEXT    NOT NULL,
            CHECK ((user_id IS NULL) <> (group_id IS NULL))
        ) STRICT;
        CREATE UNIQUE INDEX permissions_user ON permissions(model_id, user_id) WHERE user_id IS NOT NULL;
        CREATE UNIQUE INDEX permissions_group ON permissions(model_id, group_id) WHERE group_id IS NOT NULL;
        CREATE INDEX permissions_by_user ON permissions(user_id) WHERE user_id IS NOT NULL;
        CREATE INDEX permissions_by_group ON permissions(group_id) WHERE group_id IS NOT NULL;
        """
}
