SELECT
  CAST(DATE_TRUNC('MONTH', orders.created_at) AS DATE) AS "created_at_month",
  COUNT(DISTINCT orders.customer_id) AS "customer_count"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  CAST(DATE_TRUNC('MONTH', orders.created_at) AS DATE)
ORDER BY
  "created_at_month" ASC
LIMIT 1000
