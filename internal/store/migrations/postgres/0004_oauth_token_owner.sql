-- The clear part of a stored token (store.TokenRef): the Rancher user it
-- belongs to, the agent and the issuer, so that a user's connections can be
-- listed and a user's or an agent's tokens revoked; and when a replica last
-- recorded its use (Unix microseconds, 0: never). Rows written before this
-- migration have empty values until their next write (a refresh).
ALTER TABLE oauth_tokens ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_tokens ADD COLUMN agent TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_tokens ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_tokens ADD COLUMN last_used BIGINT NOT NULL DEFAULT 0;
CREATE INDEX oauth_tokens_user ON oauth_tokens (user_id, agent);
CREATE INDEX oauth_tokens_agent ON oauth_tokens (agent);
