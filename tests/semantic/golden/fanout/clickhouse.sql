WITH agg_main AS (
  SELECT
    products.category AS d0,
    SUM(line_items.quantity) AS m2
  FROM gnomon_semantic_test.orders AS orders
  LEFT JOIN gnomon_semantic_test.line_items AS line_items
    ON line_items.order_id = orders.id
  LEFT JOIN gnomon_semantic_test.products AS products
    ON line_items.product_id = products.id
  GROUP BY
    products.category
), agg_orders AS (
  SELECT
    d0,
    SUM(__v0) AS m0,
    COUNT(__v1) AS m1
  FROM (
    SELECT DISTINCT
      products.category AS d0,
      orders.id AS __k,
      orders.amount AS __v0,
      orders.id AS __v1
    FROM gnomon_semantic_test.orders AS orders
    LEFT JOIN gnomon_semantic_test.line_items AS line_items
      ON line_items.order_id = orders.id
    LEFT JOIN gnomon_semantic_test.products AS products
      ON line_items.product_id = products.id
  ) AS __rows
  GROUP BY
    d0
), merged AS (
  SELECT
    d0,
    MAX(m2) AS m2,
    MAX(m0) AS m0,
    MAX(m1) AS m1
  FROM (
    SELECT
      d0,
      m2,
      NULL AS m0,
      NULL AS m1
    FROM agg_main
    UNION ALL
    SELECT
      d0,
      NULL AS m2,
      m0,
      m1
    FROM agg_orders
  ) AS __blocks
  GROUP BY
    d0
)
SELECT
  merged.d0 AS "products.category",
  merged.m0 AS "total_revenue",
  merged.m1 AS "orders.count",
  merged.m2 AS "line_items.total_quantity"
FROM merged
ORDER BY
  "total_revenue" DESC
LIMIT 1000
