SELECT
  toDate(dateTrunc('MONTH', orders.created_at)) AS "created_at_month",
  COUNT(DISTINCT orders.customer_id) AS "customer_count"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  toDate(dateTrunc('MONTH', orders.created_at))
ORDER BY
  "created_at_month" ASC
LIMIT 1000
