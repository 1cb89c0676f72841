-- shop-data.sql: fills the tables of migrations/0001_create_shop.yaml with
-- made-up data.  psql variable orders (default 100000) sets the size:
-- orders/10 customers (at least 100), 1000 products, and about 3 lines per
-- order.  Ids are explicit, so the sequences are moved past them at the end.
--
--   psql -v ON_ERROR_STOP=1 -v orders=100000 -f scripts/shop-data.sql
\if :{?orders}
\else
\set orders 100000
\endif
SELECT greatest(:orders / 10, 100) AS customers, 1000 AS products \gset

BEGIN;

-- Mixed-case addresses, so that lower() in 0002 has work to do.
INSERT INTO customers (id, email, name, created_at)
SELECT i, 'Customer' || i || '@Example.com', 'Customer ' || i,
       now() - make_interval(days => i % 730)
  FROM generate_series(1, :customers) AS i;

INSERT INTO products (id, sku, name, price_cents)
SELECT i, 'SKU-' || lpad(i::text, 6, '0'), 'Product ' || i, 100 + (i * 37) % 10000
  FROM generate_series(1, :products) AS i;

INSERT INTO orders (id, customer_id, created_at, note)
SELECT i, 1 + i % :customers, now() - make_interval(mins => i % 500000),
       CASE WHEN i % 7 = 0 THEN 'Leave at the door' END
  FROM generate_series(1, :orders) AS i;

-- One to five lines per order (three on average), distinct products.
INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price_cents)
SELECT o.id, l, p.id, 1 + (o.id + l) % 4, p.price_cents
  FROM orders AS o
 CROSS JOIN LATERAL generate_series(1, 1 + (o.id % 5)::integer) AS l
  JOIN products AS p ON p.id = 1 + (o.id * 7 + l * 13) % :products;

SELECT setval(pg_get_serial_sequence('customers', 'id'), :customers),
       setval(pg_get_serial_sequence('products', 'id'), :products),
       setval(pg_get_serial_sequence('orders', 'id'), :orders) \g /dev/null

COMMIT;

ANALYZE customers, products, orders, order_items;
