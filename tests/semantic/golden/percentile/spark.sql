SELECT
  PERCENTILE(orders.amount, 0.9) AS `p90_amount`
FROM gnomon_semantic_test.orders AS orders
ORDER BY
  `p90_amount` DESC
LIMIT 1000
