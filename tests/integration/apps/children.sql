-- children.sql: an old application of tables parents and children, for
-- pgbench: it never names tenant_id.  It adds children, moves them to
-- other parents, edits and deletes them; each write is logged in childlog
-- in the same statement ('ins', 'move', 'v', 'del').
\set id random(1, :rows)
\set parent random(1, :parents)
\set op random(1, 10)
\set v random(1, 1000000)
SELECT c.v, p.name FROM children c JOIN parents p ON p.id = c.parent_id WHERE c.id = :id;
\if :op <= 2
WITH w AS (INSERT INTO children (parent_id, v) VALUES (:parent, :v) RETURNING id, parent_id, v)
INSERT INTO childlog (child, kind, parent_id, v) SELECT id, 'ins', parent_id, v FROM w;
\elif :op <= 5
WITH w AS (UPDATE children SET parent_id = :parent WHERE id = :id RETURNING id, parent_id)
INSERT INTO childlog (child, kind, parent_id) SELECT id, 'move', parent_id FROM w;
\elif :op <= 7
WITH w AS (UPDATE children SET v = :v WHERE id = :id RETURNING id, v)
INSERT INTO childlog (child, kind, v) SELECT id, 'v', v FROM w;
\elif :op = 8
WITH w AS (DELETE FROM children WHERE id = :id RETURNING id)
INSERT INTO childlog (child, kind) SELECT id, 'del' FROM w;
\endif
