SELECT
  DATE(orders.created_at, 'start of month') AS "created_at_month",
  COUNT(DISTINCT orders.customer_id) AS "customer_count"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  DATE(orders.created_at, 'start of month')
ORDER BY
  "created_at_month" ASC NULLS LAST
LIMIT 1000
