-- Open WebUI's tables that hold personal data, on SQLite, as its alembic
-- migrations leave them at revision 3781e22d8b01 ("Update message & channel
-- tables", 2024-12-30, the v0.5 series), transcribed from:
--   7e5b5dc7342b_init.py                 auth, chat, chatidtag, file, memory, tag, user
--   242a2047eae0_update_chat_table.py    chat.chat: TEXT -> JSON
--   1af9b942657b_migrate_tags.py         tag.data dropped, tag.meta; chat.pinned, chat.meta
--   3ab32c4b8f59_update_tags.py          tag primary key (id, user_id)
--   c69f45358db4_add_folder_table.py     folder, chat.folder_id
--   c29facfe716b_update_file_table_path.py  file.path, file.meta: JSON
--   c0fbf31ca0db_update_file_table.py    file.hash, file.data, file.updated_at
--   4ace53fd72c8_update_folder_table_datetime.py  folder timestamps: BIGINT epoch seconds
--   57c599a3cb57_add_channel_table.py    channel, message
--   7826ab40b532_update_file_table.py    file.access_control
--   3781e22d8b01_update_message_table.py channel.type, message.parent_id, message_reaction, channel_member
-- SQLAlchemy's String is VARCHAR, Text TEXT, BigInteger BIGINT, JSON JSON (text),
-- and Open WebUI's JSONField TEXT. Tables without personal data (config,
-- function, tool, model, prompt, knowledge, group, feedback, document) are
-- left out. SQLite: batch_alter_table rebuilt tag with its primary key
-- (id, user_id) over the nullable user_id of the init revision.
CREATE TABLE auth (
  id VARCHAR NOT NULL,
  email VARCHAR,
  password TEXT,
  active BOOLEAN,
  PRIMARY KEY (id)
);
CREATE TABLE "user" (
  id VARCHAR NOT NULL,
  name VARCHAR,
  email VARCHAR,
  role VARCHAR,
  profile_image_url TEXT,
  last_active_at BIGINT,
  updated_at BIGINT,
  created_at BIGINT,
  api_key VARCHAR,
  settings TEXT,
  info TEXT,
  oauth_sub TEXT,
  PRIMARY KEY (id),
  UNIQUE (api_key),
  UNIQUE (oauth_sub)
);
CREATE TABLE chat (
  id VARCHAR NOT NULL,
  user_id VARCHAR,
  title TEXT,
  created_at BIGINT,
  updated_at BIGINT,
  share_id TEXT,
  archived BOOLEAN,
  pinned BOOLEAN,
  meta JSON DEFAULT '{}' NOT NULL,
  chat JSON,
  folder_id TEXT,
  PRIMARY KEY (id),
  UNIQUE (share_id)
);
CREATE TABLE chatidtag (
  id VARCHAR NOT NULL,
  tag_name VARCHAR,
  chat_id VARCHAR,
  user_id VARCHAR,
  timestamp BIGINT,
  PRIMARY KEY (id)
);
CREATE TABLE tag (
  id VARCHAR NOT NULL,
  name VARCHAR,
  user_id VARCHAR,
  meta JSON,
  CONSTRAINT pk_id_user_id PRIMARY KEY (id, user_id)
);
CREATE TABLE folder (
  id TEXT NOT NULL,
  parent_id TEXT,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  items JSON,
  meta JSON,
  is_expanded BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (id, user_id)
);
CREATE TABLE file (
  id VARCHAR NOT NULL,
  user_id VARCHAR,
  filename TEXT,
  meta JSON,
  created_at BIGINT,
  hash TEXT,
  data JSON,
  updated_at BIGINT,
  path TEXT,
  access_control JSON,
  PRIMARY KEY (id)
);
CREATE TABLE memory (
  id VARCHAR NOT NULL,
  user_id VARCHAR,
  content TEXT,
  updated_at BIGINT,
  created_at BIGINT,
  PRIMARY KEY (id)
);
CREATE TABLE channel (
  id TEXT NOT NULL UNIQUE,
  user_id TEXT,
  name TEXT,
  description TEXT,
  data JSON,
  meta JSON,
  access_control JSON,
  created_at BIGINT,
  updated_at BIGINT,
  type TEXT,
  PRIMARY KEY (id)
);
CREATE TABLE message (
  id TEXT NOT NULL UNIQUE,
  user_id TEXT,
  channel_id TEXT,
  content TEXT,
  data JSON,
  meta JSON,
  created_at BIGINT,
  updated_at BIGINT,
  parent_id TEXT,
  PRIMARY KEY (id)
);
CREATE TABLE message_reaction (
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at BIGINT,
  PRIMARY KEY (id)
);
CREATE TABLE channel_member (
  id TEXT NOT NULL UNIQUE,
  channel_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at BIGINT,
  PRIMARY KEY (id)
);
