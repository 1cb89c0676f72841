-- new_names.sql: the application after the renames, for pgbench: table
-- accounts, column full_name; its writes are logged as old_names.sql's.
\set id random(1, :rows)
\set v random(1, 1000000)
\set op random(1, 3)
SELECT id, full_name FROM accounts WHERE id = :id;
\if :op = 1
WITH w AS (INSERT INTO accounts (full_name) VALUES ('N' || :v) RETURNING id, full_name)
INSERT INTO namelog (item, name) SELECT id, full_name FROM w;
\elif :op = 2
WITH w AS (UPDATE accounts SET full_name = 'U' || :v WHERE id = :id RETURNING id, full_name)
INSERT INTO namelog (item, name) SELECT id, full_name FROM w;
\endif
