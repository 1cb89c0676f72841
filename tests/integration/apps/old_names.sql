-- old_names.sql: the application before the renames, for pgbench: table
-- users, column name; it selects, inserts (... RETURNING), updates and
-- deletes.  Each write is logged in namelog in the same
-- statement (the row's id and the name it wrote).
\set id random(1, :rows)
\set v random(1, 1000000)
\set op random(1, 5)
SELECT id, name FROM users WHERE id = :id;
\if :op = 1
WITH w AS (INSERT INTO users (name) VALUES ('o' || :v) RETURNING id, name)
INSERT INTO namelog (item, name) SELECT id, name FROM w;
\elif :op = 2
WITH w AS (UPDATE users SET name = 'u' || :v WHERE id = :id RETURNING id, name)
INSERT INTO namelog (item, name) SELECT id, name FROM w;
\elif :op = 3
BEGIN;
INSERT INTO users (name) VALUES ('r' || :v) RETURNING id AS new_id, created \gset
INSERT INTO namelog (item, name) VALUES (:new_id, 'r' || :v);
COMMIT;
\elif :op = 4
DELETE FROM users WHERE id = :id AND id > 100;
\endif
