SELECT
  orders.status AS `status`,
  PERCENTILE(orders.amount, 0.5) AS `median_amount`
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  orders.status
ORDER BY
  `median_amount` DESC
LIMIT 1000
