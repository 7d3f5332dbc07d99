SELECT
  orders.status AS `status`,
  SUM(orders.amount) / NULLIF(COUNT(orders.id), 0) AS `average_order`
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  orders.status
ORDER BY
  `average_order` DESC
LIMIT 1000
