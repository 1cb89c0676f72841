-- items.sql: an old application of table items (a, b, s), for pgbench.  It
-- never names a column a migration adds; each write is logged in applog in
-- the same statement, for the test to know what the application wrote:
-- kind 'ins' (a, b, s), 'ab' (a and b), 's' (s alone), 'del'.  The values
-- of s it writes are at most 5 characters long.
\set id random(1, :rows)
\set op random(1, 10)
\set v random(1, 1000000)
SELECT a, b, s FROM items WHERE id = :id;
\if :op <= 2
WITH w AS (INSERT INTO items (a, b, s) VALUES (:v, 'i' || :v, 'n' || (:v % 1000))
	RETURNING id, a, b, s)
INSERT INTO applog (item, kind, a, b, s) SELECT id, 'ins', a, b, s FROM w;
\elif :op <= 5
WITH w AS (UPDATE items SET a = :v, b = 'u' || :v WHERE id = :id RETURNING id, a, b)
INSERT INTO applog (item, kind, a, b) SELECT id, 'ab', a, b FROM w;
\elif :op <= 7
WITH w AS (UPDATE items SET s = 'w' || (:v % 1000) WHERE id = :id RETURNING id, s)
INSERT INTO applog (item, kind, s) SELECT id, 's', s FROM w;
\elif :op = 8
WITH w AS (DELETE FROM items WHERE id = :id RETURNING id)
INSERT INTO applog (item, kind) SELECT id, 'del' FROM w;
\else
UPDATE items SET b = b WHERE id = :id;
\endif
