-- workload.sql: the application as it was before the migrations, for
-- pgbench.  It reads by primary key, places orders, edits notes and signs
-- up customers, and never names a column that a migration adds (status,
-- email_normalized, total_cents, tenant_id): that is the code which must
-- keep working while `migrate apply --online` runs.
--
--   pgbench -n -c 2 -T 60 -f scripts/workload.sql \
--       -D customers=N -D products=N -D orders=N
\set cid random(1, :customers)
\set pid random(1, :products)
\set oid random(1, :orders)
\set action random(1, 10)
SELECT id, email, name FROM customers WHERE id = :cid;
SELECT id, sku, name, price_cents FROM products WHERE id = :pid;
SELECT id, customer_id, created_at, note FROM orders WHERE id = :oid;
\if :action <= 3
BEGIN;
INSERT INTO orders (customer_id, note) VALUES (:cid, 'placed during the migration') RETURNING id AS new_order \gset
INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price_cents)
SELECT :new_order, 1, id, 2, price_cents FROM products WHERE id = :pid;
COMMIT;
\elif :action <= 5
UPDATE orders SET note = 'edited during the migration' WHERE id = :oid;
\elif :action = 6
INSERT INTO customers (email, name)
VALUES ('Guest' || txid_current() || '@Example.com', 'Guest');
\endif
