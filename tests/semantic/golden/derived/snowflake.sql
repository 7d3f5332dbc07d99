SELECT
  orders.status AS "status",
  SUM(orders.amount) / NULLIF(COUNT(orders.id), 0) AS "average_order"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  orders.status
ORDER BY
  "average_order" DESC NULLS LAST
LIMIT 1000
