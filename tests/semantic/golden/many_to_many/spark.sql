WITH agg_orders AS (
  SELECT
    d0,
    SUM(__v0) AS m0
  FROM (
    SELECT DISTINCT
      tags.label AS d0,
      orders.id AS __k,
      orders.amount AS __v0
    FROM gnomon_semantic_test.orders AS orders
    LEFT JOIN gnomon_semantic_test.line_items AS line_items
      ON line_items.order_id = orders.id
    LEFT JOIN gnomon_semantic_test.products AS products
      ON line_items.product_id = products.id
    LEFT JOIN gnomon_semantic_test.product_tags AS product_tags
      ON products.id = product_tags.product_id
    LEFT JOIN gnomon_semantic_test.tags AS tags
      ON product_tags.tag_id = tags.id
  ) AS __rows
  GROUP BY
    d0
)
SELECT
  agg_orders.d0 AS `tags.label`,
  agg_orders.m0 AS `total_revenue`
FROM agg_orders
ORDER BY
  `total_revenue` DESC
LIMIT 1000
