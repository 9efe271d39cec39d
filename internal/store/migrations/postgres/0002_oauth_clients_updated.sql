-- When a client registration was last written (Unix microseconds; 0 for
-- rows written before this column existed), so that SweepClients keeps the
-- newest ones under its cap.
ALTER TABLE oauth_clients ADD COLUMN updated BIGINT NOT NULL DEFAULT 0;
