-- A chat's messages are found on the primary key (its main thread, and
-- the range of its "<id>::child::" threads: see SQL.byChat), so the index
-- on chat_id only cost every stored message one more index insert. The
-- column stays: PostgreSQL keeps its index, and the schemas keep one shape.
DROP INDEX IF EXISTS messages_chat;
