SELECT
  orders.status AS "status",
  SUM(orders.amount) AS "total_revenue"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  orders.status
ORDER BY
  "total_revenue" DESC
LIMIT 1000
