-- Times are Unix microseconds (BIGINT) on both engines, so one set of
-- queries serves both and ordering is exact.
CREATE TABLE chats (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX chats_user_created ON chats (user_id, created_at);
CREATE TABLE messages (
    thread        TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    chat_id       TEXT NOT NULL,
    role          TEXT NOT NULL,
    request_id    TEXT NOT NULL DEFAULT '',
    usage_source  TEXT NOT NULL DEFAULT '',
    input_tokens  BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (thread, seq)
);
CREATE INDEX messages_chat ON messages (chat_id);
CREATE TABLE oauth_pending (
    key     TEXT PRIMARY KEY,
    blob    BYTEA NOT NULL,
    expires BIGINT NOT NULL
);
CREATE TABLE oauth_tokens (
    key     TEXT PRIMARY KEY,
    blob    BYTEA NOT NULL,
    expires BIGINT NOT NULL
);
CREATE TABLE oauth_clients (
    key  TEXT PRIMARY KEY,
    blob BYTEA NOT NULL
);
CREATE INDEX oauth_pending_expires ON oauth_pending (expires);
CREATE INDEX oauth_tokens_expires ON oauth_tokens (expires);
