SELECT
  toDate(orders.created_at) - (
    toDayOfWeek(orders.created_at) + 6 - 0
  ) % 7 AS "created_at_week",
  COUNT(orders.id) AS "orders.count"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  toDate(orders.created_at) - (
    toDayOfWeek(orders.created_at) + 6 - 0
  ) % 7
ORDER BY
  "orders.count" DESC
LIMIT 10
