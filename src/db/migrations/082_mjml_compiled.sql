-- MJML's output by its input (src/render/mjml-cache.ts): the key is a hash of MJML's version, the options and the
-- source, so a row can only ever answer the compile it came from. A later run of an edition (the next delivery
-- hour, a resumed send, an admin's second preview) then needs no MJML at all: no thread, no second of loading,
-- none of its memory at the send's start.
CREATE TABLE mjml_compiled (
  key        TEXT PRIMARY KEY,
  html       TEXT NOT NULL,
  errors     TEXT NOT NULL,  -- JSON: what MJML warned about, as compiles return it
  created_at TEXT NOT NULL
);
CREATE INDEX mjml_compiled_created ON mjml_compiled(created_at);
