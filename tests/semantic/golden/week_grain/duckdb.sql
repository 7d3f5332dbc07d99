SELECT
  CAST(orders.created_at AS DATE) - CAST((
    ISODOW(orders.created_at) + 6 - 0
  ) % 7 AS INT) AS "created_at_week",
  COUNT(orders.id) AS "orders.count"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  CAST(orders.created_at AS DATE) - CAST((
    ISODOW(orders.created_at) + 6 - 0
  ) % 7 AS INT)
ORDER BY
  "orders.count" DESC
LIMIT 10
